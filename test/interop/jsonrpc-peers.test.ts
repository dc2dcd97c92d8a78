// Issue #5 proof with real peers on both sides: a JSON-RPC client (json-rpc-2.0 over ws, no
// SIP at all) registered through epcscf (jsonrpc-ws → core/ua → core/pcscf) into Kamailio
// calls a JsSIP client and exchanges MESSAGE with it, is called by baresip and transfers that
// call blind to a sipp UAS, and holds/resumes a call to a sipp UAS that checks the SDP
// directions. The SIP the virtual UE handed the P-CSCF is checked for what a TS 24.229 UE sends.
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { bodyText, getHeader, getHeaders, type SipRequest } from '../../core/sip/index.js';
import { startEpcscf, startImsCore, type EpcscfUnderTest, type ImsCoreStandIn } from '../support/epcscf-harness.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { startBaresip, type BaresipPeer } from '../support/peers/baresip.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { startSippUas } from '../support/peers/sipp.js';
import { JsSipUser, withDeadline } from '../support/wic/jssip-user.js';

const UAS_HOLD = fileURLToPath(new URL('../fixtures/wic/uas-hold-resume.xml', import.meta.url));
const PLAIN_OFFER = [
  'v=0', 'o=- 20518 0 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=audio 40000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', '',
].join('\r\n');

interface Rig { core: ImsCoreStandIn; epcscf: EpcscfUnderTest; alice: RpcWsClient }

/** Kamailio, epcscf with jsonrpc-ws (media off: SDP crosses unchanged), alice registered over JSON-RPC. */
async function setUp(t: Test): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp'), extraPlugins: [{ name: 'jsonrpc-ws' }] });
  t.teardown(() => epcscf.close());
  const alice = await RpcWsClient.connect(`${epcscf.baseUrl}/jsonrpc`);
  t.teardown(() => alice.close());
  const registered = await alice.request('session.register', { impu: 'sip:alice@ims.test', password: 'alicepw', displayName: 'Alice' });
  if (registered['state'] !== 'registered') throw new Error(`alice did not register: ${JSON.stringify(registered)}\n${core.output().slice(-2000)}`);
  return { core, epcscf, alice };
}

/** What the virtual UE handed the P-CSCF (W2 side, inbound), by method. */
const fromUe = (epcscf: EpcscfUnderTest, method: string): SipRequest[] => epcscf.capture.requests('w2', 'in', method);

t.test('R-JR-2, R-ORIG-*: a JSON-RPC client calls a JsSIP client through epcscf and Kamailio; MESSAGE both ways; the UE sends 24.229 SIP', async (t) => {
  const { epcscf, alice } = await setUp(t);
  const bob = await JsSipUser.connect({ wsUrl: epcscf.wsUrl, user: 'bob', password: 'secret' });
  t.teardown(() => bob.stop());
  t.equal(await bob.register(), 200, 'bob (JsSIP over sip-ws) is registered too');

  const { callId } = await alice.request('call.invite', { to: 'sip:bob@ims.test', sdp: PLAIN_OFFER });
  const incoming = await bob.nextIncoming();
  const invite = fromUe(epcscf, 'INVITE')[0];
  t.ok(invite, 'the virtual UE sent an INVITE');
  if (invite) {
    t.match(getHeader(invite, 'Via') ?? '', /^SIP\/2\.0\/WSS? \S+\.invalid;branch=z9hG4bK/, 'RFC 7118 §5: Via WS(S) with an .invalid host');
    t.match(getHeader(invite, 'Contact') ?? '', /;ob\b|;ob>/, 'RFC 5626 §5: the Contact carries ;ob');
    t.ok(getHeaders(invite, 'Route').length > 0, 'R-ORIG-3 / RFC 3608: the Service-Route is used as the route set');
    t.match(getHeader(invite, 'P-Preferred-Identity') ?? '', /sip:alice@ims\.test/, 'TS 24.229 §5.1.2A.1.1: P-Preferred-Identity');
    t.match(getHeaders(invite, 'Supported').join(','), /100rel/, 'RFC 3262: Supported 100rel');
    t.equal(bodyText(invite), PLAIN_OFFER, 'the client\'s SDP offer is the INVITE body');
  }
  const atMw = epcscf.capture.requests('mw', 'out', 'INVITE')[0];
  t.equal(atMw && getHeaders(atMw, 'P-Asserted-Identity').length, 1, 'R-ORIG-2: the P-CSCF asserted one identity toward the IMS');

  incoming.answer();
  const answered = await alice.notification('call.answered', (p) => p['callId'] === callId);
  t.match(answered['sdp'], /^v=0/m, 'bob\'s answer SDP reaches the JSON-RPC client');
  await withDeadline(incoming.confirmed(), 5000, 'bob confirmed (ACK from the virtual UE)');

  // MESSAGE (RFC 3428) both ways.
  const bobGot = new Promise<string>((resolve) => {
    (bob.ua as unknown as NodeJS.EventEmitter).on('newMessage', (e: { originator: string; request: { body: string } }) => {
      if (e.originator === 'remote') resolve(e.request.body);
    });
  });
  const sent = await alice.request('message.send', { to: 'sip:bob@ims.test', body: 'hello bob' });
  t.ok(Number(sent['sipStatus']) >= 200 && Number(sent['sipStatus']) < 300, `message.send answered ${JSON.stringify(sent)}`);
  t.equal(await withDeadline(bobGot, 5000, 'bob receives the MESSAGE'), 'hello bob');
  bob.ua.sendMessage('sip:alice@ims.test', 'hello alice');
  const received = await alice.notification('message.received');
  t.equal(received['body'], 'hello alice');
  t.match(JSON.stringify(received['from']), /bob@ims\.test/, 'message.received names the sender');

  await alice.request('call.hangup', { callId });
  const ended = await withDeadline(incoming.ended(), 5000, 'bob sees the BYE');
  t.equal(ended.originator, 'remote', 'the virtual UE hung up with BYE');
  const endedAtAlice = await alice.notification('call.ended', (p) => p['callId'] === callId);
  t.equal(endedAtAlice['cause'], 'local');
});

