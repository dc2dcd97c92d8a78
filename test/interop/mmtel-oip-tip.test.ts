// Issue #14 OIP/OIR (TS 24.607) and TIP/TIR (TS 24.608) over JSON-RPC with real peers: a sipp UAC
// calls a JSON-RPC client through Kamailio and epcscf with P-Asserted-Identity and Privacy
// (RFC 3323/3325); a JSON-RPC client calls a sipp UAS that answers with P-Asserted-Identity.
// What the client is shown must never carry a restricted identity. The same over xmpp-ws: a
// restricted caller rings from anonymous@ims.test with <restricted xmlns='urn:epcscf:mmtel:0'/>,
// and a Jingle client asks for OIR with <privacy xmlns='urn:epcscf:mmtel:0'/> → Privacy: id.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { getHeader, getHeaders } from '../../core/sip/index.js';
import { startEpcscf, startImsCore, type EpcscfUnderTest, type ImsCoreStandIn } from '../support/epcscf-harness.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { registerContactAtCore, runSipp, startSippUas } from '../support/peers/sipp.js';
import { startGateway } from '../support/media-gateways.js';
import { gatewayAnswer, readOffer } from '../support/webrtc/gateway-sdp.js';
import { JsSipUser } from '../support/wic/jssip-user.js';
import { XmppJsUser, jingleIqFromSdp, sdpFromJingleIq, xml, type XmlNode } from '../support/xmpp-clients.js';

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
async function callAlice(t: Test, rig: Rig, privacy: string, answer: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const uacPort = await allocatePort();
  t.teardown(() => releasePort(uacPort));
  const run = runSipp([`127.0.0.1:${rig.core.port}`, '-sf', UAC_PRIVACY, '-s', 'alice', '-key', 'domain', 'ims.test',
    '-key', 'pai', 'carol@ims.test', '-key', 'privacy', privacy,
    '-m', '1', '-i', '127.0.0.1', '-p', String(uacPort), '-d', '200'], { timeoutMs: 15_000 });
  const incoming = await rig.alice.notification('call.incoming', undefined, 10_000);
  await rig.alice.request('call.answer', { callId: String(incoming['callId']), sdp: OFFER, ...answer });
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

// ---- sip-ws -------------------------------------------------------------------------------------

t.test('TS 24.608 TIR by a JSON-RPC callee: call.answer {privacy: "id"} → Privacy: id in the 200 on Mw, with the connected identity asserted', async (t) => {
  const rig = await setUp(t);
  await callAlice(t, rig, 'none', { privacy: 'id' });
  const ok = rig.epcscf.capture.entries.find((e) => e.side === 'mw' && e.direction === 'out' && e.message.kind === 'response' && e.message.status === 200
    && (getHeader(e.message, 'CSeq') ?? '').endsWith('INVITE'))?.message;
  t.equal(ok && getHeader(ok, 'Privacy'), 'id', 'RFC 3323 §4.2: the callee\'s Privacy: id reaches the IMS');
  t.same(ok && getHeaders(ok, 'P-Asserted-Identity').map((v) => v.replace(/\s/g, '')), ['<sip:alice@ims.test>'], 'R-TERM-3: with the connected identity asserted, for the network to withhold');
});

t.test('R-MMTEL-1 OIP/OIR and TIR over sip-ws: Privacy and P-Asserted-Identity pass to JsSIP intact; its Privacy: id answer reaches Mw with the asserted identity', async (t) => {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp') });
  t.teardown(() => epcscf.close());
  const bob = await JsSipUser.connect({ wsUrl: epcscf.wsUrl, user: 'bob', password: 'secret' });
  t.teardown(() => bob.stop());
  t.equal(await bob.register(), 200, 'bob (JsSIP) registered');
  const uacPort = await allocatePort();
  t.teardown(() => releasePort(uacPort));
  const run = runSipp([`127.0.0.1:${core.port}`, '-sf', UAC_PRIVACY, '-s', 'bob', '-key', 'domain', 'ims.test',
    '-key', 'pai', 'carol@ims.test', '-key', 'privacy', 'id',
    '-m', '1', '-i', '127.0.0.1', '-p', String(uacPort), '-d', '200'], { timeoutMs: 15_000 });
  const incoming = await bob.nextIncoming();
  const toBob = epcscf.capture.requests('w2', 'out', 'INVITE')[0];
  t.equal(toBob && getHeader(toBob, 'Privacy'), 'id', 'R-MMTEL-1: Privacy: id passes to the WIC unchanged');
  t.same(toBob && getHeaders(toBob, 'P-Asserted-Identity').map((v) => v.trim()), ['<sip:carol@ims.test>'], 'the asserted identity passes too (the WIC applies OIR itself)');
  incoming.answer(['Privacy: id']);
  const done = await run;
  t.equal(done.code, 0, 'the sipp call completed', { sippOutput: done.stdout.slice(-1500) });
  const ok = epcscf.capture.entries.find((e) => e.side === 'mw' && e.direction === 'out' && e.message.kind === 'response' && e.message.status === 200
    && (getHeader(e.message, 'CSeq') ?? '').endsWith('INVITE'))?.message;
  t.equal(ok && getHeader(ok, 'Privacy'), 'id', 'TS 24.608 TIR: the callee\'s Privacy: id reaches the IMS');
  t.same(ok && getHeaders(ok, 'P-Asserted-Identity').map((v) => v.replace(/\s/g, '')), ['<sip:bob@ims.test>'], 'R-TERM-3: with the connected identity asserted, for the network to withhold');
});

// ---- xmpp-ws ------------------------------------------------------------------------------------

const JINGLE = 'urn:xmpp:jingle:1';
const MMTEL = 'urn:epcscf:mmtel:0';

interface XmppRig { core: ImsCoreStandIn; epcscf: EpcscfUnderTest; alice: XmppJsUser }

/** Kamailio, media-gw (a plain-RTP offer needs the IMS-ALG to become Jingle), alice over xmpp-ws. */
async function setUpXmpp(t: Test): Promise<XmppRig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const gateway = await startGateway('media-gw');
  t.teardown(() => gateway.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp'), media: gateway.control, extraPlugins: [{ name: 'xmpp-ws' }, { name: 'jsonrpc-ws' }] });
  t.teardown(() => epcscf.close());
  const alice = await XmppJsUser.login({ service: `${epcscf.baseUrl}/xmpp`, domain: 'ims.test', username: 'alice', password: 'alicepw' });
  t.teardown(() => alice.stop());
  alice.xmpp.iqCallee.set(JINGLE, 'jingle', () => true);
  return { core, epcscf, alice };
}

const isInitiate = (s: XmlNode): boolean => s.is('iq') && s.attrs['type'] === 'set' && s.getChild('jingle', JINGLE)?.attrs['action'] === 'session-initiate';

/** A sipp UAC (via Kamailio) calls alice asserting carol with `privacy`; alice accepts; returns the session-initiate. */
async function callXmppAlice(t: Test, rig: XmppRig, privacy: string, acceptExtra = ''): Promise<XmlNode> {
  const uacPort = await allocatePort();
  t.teardown(() => releasePort(uacPort));
  const run = runSipp([`127.0.0.1:${rig.core.port}`, '-sf', UAC_PRIVACY, '-s', 'alice', '-key', 'domain', 'ims.test',
    '-key', 'pai', 'carol@ims.test', '-key', 'privacy', privacy,
    '-m', '1', '-i', '127.0.0.1', '-p', String(uacPort), '-d', '200'], { timeoutMs: 15_000 });
  const initiate = await rig.alice.next(isInitiate, 10_000);
  const jingle = initiate.getChild('jingle', JINGLE);
  const offer = sdpFromJingleIq(initiate, 'initiator');
  const answer = gatewayAnswer({
    address: { address: '127.0.0.1', port: 40300 }, ice: { ufrag: 'ansU', pwd: 'answerpasswordanswerpass' },
    fingerprint: { algorithm: 'sha-256', value: Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':') },
    setup: 'active', mid: readOffer(offer).mid, ssrc: 4242,
  });
  // The client answers whoever rang it: for a restricted caller that is anonymous@ims.test.
  const mark = rig.alice.received.length;
  await rig.alice.send(jingleIqFromSdp(answer, { to: String(initiate.attrs['from']), id: 'acc1', sid: String(jingle?.attrs['sid']), action: 'session-accept', initiator: String(jingle?.attrs['initiator']), responder: rig.alice.jid })
    .replace('</jingle>', `${acceptExtra}</jingle>`));
  const ack = await rig.alice.next((s) => s.is('iq') && s.attrs['id'] === 'acc1', 5000, mark);
  t.equal(ack.attrs['type'], 'result', 'the session-accept to the caller\'s JID is acknowledged');
  const done = await run;
  t.equal(done.code, 0, 'the sipp call completed (answered, then BYE)', { sippOutput: done.stdout.slice(-1500) });
  return initiate;
}

