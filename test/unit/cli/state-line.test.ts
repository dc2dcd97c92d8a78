// The ready banner's State line (core/cli/banner.ts): where the shared state lives, never a Redis password.
import t from 'tap';
import { stateLine } from '../../../core/cli/banner.js';

const base = { keyPrefix: 'epcscf:', commandTimeoutMs: 1000, dialogTtlMs: 86_400_000 };

t.test('the banner names the state home: memory, a Redis URL without its password, or a Sentinel-watched primary', async (t) => {
  t.match(stateLine(undefined), /^in memory/);
  const url = stateLine({ ...base, url: 'redis://epcscf:s3cret-pw@10.0.0.5:6380/2' });
  t.equal(url, 'Redis at 10.0.0.5:6380 db 2 (key prefix epcscf:)');
  t.notMatch(url, /s3cret/, 'the password never shows');
  t.equal(stateLine({ ...base, url: 'rediss://10.0.0.5' }), 'Redis (TLS) at 10.0.0.5 (key prefix epcscf:)');
  t.equal(stateLine({ ...base, sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }], name: 'state' }),
    'Redis primary "state" via Sentinel 10.0.0.1:26379, 10.0.0.2:26379 (key prefix epcscf:)');
});

t.test('sentinels / clusterNodes with AUTH and TLS: the banner says TLS, the ACL user and that a password is set, never the password', async (t) => {
  const cluster = stateLine({ ...base, clusterNodes: [{ host: '10.0.0.11', port: 7000 }], username: 'epcscf', password: 's3cret-pw', tls: true });
  t.equal(cluster, 'Redis Cluster via 10.0.0.11:7000 (key prefix epcscf:, TLS, user epcscf, password set)');
  const sentinel = stateLine({ ...base, sentinels: [{ host: '10.0.0.1', port: 26379 }], name: 'state', password: 's3cret-pw', sentinelPassword: 'sent-s3cret' });
  t.equal(sentinel, 'Redis primary "state" via Sentinel 10.0.0.1:26379 (key prefix epcscf:, password set)');
  t.notMatch(cluster + sentinel, /s3cret/, 'the password never shows');
});
