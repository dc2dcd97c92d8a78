// Issue #15 "Several nodes": media.ng accepts several gateways as one pool (schema, loader, env).
import t from 'tap';
import { resolveConfig } from '../../../core/config/index.js';

const noEnv = { configDir: '/', env: {} };

t.test('issue #15: media.ng.pool lists gateways (ip:port or { address, weight }); address joins them, each gateway once', async (t) => {
  const ng = resolveConfig({ media: { mode: 'ng', ng: {
    address: '127.0.0.1:2223', pool: ['127.0.0.1:2224', { address: '127.0.0.1:2223' }, { address: '[::1]:2225', weight: 3 }],
  } } }, noEnv).media.ng;
  t.same(ng?.gateways, [
    { address: { host: '127.0.0.1', port: 2223 }, weight: 1 },
    { address: { host: '127.0.0.1', port: 2224 }, weight: 1 },
    { address: { host: '::1', port: 2225 }, weight: 3 },
  ]);
  t.same(ng?.address, { host: '127.0.0.1', port: 2223 }, 'address: the first gateway');
  t.same(ng?.health, { intervalSeconds: 1, downAfterFailures: 3, upAfterSuccesses: 2 }, 'health-check defaults');

  const poolOnly = resolveConfig({ media: { mode: 'ng', ng: { pool: ['10.0.0.1:2223', '10.0.0.2:2223'], health: { intervalSeconds: 5, downAfterFailures: 2 } } } }, noEnv).media.ng;
  t.same(poolOnly?.gateways.map((g) => g.address.host), ['10.0.0.1', '10.0.0.2'], 'pool without address');
  t.same(poolOnly?.health, { intervalSeconds: 5, downAfterFailures: 2, upAfterSuccesses: 2 });
});

t.test('issue #15: EPCSCF_MEDIA_NG_POOL sets the pool from the environment', async (t) => {
  const ng = resolveConfig(null, { configDir: '/', env: { EPCSCF_MEDIA_MODE: 'ng', EPCSCF_MEDIA_NG_POOL: '127.0.0.1:22222, 127.0.0.1:22224' } }).media.ng;
  t.same(ng?.gateways.map((g) => g.address.port), [22222, 22224]);
});

t.test('issue #15: a pool entry that is no ip:port, a zero weight, or media.ng without address or pool is refused with the key named', async (t) => {
  t.throws(() => resolveConfig({ media: { mode: 'ng', ng: { pool: ['gw.example:2223'] } } }, noEnv), { code: 'EPC_ERR_CONFIG_INVALID', message: /media\.ng\.pool\[0\]/ });
  t.throws(() => resolveConfig({ media: { mode: 'ng', ng: { pool: [{ address: '127.0.0.1:1', weight: 0 }] } } }, noEnv), { message: /media\.ng\.pool\[0\]/ });
  t.throws(() => resolveConfig({ media: { mode: 'ng', ng: { timeoutMs: 100 } } }, noEnv), { message: /media\.ng/ });
  t.throws(() => resolveConfig({ media: { mode: 'ng', ng: { pool: ['127.0.0.1:1'], health: { downAfterFailures: 0 } } } }, noEnv), { message: /media\.ng\.health\.downAfterFailures/ });
});
