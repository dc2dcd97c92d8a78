/**
 * Issue 11 #7: flow tokens survive a restart when cluster.flowSecret is set. A terminating
 * request toward a binding made before the restart then gets 430 Flow Failed (RFC 5626 §5.3:
 * the token verifies, the flow is gone), not 403 "invalid flow token"; with another key it is
 * still a 403. The secret never appears in logs, the banner or the admin API.
 */
import { Writable } from 'node:stream';
import t, { type Test } from 'tap';
import { pino } from 'pino';
import { readyBanner, startRuntime } from '../../core/cli/index.js';
import { resolveConfig } from '../../core/config/index.js';
import { Pcscf } from '../../core/pcscf/index.js';
import { createRequest, getHeader } from '../../core/sip/index.js';
import { FakeImsCore } from '../support/fake-ims-core.js';
import { contact, FakeWic, register } from '../support/pcscf-rig.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { allocatePorts } from '../support/peers/ports.js';

const SECRET = 'flow-secret-0123456789-abcdefghijklmnop';

async function pcscfOn(core: FakeImsCore, mwPort: number, flowSecret: string): Promise<Pcscf> {
  const config = resolveConfig({
    w2: { listen: '127.0.0.1:18080' },
    mw: { listen: [`udp:127.0.0.1:${mwPort}`], nextHop: `sip:127.0.0.1:${core.port};transport=udp`, domain: 'ims.test' },
    cluster: { flowSecret }, log: { level: 'silent' },
  }, { configDir: process.cwd(), env: {} });
  return Pcscf.start({ config, nodeId: 'node1', flowSecret: config.cluster.flowSecret ?? '' });
}

/** Registers alice through a first P-CSCF, "restarts" it (a new one on the same Mw port) and sends a MESSAGE along her Path. */
async function afterRestart(t: Test, secretAfter: string): Promise<number> {
  const core = await FakeImsCore.start();
  t.teardown(() => core.close());
  const [mwPort = 0] = await allocatePorts(1);
  const before = await pcscfOn(core, mwPort, SECRET);
  const wic = new FakeWic('conn-1');
  before.sessionOpened(wic.connection, wic);
  await before.fromClient('conn-1', register(1));
  const atCore = await core.request('REGISTER');
  core.answer(atCore, 200, { headers: [['Contact', `${contact};expires=600`], ['Path', getHeader(atCore, 'Path') ?? '']] });
  await wic.response(200, 'REGISTER');
  const path = getHeader(atCore, 'Path') ?? '';
  await before.close();

  const after = await pcscfOn(core, mwPort, secretAfter);
  t.teardown(() => after.close());
  core.send(createRequest({ method: 'MESSAGE', uri: 'sip:alice@df7jal23ls0d.invalid', headers: [
    ['Via', `SIP/2.0/UDP 127.0.0.1:${core.port};branch=z9hG4bKrestart1`], ['Max-Forwards', '68'], ['Route', path],
    ['From', '<sip:carol@ims.test>;tag=c2'], ['To', '<sip:alice@ims.test>'], ['Call-ID', 'after-restart'], ['CSeq', '1 MESSAGE'],
  ] }), { host: '127.0.0.1', port: mwPort });
  const answer = await Promise.race([core.response(430, 'MESSAGE'), core.response(403, 'MESSAGE')]);
  return answer.status;
}

t.test('issue 11 #7, RFC 5626 §5.3: with the same cluster.flowSecret, a request for a flow from before the restart gets 430 Flow Failed', async (t) => {
  t.equal(await afterRestart(t, SECRET), 430);
});

t.test('issue 11 #7: with another key the old token does not verify: 403', async (t) => {
  t.equal(await afterRestart(t, 'another-secret-0123456789-abcdefghijklmn'), 403);
});

t.test('issue 11 #7: cluster.flowSecret comes from the config or EPCSCF_CLUSTER_FLOW_SECRET and must be long enough', async (t) => {
  t.equal(resolveConfig({}, { configDir: process.cwd(), env: { EPCSCF_CLUSTER_FLOW_SECRET: SECRET } }).cluster.flowSecret, SECRET);
  t.throws(() => resolveConfig({ cluster: { flowSecret: 'short' } }, { configDir: process.cwd(), env: {} }), /cluster\/flowSecret|cluster\.flowSecret/);
});

/** The runtime's log lines, captured. */
function capturingLogger(): { logger: pino.Logger; text: () => string } {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
  return { logger: pino({ level: 'trace' }, stream), text: () => lines.join('') };
}

t.test('issue 11 #7: the runtime uses the secret and never shows it (logs, banner, admin API); without one it warns', async (t) => {
  const [w2Port, mwPort] = await allocatePorts(2);
  const key = 'admin-key-for-tests-0123456789';
  const config = resolveConfig({
    w2: { listen: `127.0.0.1:${w2Port}` }, mw: { listen: [`udp:127.0.0.1:${mwPort}`] }, media: { mode: 'off' }, admin: { bearerKey: key },
  }, { configDir: process.cwd(), env: { EPCSCF_CLUSTER_FLOW_SECRET: SECRET } });
  const log = capturingLogger();
  const runtime = await startRuntime(config, { logger: log.logger, devCorePort: 0 });
  t.teardown(() => runtime.close());
  const alice = await RpcWsClient.connect(`ws://127.0.0.1:${w2Port}/jsonrpc`);
  t.teardown(() => alice.close());
  t.equal((await alice.request('session.register', { impu: 'sip:alice@ims.test', password: 'alicepw' }))['state'], 'registered');
  const admin: string[] = [];
  for (const path of ['/admin/registrations', '/admin/sessions', '/ready', '/metrics']) {
    admin.push(await (await fetch(`http://127.0.0.1:${w2Port}${path}`, { headers: { authorization: `Bearer ${key}` } })).text());
  }
  const shown = [log.text(), readyBanner(runtime), ...admin].join('\n');
  t.notOk(shown.includes(SECRET), 'the secret is in no log line, the banner or any admin answer');
  t.notMatch(log.text(), /flowSecret is not set/, 'no warning when it is set');

  const [w2b, mwb] = await allocatePorts(2);
  const unset = capturingLogger();
  const second = await startRuntime(resolveConfig({ w2: { listen: `127.0.0.1:${w2b}` }, mw: { listen: [`udp:127.0.0.1:${mwb}`] }, media: { mode: 'off' } },
    { configDir: process.cwd(), env: {} }), { logger: unset.logger, devCorePort: 0 });
  t.teardown(() => second.close());
  t.match(unset.text(), /"level":40[^\n]*cluster\.flowSecret is not set/, 'a warning says tokens will not survive a restart');
});
