// Issue #5 proof (first part): a JSON-RPC client (json-rpc-2.0 over ws) registers through a
// real epcscf (W2 server + P-CSCF core + the jsonrpc-ws plugin driving core/ua) into Kamailio
// as the IMS core stand-in, calls a sipp UAS and hangs up. The SIP on Mw is checked for what a
// TS 24.229 UE behind a P-CSCF sends. Media off: the SDP passes unchanged.
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { getHeader, getHeaders } from '../../core/sip/index.js';
import { RpcWsClient, SUBPROTOCOL } from '../support/jsonrpc-client.js';
import { startEpcscf, startImsCore, type EpcscfUnderTest, type ImsCoreStandIn } from '../support/epcscf-harness.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { runSipp, SIPP_SCENARIOS, startSippUas } from '../support/peers/sipp.js';

const PLAIN_OFFER = [
  'v=0', 'o=- 20518 0 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=audio 40000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', '',
].join('\r\n');

async function setUpWithCore(t: Test): Promise<{ core: ImsCoreStandIn; epcscf: EpcscfUnderTest }> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp'), extraPlugins: [{ name: 'jsonrpc-ws' }] });
  t.teardown(() => epcscf.close());
  return { core, epcscf };
}

async function setUp(t: Test): Promise<EpcscfUnderTest> {
  return (await setUpWithCore(t)).epcscf;
}

async function client(t: Test, epcscf: EpcscfUnderTest): Promise<RpcWsClient> {
  const c = await RpcWsClient.connect(`${epcscf.baseUrl}/jsonrpc`);
  t.teardown(() => c.close());
  return c;
}

t.test('R-JR-1, R-REG-*: session.register over JSON-RPC registers through epcscf into Kamailio (digest, +sip.instance, Path)', async (t) => {
  const epcscf = await setUp(t);
  const alice = await client(t, epcscf);
  t.equal(alice.ws.protocol, SUBPROTOCOL, 'the private subprotocol is echoed (RFC 6455 §4.2.2)');
  const result = await alice.request('session.register', { impu: 'sip:alice@ims.test', password: 'alicepw' });
  t.equal(result['state'], 'registered', JSON.stringify(result));
  t.ok(Number(result['expires']) > 0);
  t.type(result['resumeToken'], 'string');
  const registers = epcscf.capture.requests('mw', 'out', 'REGISTER');
  t.ok(registers.length >= 2, 'a challenged REGISTER and the answered one went out on Mw');
  const answered = registers.at(-1);
  t.ok(answered && getHeader(answered, 'Authorization'), 'digest answered with the given password (scenario 1)');
  t.match(answered && getHeader(answered, 'Contact'), /\+sip\.instance="<urn:uuid:[0-9a-f-]+>"/, 'RFC 5626 +sip.instance');
  t.ok(answered && getHeaders(answered, 'Path').length > 0, 'the P-CSCF added its Path (R-REG-11)');
  await alice.notification('session.registration', (p) => p['state'] === 'registered');
});

t.test('R-JR-2/3: call.invite to a sipp UAS via Kamailio: call.progress 180, call.answered, call.hangup → BYE, call.ended', async (t) => {
  const epcscf = await setUp(t);
  const alice = await client(t, epcscf);
  await alice.request('session.register', { impu: 'sip:alice@ims.test', password: 'alicepw' });
  const uasPort = await allocatePort();
  const uas = await startSippUas({ port: uasPort, calls: 1 });
  t.teardown(async () => { await uas.stop(); releasePort(uasPort); });

  const { callId } = await alice.request('call.invite', { to: `sip:uas@127.0.0.1:${uasPort}`, sdp: PLAIN_OFFER });
  t.type(callId, 'string');
  const ringing = await alice.notification('call.progress', (p) => p['callId'] === callId);
  t.equal(ringing['sipStatus'], 180);
  const answered = await alice.notification('call.answered', (p) => p['callId'] === callId);
  t.match(answered['sdp'], /^v=0/, 'the UAS answer SDP reaches the client');
  const invite = epcscf.capture.requests('mw', 'out', 'INVITE')[0];
  t.ok(invite, 'the INVITE went out on Mw');
  t.equal(invite && getHeaders(invite, 'P-Asserted-Identity').length, 1, 'R-ORIG-2: one PAI asserted by the P-CSCF');
  t.ok(invite && getHeader(invite, 'P-Charging-Vector'), 'R-ORIG-5: icid');

  await alice.request('call.hangup', { callId });
  const ended = await alice.notification('call.ended', (p) => p['callId'] === callId);
  t.equal(ended['cause'], 'local');
  const status = await Promise.race([uas.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000).unref())]);
  t.equal(status?.code, 0, 'the sipp UAS saw INVITE, ACK and BYE and exited cleanly', { sippOutput: uas.output().slice(-1500) });
  t.equal(epcscf.capture.requests('mw', 'out', 'BYE').length, 1, 'one BYE on Mw');
});