t.test('TS 24.607 OIP over xmpp-ws: the session-initiate comes from the asserted caller\'s JID', async (t) => {
  const rig = await setUpXmpp(t);
  const initiate = await callXmppAlice(t, rig, 'none');
  t.equal(initiate.attrs['from'], 'carol@ims.test', 'from = the P-Asserted-Identity as a JID');
  t.equal(initiate.getChild('jingle', JINGLE)?.getChild('restricted', MMTEL), undefined, 'no <restricted/> marker');
});

t.test('TS 24.607 OIR over xmpp-ws: a Privacy: id caller rings from anonymous@ims.test with <restricted/>, never its identity', async (t) => {
  const rig = await setUpXmpp(t);
  const initiate = await callXmppAlice(t, rig, 'id');
  t.equal(initiate.attrs['from'], 'anonymous@ims.test', 'the documented anonymous JID');
  t.equal(initiate.getChild('jingle', JINGLE)?.attrs['initiator'], 'anonymous@ims.test', 'the Jingle initiator too');
  t.ok(initiate.getChild('jingle', JINGLE)?.getChild('restricted', MMTEL), '<restricted xmlns="urn:epcscf:mmtel:0"/> marks the call');
  t.notMatch(initiate.toString(), /carol/, 'the restricted identity appears nowhere in the stanza');
});