/** baresip "dave", registered directly at Kamailio (an IMS-side UE). */
async function startDave(t: Test, core: ImsCoreStandIn): Promise<BaresipPeer> {
  const ctrlPort = await allocatePort();
  const baresip = await startBaresip({ user: 'dave', password: 'secret', registrar: core.uri('udp'), ctrlPort, autoAnswer: true })
    .catch((error: unknown) => { releasePort(ctrlPort); throw error; });
  t.teardown(async () => { await baresip.stop(); releasePort(ctrlPort); });
  return baresip;
}

t.test('R-TERM-4, RFC 3515: baresip calls the JSON-RPC client; it answers, then transfers dave blind to a sipp UAS', async (t) => {
  const { core, epcscf, alice } = await setUp(t);
  const dave = await startDave(t, core);
  const mark = dave.events.length;
  await dave.dial('sip:alice@ims.test');
  const incoming = await alice.notification('call.incoming');
  t.match(JSON.stringify(incoming['from']), /dave@ims\.test/, 'call.incoming names the caller');
  t.match(incoming['sdp'], /m=audio/, 'the caller\'s offer is in call.incoming');
  const callId = String(incoming['callId']);
  await alice.request('call.answer', { callId, sdp: PLAIN_OFFER.replace('o=- 20518 0', 'o=- 20519 0') });
  await dave.waitForEvent('CALL_ESTABLISHED', { from: mark, timeoutMs: 8000 });
  const answer = epcscf.capture.entries.find((e) => e.side === 'mw' && e.direction === 'out' && e.message.kind === 'response' && e.message.status === 200
    && (getHeader(e.message, 'CSeq') ?? '').endsWith('INVITE'));
  t.ok(answer && getHeaders(answer.message, 'P-Asserted-Identity').length === 1, 'R-TERM-3: the 200 toward the IMS carries one asserted identity');

  const uasPort = await allocatePort();
  const uas = await startSippUas({ port: uasPort, calls: 1 });
  t.teardown(async () => { await uas.stop(); releasePort(uasPort); });
  await alice.request('call.transfer', { callId, target: `sip:uas@127.0.0.1:${uasPort}` });
  const refer = fromUe(epcscf, 'REFER')[0];
  t.ok(refer, 'the virtual UE sent a REFER in the dialog');
  t.match(refer && getHeader(refer, 'Refer-To'), new RegExp(`sip:uas@127\\.0\\.0\\.1:${uasPort}`), 'RFC 3515 §2.1: Refer-To names the target');
  const done = await alice.notification('call.transferProgress', (p) => p['callId'] === callId && p['final'] === true, 15_000);
  t.equal(done['sipStatus'], 200, 'RFC 3515 §2.4.5: the NOTIFY sipfrag says the transfer target answered 200');
  await alice.request('call.hangup', { callId }).catch(() => undefined);
  await alice.notification('call.ended', (p) => p['callId'] === callId);
  await dave.hangup().catch(() => undefined);
  const status = await Promise.race([uas.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 8000).unref())]);
  t.equal(status?.code, 0, 'the sipp UAS got dave\'s transferred call and its BYE', { sippOutput: uas.output().slice(-1500) });
});

t.test('TS 24.610 hold: call.hold / call.resume toward a sipp UAS send re-INVITEs with sendonly then sendrecv', async (t) => {
  const { epcscf, alice } = await setUp(t);
  const uasPort = await allocatePort();
  const uas = await startSippUas({ port: uasPort, calls: 1, scenario: UAS_HOLD });
  t.teardown(async () => { await uas.stop(); releasePort(uasPort); });
  const { callId } = await alice.request('call.invite', { to: `sip:uas@127.0.0.1:${uasPort}`, sdp: PLAIN_OFFER });
  await alice.notification('call.answered', (p) => p['callId'] === callId);

  const held = await alice.request('call.hold', { callId });
  t.match(held['sdp'], /a=recvonly/, 'the far end answered the hold with recvonly (RFC 3264 §8.4)');
  const invites = fromUe(epcscf, 'INVITE');
  t.match(bodyText(invites[1]!), /a=sendonly/, 'the hold re-INVITE offers sendonly');
  const resumed = await alice.request('call.resume', { callId });
  t.match(resumed['sdp'], /a=sendrecv|^(?![\s\S]*a=(sendonly|recvonly|inactive))/, 'resumed: sendrecv again');
  t.match(bodyText(fromUe(epcscf, 'INVITE')[2]!), /a=sendrecv/, 'the resume re-INVITE offers sendrecv');
  await alice.request('call.hangup', { callId });
  const status = await Promise.race([uas.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000).unref())]);
  t.equal(status?.code, 0, 'the UAS saw INVITE, hold, resume and BYE in order', { sippOutput: uas.output().slice(-1500) });
});