t.test('R-TERM-4: a sipp UAC calls the JSON-RPC client via Kamailio: call.incoming, call.ring, call.answer, call.answered, BYE → call.ended remote', async (t) => {
  const { core, epcscf } = await setUpWithCore(t);
  const alice = await client(t, epcscf);
  await alice.request('session.register', { impu: 'sip:alice@ims.test', password: 'alicepw' });
  const uacPort = await allocatePort();
  t.teardown(() => releasePort(uacPort));
  const sipp = runSipp([`127.0.0.1:${core.port}`, '-sf', SIPP_SCENARIOS.uacRecordRoute, '-s', 'alice', '-key', 'domain', 'ims.test',
    '-m', '1', '-i', '127.0.0.1', '-p', String(uacPort), '-d', '300'], { timeoutMs: 15_000 });
  const incoming = await alice.notification('call.incoming');
  const callId = String(incoming['callId']);
  t.match(incoming['from'], { anonymous: false }, 'the caller is shown');
  t.match(String((incoming['from'] as Record<string, unknown>)['uri']), /^sips?:/);
  await alice.request('call.ring', { callId });
  await alice.request('call.answer', { callId, sdp: PLAIN_OFFER });
  await alice.notification('call.answered', (p) => p['callId'] === callId);
  const run = await sipp;
  t.equal(run.code, 0, 'sipp UAC completed INVITE/180/200/ACK/BYE', { sippOutput: run.stdout.slice(-1500) });
  const ended = await alice.notification('call.ended', (p) => p['callId'] === callId);
  t.equal(ended['cause'], 'remote');
  const ok = epcscf.capture.responses('mw', 'out', 'INVITE').find((r) => r.status === 200);
  t.ok(ok && getHeaders(ok, 'P-Asserted-Identity').length === 1, 'R-TERM-3: PAI asserted on the 200 toward the IMS');
});

t.test('F-JR-1: bad input on a real connection gets JSON-RPC errors; the server and another client carry on', async (t) => {
  const epcscf = await setUp(t);
  const bad = await client(t, epcscf);
  const good = await client(t, epcscf);
  bad.ws.send('{not json');
  bad.ws.send('[]');
  bad.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'session.register', params: { impu: 42 }, id: 9 }));
  const deadline = Date.now() + 5000;
  while (bad.raw.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const codes = (bad.raw as { error?: { code: number } }[]).map((m) => m.error?.code).sort();
  t.same(codes, [-32700, -32602, -32600].sort());
  const refused = await bad.request('call.hangup', { callId: 'nope' }).catch((error: { code?: number }) => error.code);
  t.equal(refused, -32004);
  const discover = await good.request('rpc.discover');
  t.equal(discover['openrpc'], '1.3.2', 'the other client is served');
  const wrongProtocol = new WebSocket(`${epcscf.baseUrl}/jsonrpc`, 'sip');
  const outcome = await new Promise<string>((resolve) => {
    wrongProtocol.once('open', () => resolve('open'));
    wrongProtocol.once('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
    wrongProtocol.once('error', () => resolve('error'));
  });
  wrongProtocol.terminate();
  t.equal(outcome, 'http 400', 'R-JR-1: an upgrade without the subprotocol is refused');
});

const contactOf = (epcscf: EpcscfUnderTest, index: number): string => {
  const register = epcscf.capture.requests('mw', 'out', 'REGISTER').at(index);
  return (register && getHeader(register, 'Contact')) ?? '';
};

t.test('issue #5 resume: after the WebSocket drops, session.resume on a new connection re-registers with the same +sip.instance', async (t) => {
  const epcscf = await setUp(t);
  const first = await RpcWsClient.connect(`${epcscf.baseUrl}/jsonrpc`);
  const registered = await first.request('session.register', { impu: 'sip:alice@ims.test', password: 'alicepw' });
  const before = epcscf.capture.requests('mw', 'out', 'REGISTER').length;
  first.ws.terminate();
  await new Promise((r) => setTimeout(r, 200));
  const second = await client(t, epcscf);
  const resumed = await second.request('session.resume', { resumeToken: registered['resumeToken'] });
  t.equal(resumed['state'], 'registered', JSON.stringify(resumed));
  t.equal(resumed['instanceId'], registered['instanceId']);
  const instance = /\+sip\.instance="<([^>]+)>"/.exec(contactOf(epcscf, -1))?.[1];
  t.equal(instance, registered['instanceId'], 'the new REGISTER on Mw carries the same instance id');
  t.ok(epcscf.capture.requests('mw', 'out', 'REGISTER').length > before, 'a new REGISTER went out');
  const { callId } = await second.request('call.invite', { to: 'sip:nobody@ims.test', sdp: PLAIN_OFFER });
  const ended = await second.notification('call.ended', (p) => p['callId'] === callId);
  t.equal(ended['sipStatus'], 404, 'R-JR-3: the resumed registration places calls; Kamailio\'s 404 arrives as call.ended');
});

t.test('issue #5 resume off (grace 0): a dropped client is de-registered at the IMS (REGISTER Expires: 0 on Mw)', async (t) => {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp'), extraPlugins: [{ name: 'jsonrpc-ws', options: { resumeGraceSeconds: 0 } }] });
  t.teardown(() => epcscf.close());
  const alice = await RpcWsClient.connect(`${epcscf.baseUrl}/jsonrpc`);
  const result = await alice.request('session.register', { impu: 'sip:alice@ims.test', password: 'alicepw' });
  t.equal(result['state'], 'registered');
  t.notOk(result['resumeToken']);
  alice.ws.terminate();
  const deadline = Date.now() + 5000;
  const deregistered = () => epcscf.capture.requests('mw', 'out', 'REGISTER').some((r) => getHeader(r, 'Expires') === '0' || /expires=0\b/.test(getHeader(r, 'Contact') ?? ''));
  while (!deregistered() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.ok(deregistered(), 'REGISTER Expires: 0 left on Mw after the drop', { registers: epcscf.capture.requests('mw', 'out', 'REGISTER').map((r) => getHeader(r, 'Expires')) });
});