t.test('TS 24.607 OIR on request over xmpp-ws: <privacy xmlns="urn:epcscf:mmtel:0"/> in session-initiate → Privacy: id; the callee sees anonymous', async (t) => {
  const rig = await setUpXmpp(t);
  const bob = await RpcWsClient.connect(`${rig.epcscf.baseUrl}/jsonrpc`);
  t.teardown(() => bob.close());
  const registered = await bob.request('session.register', { impu: 'sip:bob@ims.test', password: 'secret' });
  t.equal(registered['state'], 'registered', 'bob (JSON-RPC) is registered');
  const offer = readFileSync(new URL('../fixtures/sdp/chrome-audio-offer.sdp', import.meta.url), 'utf8');
  const sid = 'oir-1';
  const iq = jingleIqFromSdp(offer, { to: 'bob@ims.test', id: 'si1', sid, action: 'session-initiate', initiator: rig.alice.jid })
    .replace('</jingle>', `<privacy xmlns="${MMTEL}"/></jingle>`);
  t.match(iq, /<privacy xmlns="urn:epcscf:mmtel:0"\/><\/jingle>/, 'the client\'s request carries <privacy/>');
  const mark = rig.alice.received.length;
  await rig.alice.send(iq);
  t.equal((await rig.alice.next((s) => s.is('iq') && s.attrs['id'] === 'si1', 5000, mark)).attrs['type'], 'result');
  const incoming = await bob.notification('call.incoming', () => true, 10_000);
  const invite = rig.epcscf.capture.requests('w2', 'in', 'INVITE')[0];
  t.equal(invite && getHeader(invite, 'Privacy'), 'id', 'RFC 3325 §9.3 / R-ORIG-8: the UE asks for Privacy: id');
  const atMw = rig.epcscf.capture.requests('mw', 'out', 'INVITE')[0];
  t.equal(atMw && getHeader(atMw, 'Privacy'), 'id', 'Privacy: id reaches the IMS on Mw');
  t.equal(atMw && getHeaders(atMw, 'P-Asserted-Identity').length, 1, 'R-ORIG-2: one asserted identity, for the network to withhold');
  t.same(incoming['from'], { uri: 'sip:anonymous@anonymous.invalid', anonymous: true }, 'the callee (JSON-RPC) is shown anonymous');
  t.notMatch(JSON.stringify(incoming), /alice/, 'alice appears nowhere in call.incoming');
  await bob.request('call.reject', { callId: String(incoming['callId']), status: 486 });
  const terminate = await rig.alice.next((s) => s.is('iq') && s.getChild('jingle', JINGLE)?.attrs['action'] === 'session-terminate', 10_000, mark);
  t.ok(terminate, 'the rejected call ends with session-terminate');
});

// TS 24.608 TIP/TIR over xmpp-ws: the connected identity is the session-accept's responder.

