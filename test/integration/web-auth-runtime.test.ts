// The `epcscf` runtime with web authentication and the embedded dev IMS core (what `npm start`
// composes): the dev core trusts epcscf's Mw address, so a web token registers a WIC into it
// as a trusted node (R-REG-9), a guest from the pool too (scenario 3), and /metrics counts
// accepted and refused tokens; at shutdown epcscf de-registers its trusted-node registrations.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { pino } from 'pino';
import { startRuntime } from '../../core/cli/runtime.js';
import { resolveConfig } from '../../core/config/index.js';
import { allocatePorts } from '../support/peers/ports.js';
import { TEST_AUDIENCE, TEST_ISSUER, makeKey, signToken, writeJwksFile } from '../support/web-tokens.js';
import { JsSipUser } from '../support/wic/jssip-user.js';

const KEY = 'admin-key-for-tests-0123456789';

t.test('R-REG-9 in the runtime: the dev IMS core registers epcscf\'s web-authenticated users without a challenge; metrics count tokens', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'epcscf-webauth-rt-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const key = await makeKey('EdDSA', 'wwsf-1');
  await writeJwksFile(join(dir, 'jwks.json'), [key]);
  const [w2Port, mwPort] = await allocatePorts(2);
  const config = resolveConfig({
    w2: { listen: `127.0.0.1:${w2Port}`, pingIntervalSeconds: 0 }, mw: { listen: [`udp:127.0.0.1:${mwPort}`] }, media: { mode: 'off' }, admin: { bearerKey: KEY },
    webAuth: { issuers: [{ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: 'jwks.json' }, impuPool: ['sip:guest1@ims.test', 'sip:alice@ims.test'] }] },
    log: { level: 'silent' },
  }, { configDir: dir, env: {} });
  const runtime = await startRuntime(config, { logger: pino({ level: 'silent' }), devCorePort: 0 });
  t.teardown(() => runtime.close());
  const wsUrl = `ws://127.0.0.1:${w2Port}/sip`;

  for (const user of ['alice', 'guest1']) {
    const wic = await JsSipUser.connect({ wsUrl, user, extraHeaders: [`Authorization: Bearer ${await signToken({ key, claims: { sub: `${user}@ims.test`, impu: `sip:${user}@ims.test` } })}`] });
    t.teardown(() => wic.stop());
    t.equal(await wic.register(), 200, `${user} registered`);
    t.same(wic.capture.responses('received', 'REGISTER').map((r) => r.status), [200], `${user}: no challenge`);
    t.equal(runtime.devCore?.location.bindings(user).length, 1);
  }
  const bob = await JsSipUser.connect({ wsUrl, user: 'bob', extraHeaders: [`Authorization: Bearer ${await signToken({ key, claims: { sub: 'bob@ims.test', impu: 'sip:bob@ims.test' } })}`] });
  t.teardown(() => bob.stop());
  t.equal(await bob.register(), 403, 'bob is outside the pool');
  const digest = await JsSipUser.connect({ wsUrl, user: 'carol', password: 'carolpw' });
  t.teardown(() => digest.stop());
  t.equal(await digest.register(), 200, 'scenario 1 beside it: digest still works');

  const metrics = await (await fetch(`http://127.0.0.1:${w2Port}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })).text();
  t.match(metrics, /epcscf_web_tokens_accepted_total 2\b/);
  t.match(metrics, /epcscf_web_token_refusals_total\{reason="impu_not_in_pool"\} 1\b/);
  t.match(metrics, /epcscf_web_token_refusals_total\{reason="expired"\} 0\b/, 'every reason is exported from the start');
  t.match(metrics, /epcscf_trusted_node_deregistrations_total\{cause="flow-ended"\} 0\b/);

  // R-REG-25 on an operator's order: the admin API ends guest1's registration; epcscf de-registers it.
  const registrations = await (await fetch(`http://127.0.0.1:${w2Port}/admin/registrations`, { headers: { authorization: `Bearer ${KEY}` } })).json() as { items: { id: string; impu: string }[] };
  const guest = registrations.items.find((r) => r.impu === 'sip:guest1@ims.test');
  t.ok(guest, 'the admin API lists guest1');
  const deleted = await fetch(`http://127.0.0.1:${w2Port}/admin/registrations/${encodeURIComponent(guest?.id ?? '')}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
  t.equal(deleted.status, 204);
  for (let i = 0; i < 50 && runtime.devCore?.location.bindings('guest1').length !== 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(runtime.devCore?.location.bindings('guest1').length, 0, 'the core no longer has guest1');

  // R-REG-25 at shutdown: epcscf de-registers what it registered as a trusted node before Mw closes.
  await runtime.close();
  t.same(['alice', 'guest1', 'carol'].map((user) => runtime.devCore?.location.bindings(user).length), [0, 0, 1],
    'the trusted-node bindings are gone from the core; the digest one is the client\'s to remove');
});
