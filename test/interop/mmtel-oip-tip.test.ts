// Issue #14 OIP/OIR (TS 24.607) and TIP/TIR (TS 24.608) over JSON-RPC with real peers: a sipp UAC
// calls a JSON-RPC client through Kamailio and epcscf with P-Asserted-Identity and Privacy
// (RFC 3323/3325); a JSON-RPC client calls a sipp UAS that answers with P-Asserted-Identity.
// What the client is shown must never carry a restricted identity.
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { startEpcscf, startImsCore, type EpcscfUnderTest, type ImsCoreStandIn } from '../support/epcscf-harness.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { runSipp, startSippUas } from '../support/peers/sipp.js';

const sipp = (file: string): string => fileURLToPath(new URL(`../../examples/sipp/${file}`, import.meta.url));
const UAC_PRIVACY = sipp('uac-privacy.xml');
const UAS_PAI = sipp('uas-pai.xml');
const OFFER = [
  'v=0', 'o=- 20518 0 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', '',
].join('\r\n');

interface Rig { core: ImsCoreStandIn; epcscf: EpcscfUnderTest; alice: RpcWsClient }

async function setUp(t: Test): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp'), extraPlugins: [{ name: 'jsonrpc-ws' }] });
  t.teardown(() => epcscf.close());
  const alice = await RpcWsClient.connect(`${epcscf.baseUrl}/jsonrpc`);
  t.teardown(() => alice.close());
  const registered = await alice.request('session.register', { impu: 'sip:alice@ims.test', password: 'alicepw' });
  if (registered['state'] !== 'registered') throw new Error(`alice did not register: ${JSON.stringify(registered)}`);
  return { core, epcscf, alice };
}

/** A sipp UAC (via Kamailio) calls alice asserting carol, with `privacy`; alice answers; returns call.incoming. */
async function callAlice(t: Test, rig: Rig, privacy: string): Promise<Record<string, unknown>> {
  const uacPort = await allocatePort();
  t.teardown(() => releasePort(uacPort));
  const run = runSipp([`127.0.0.1:${rig.core.port}`, '-sf', UAC_PRIVACY, '-s', 'alice', '-key', 'domain', 'ims.test',
    '-key', 'pai', 'carol@ims.test', '-key', 'privacy', privacy,
    '-m', '1', '-i', '127.0.0.1', '-p', String(uacPort), '-d', '200'], { timeoutMs: 15_000 });
  const incoming = await rig.alice.notification('call.incoming', undefined, 10_000);
  await rig.alice.request('call.answer', { callId: String(incoming['callId']), sdp: OFFER });
  const done = await run;
  t.equal(done.code, 0, 'the sipp call completed', { sippOutput: done.stdout.slice(-1500) });
  return incoming;
}

t.test('TS 24.607 OIP: call.incoming shows the asserted calling identity when the caller allows it', async (t) => {
  const rig = await setUp(t);
  const incoming = await callAlice(t, rig, 'none');
  t.same(incoming['from'], { uri: 'sip:carol@ims.test', anonymous: false }, 'from = the P-Asserted-Identity, not restricted');
});

t.test('TS 24.607 OIR: a caller with Privacy: id is shown anonymous and the hidden identity never reaches the client', async (t) => {
  const rig = await setUp(t);
  const incoming = await callAlice(t, rig, 'id');
  t.same(incoming['from'], { uri: 'sip:anonymous@anonymous.invalid', anonymous: true }, 'RFC 3323 §4.1.1.3 anonymous URI');
  t.notMatch(JSON.stringify(incoming), /carol/, 'the restricted identity appears nowhere in call.incoming');
});

/** alice calls a sipp UAS that answers asserting `pai` with `privacy`; returns call.answered. */
async function callUas(t: Test, rig: Rig, privacy: string): Promise<Record<string, unknown>> {
  const uasPort = await allocatePort();
  const uas = await startSippUas({ port: uasPort, calls: 1, scenario: UAS_PAI, extraArgs: ['-key', 'pai', 'dave@ims.test', '-key', 'privacy', privacy] });
  t.teardown(async () => { await uas.stop(); releasePort(uasPort); });
  const { callId } = await rig.alice.request('call.invite', { to: `sip:uas@127.0.0.1:${uasPort}`, sdp: OFFER });
  const answered = await rig.alice.notification('call.answered', (p) => p['callId'] === callId, 10_000);
  await rig.alice.request('call.hangup', { callId });
  await rig.alice.notification('call.ended', (p) => p['callId'] === callId);
  return answered;
}

t.test('TS 24.608 TIP: call.answered carries the connected identity from the 200\'s P-Asserted-Identity', async (t) => {
  const rig = await setUp(t);
  const answered = await callUas(t, rig, 'none');
  t.same(answered['connected'], { uri: 'sip:dave@ims.test', anonymous: false });
});

t.test('TS 24.608 TIR: a callee answering with Privacy: id is shown anonymous, never its identity', async (t) => {
  const rig = await setUp(t);
  const answered = await callUas(t, rig, 'id');
  t.same(answered['connected'], { uri: 'sip:anonymous@anonymous.invalid', anonymous: true });
  t.notMatch(JSON.stringify(answered), /dave/, 'the restricted identity appears nowhere in call.answered');
});