/** One Kamailio, media-gw and epcscf for the TIP/TIR tests below (torn down at the end of the file). */
let tipRig: Promise<XmppRig> | undefined;
const sharedXmppRig = (): Promise<XmppRig> => (tipRig ??= setUpXmpp(t));

/** alice (xmpp-ws) calls `callee`@ims.test, a sipp UAS registered at Kamailio that answers asserting erin with `privacy`. */
async function xmppCallsPaiUas(t: Test, rig: XmppRig, callee: string, privacy: string): Promise<XmlNode> {
  const port = await allocatePort();
  await registerContactAtCore(rig.core.port, callee, port).catch((error: unknown) => { releasePort(port); throw error; });
  const uas = await startSippUas({ port, calls: 1, scenario: UAS_PAI, extraArgs: ['-key', 'pai', 'erin@ims.test', '-key', 'privacy', privacy] });
  t.teardown(async () => { await uas.stop(); releasePort(port); });
  const offer = readFileSync(new URL('../fixtures/sdp/chrome-audio-offer.sdp', import.meta.url), 'utf8');
  const sid = `tip-${privacy}`;
  const mark = rig.alice.received.length;
  await rig.alice.send(jingleIqFromSdp(offer, { to: `${callee}@ims.test`, id: `si-${sid}`, sid, action: 'session-initiate', initiator: rig.alice.jid }));
  const accept = await rig.alice.next((s) => s.is('iq') && s.getChild('jingle', JINGLE)?.attrs['action'] === 'session-accept' && s.getChild('jingle', JINGLE)?.attrs['sid'] === sid, 15_000, mark);
  await rig.alice.send(xml('iq', { type: 'set', to: `${callee}@ims.test`, id: `st-${sid}` }, xml('jingle', { xmlns: JINGLE, action: 'session-terminate', sid }, xml('reason', {}, xml('success')))));
  return accept;
}

t.test('TS 24.608 TIP over xmpp-ws: the session-accept\'s responder is the connected identity from the 200\'s P-Asserted-Identity', async (t) => {
  const rig = await sharedXmppRig();
  const accept = await xmppCallsPaiUas(t, rig, 'dave', 'none');
  t.equal(accept.attrs['from'], 'dave@ims.test', 'the stanza still comes from the called JID (the session\'s peer)');
  t.equal(accept.getChild('jingle', JINGLE)?.attrs['responder'], 'erin@ims.test', 'responder = the asserted connected identity');
  t.equal(accept.getChild('jingle', JINGLE)?.getChild('restricted', MMTEL), undefined, 'no <restricted/> marker');
});

t.test('TS 24.608 TIR over xmpp-ws: a callee answering with Privacy: id is anonymous@ims.test with <restricted/>, never its identity', async (t) => {
  const rig = await sharedXmppRig();
  const accept = await xmppCallsPaiUas(t, rig, 'frank', 'id');
  t.equal(accept.getChild('jingle', JINGLE)?.attrs['responder'], 'anonymous@ims.test', 'the documented anonymous JID');
  t.ok(accept.getChild('jingle', JINGLE)?.getChild('restricted', MMTEL), '<restricted xmlns="urn:epcscf:mmtel:0"/> marks the connected identity as withheld');
  t.notMatch(accept.toString(), /erin/, 'the restricted connected identity appears nowhere in the stanza');
});

t.test('TS 24.608 TIR by an xmpp-ws callee: <privacy xmlns="urn:epcscf:mmtel:0"/> in its session-accept → Privacy: id in the 200 on Mw', async (t) => {
  const rig = await sharedXmppRig();
  await callXmppAlice(t, rig, 'none', `<privacy xmlns="${MMTEL}"/>`);
  const ok = rig.epcscf.capture.entries.filter((e) => e.side === 'mw' && e.direction === 'out' && e.message.kind === 'response' && e.message.status === 200
    && (getHeader(e.message, 'CSeq') ?? '').endsWith('INVITE')).at(-1)?.message;
  t.equal(ok && getHeader(ok, 'Privacy'), 'id', 'RFC 3323 §4.2: the callee\'s Privacy: id reaches the IMS');
  t.same(ok && getHeaders(ok, 'P-Asserted-Identity').map((v) => v.replace(/\s/g, '')), ['<sip:alice@ims.test>'], 'with the connected identity asserted, for the network to withhold');
});
