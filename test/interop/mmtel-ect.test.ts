// Issue #14, TS 24.629 ECT: blind and consultative transfer as transferor and as transferee, with
// the NOTIFY message/sipfrag progress (RFC 3515) surfaced, in each W2 protocol. The far ends are
// one scripted SIP UA registered at Kamailio as dave (the transfer partner) and erin (the transfer
// target); epcscf runs the three plugins (media off) behind it, one client per plugin.
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { bodyText, formatUri, getHeader, parseNameAddr, type SipRequest } from '../../core/sip/index.js';
import { startImsCore, type EpcscfUnderTest, type ImsCoreStandIn } from '../support/epcscf-harness.js';
import type { RpcWsClient } from '../support/jsonrpc-client.js';
import { epcscfWithThreeClients } from '../support/mmtel-clients.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { registerContactAtCore } from '../support/peers/sipp.js';
import { ScriptedUas } from '../support/scripted-uas.js';
import { gatewayAnswer, readOffer } from '../support/webrtc/gateway-sdp.js';
import type { JsSipUser } from '../support/wic/jssip-user.js';
import { jingleIqFromSdp, sdpFromJingleIq, xml, type XmppJsUser, type XmlNode } from '../support/xmpp-clients.js';

const OFFER = readFileSync(new URL('../fixtures/sdp/chrome-audio-offer.sdp', import.meta.url), 'utf8');
const SIPFRAG = 'message/sipfrag;version=2.0';

/** What the far end answers with: a WebRTC answer (so that the xmpp-ws client gets a Jingle form). */
export function farAnswer(): string {
  return gatewayAnswer({
    address: { address: '127.0.0.1', port: 40400 }, ice: { ufrag: 'farU', pwd: 'farpasswordfarpasswordfa' },
    fingerprint: { algorithm: 'sha-256', value: Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':') },
    setup: 'active', mid: '0', ssrc: 4343,
  });
}

interface Rig { core: ImsCoreStandIn; far: ScriptedUas; epcscf: EpcscfUnderTest; carol: JsSipUser; bob: RpcWsClient; alice: XmppJsUser }

/** Kamailio; the scripted far end registered as dave and erin (sipp REGISTERs its port first); epcscf with three clients. */
async function setUp(t: Test): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const port = await allocatePort();
  for (const user of ['dave', 'erin']) {
    await registerContactAtCore(core.port, user, port).catch((error: unknown) => { releasePort(port); throw error; });
  }
  const far = await ScriptedUas.start(port);
  t.teardown(async () => { await far.close(); releasePort(port); });
  const { epcscf, carol, bob, alice } = await epcscfWithThreeClients(t, core.uri('udp'));
  return { core, far, epcscf, carol, bob, alice };
}

interface FarDialog { invite: SipRequest; toTag: string }

/** The far end answers the next INVITE with 200 and waits for the ACK. */
async function answerNext(far: ScriptedUas, user?: string): Promise<FarDialog> {
  const received = await far.next('INVITE', 15_000);
  if (user !== undefined && !formatUri(received.request.uri).includes(user) && !(getHeader(received.request, 'To') ?? '').includes(user)) {
    throw new Error(`expected an INVITE for ${user}, got ${getHeader(received.request, 'To')}`);
  }
  const toTag = far.newTag();
  far.reply(received, 200, { toTag, sdp: farAnswer() });
  await far.next('ACK', 15_000);
  return { invite: received.request, toTag };
}

/** The far end answers BYEs (and NOTIFYs) it is sent from now on, for a clean end. */
async function answerBye(far: ScriptedUas): Promise<SipRequest> {
  const bye = await far.next('BYE', 15_000);
  far.reply(bye, 200);
  return bye.request;
}

/** A NOTIFY sipfrag from the far end (transferee) toward the transferor, in the dialog `d`. */
function notifySipfrag(far: ScriptedUas, d: FarDialog, status: string, final: boolean): Promise<number> {
  return far.request(d.invite, d.toTag, 'NOTIFY', {
    headers: [['Event', 'refer'], ['Subscription-State', final ? 'terminated;reason=noresource' : 'active;expires=60']],
    body: { contentType: SIPFRAG, text: `SIP/2.0 ${status}\r\n` },
  }).then((r) => r.status);
}

/** The Replaces of a Refer-To URI, unescaped (RFC 3891 §6.1). */
function replacesOf(referTo: string): string | undefined {
  const uri = parseNameAddr(referTo, 'Refer-To').uri;
  if (uri.kind !== 'sip') return undefined;
  return uri.headers.find((h) => h.name.toLowerCase() === 'replaces')?.value ?? undefined;
}

const mwOut = (epcscf: EpcscfUnderTest, method: string): SipRequest[] => epcscf.capture.requests('mw', 'out', method);

// One Kamailio, far end and epcscf for the whole file (torn down when the file's tests are done).
const rig = await setUp(t);

t.test('TS 24.629 ECT over jsonrpc-ws with Kamailio and a scripted far end', async (t) => {
  const { core, far, epcscf, bob } = rig;

  await t.test('R-MMTEL-2 transferor, blind: call.transfer → REFER with Refer-To and Referred-By on Mw; NOTIFY sipfrag → call.transferProgress', async (t) => {
    const { callId } = await bob.request('call.invite', { to: 'sip:dave@ims.test', sdp: OFFER }) as { callId: string };
    const d = await answerNext(far, 'dave');
    await bob.notification('call.answered', (p) => p['callId'] === callId, 15_000);
    const transferring = bob.request('call.transfer', { callId, target: 'sip:erin@ims.test' });
    const refer = await far.next('REFER', 15_000);
    far.reply(refer, 202);
    t.same(await transferring, {}, 'call.transfer resolves on the 202');
    t.equal(getHeader(refer.request, 'Refer-To'), '<sip:erin@ims.test>', 'RFC 3515 §2.1 Refer-To = the blind target');
    t.equal(getHeader(refer.request, 'Referred-By'), '<sip:bob@ims.test>', 'RFC 3892 Referred-By = the transferor');
    const atMw = mwOut(epcscf, 'REFER').at(-1);
    t.equal(atMw && getHeader(atMw, 'Refer-To'), '<sip:erin@ims.test>', 'the REFER reaches Mw with its Refer-To');
    t.equal(await notifySipfrag(far, d, '100 Trying', false), 200, 'the NOTIFY 100 Trying is answered 200');
    const trying = await bob.notification('call.transferProgress', (p) => p['callId'] === callId && p['sipStatus'] === 100, 10_000);
    t.same(trying, { callId, sipStatus: 100, reason: 'Trying', final: false });
    t.equal(await notifySipfrag(far, d, '200 OK', true), 200, 'the final NOTIFY is answered 200');
    const ok = await bob.notification('call.transferProgress', (p) => p['callId'] === callId && p['sipStatus'] === 200, 10_000);
    t.same(ok, { callId, sipStatus: 200, reason: 'OK', final: true }, 'the transfer succeeded (sipfrag 200, subscription terminated)');
    t.ok(epcscf.capture.requests('mw', 'in', 'NOTIFY').some((n) => bodyText(n) === 'SIP/2.0 200 OK\r\n' && getHeader(n, 'Content-Type') === SIPFRAG),
      'R-MMTEL-1: the sipfrag NOTIFY crossed Mw intact');
    const bye = answerBye(far);
    await bob.request('call.hangup', { callId });
    await bye;
  });

  await t.test('transferor, consultative: call.transfer with replacesCallId → Refer-To erin?Replaces=<the consultation dialog>', async (t) => {
    const first = await bob.request('call.invite', { to: 'sip:dave@ims.test', sdp: OFFER }) as { callId: string };
    const d = await answerNext(far, 'dave');
    await bob.notification('call.answered', (p) => p['callId'] === first.callId, 15_000);
    const second = await bob.request('call.invite', { to: 'sip:erin@ims.test', sdp: OFFER }) as { callId: string };
    const e = await answerNext(far, 'erin');
    await bob.notification('call.answered', (p) => p['callId'] === second.callId, 15_000);
    const transferring = bob.request('call.transfer', { callId: first.callId, replacesCallId: second.callId });
    const refer = await far.next('REFER', 15_000);
    far.reply(refer, 202);
    await transferring;
    const referTo = getHeader(refer.request, 'Refer-To') ?? '';
    t.match(referTo, /^<sip:erin@ims\.test\?Replaces=/, 'Refer-To names the transfer target with a Replaces header');
    const fromTag = /;tag=([^;>\s]+)/.exec(getHeader(e.invite, 'From') ?? '')?.[1];
    t.equal(replacesOf(referTo), `${getHeader(e.invite, 'Call-ID')};to-tag=${e.toTag};from-tag=${fromTag}`,
      'RFC 3891 §6.1: Replaces = the consultation dialog as the target knows it (to-tag = the target\'s tag)');
    t.equal(replacesOf(getHeader(mwOut(epcscf, 'REFER').at(-1)!, 'Refer-To') ?? ''), replacesOf(referTo), 'R-MMTEL-1: the Replaces crossed Mw intact');
    await notifySipfrag(far, d, '200 OK', true);
    t.same(await bob.notification('call.transferProgress', (p) => p['callId'] === first.callId && p['final'] === true, 10_000),
      { callId: first.callId, sipStatus: 200, reason: 'OK', final: true });
    // The transfer target's new dialog replaced the consultation: it ends it; the transferee ends the first.
    t.equal((await far.request(e.invite, e.toTag, 'BYE')).status, 200, 'the target ends the consultation call');
    t.equal((await far.request(d.invite, d.toTag, 'BYE')).status, 200, 'the transferee ends the transferred call');
    await bob.notification('call.ended', (p) => p['callId'] === second.callId, 10_000);
    await bob.notification('call.ended', (p) => p['callId'] === first.callId, 10_000);
  });

  await t.test('transferee, blind: a REFER from the far end → call.transferRequested; call.acceptTransfer → 202, INVITE with Referred-By, NOTIFY 100 then 200', async (t) => {
    const { callId } = await bob.request('call.invite', { to: 'sip:dave@ims.test', sdp: OFFER }) as { callId: string };
    const d = await answerNext(far, 'dave');
    await bob.notification('call.answered', (p) => p['callId'] === callId, 15_000);
    const referred = far.request(d.invite, d.toTag, 'REFER', { headers: [['Refer-To', '<sip:erin@ims.test>'], ['Referred-By', '<sip:dave@ims.test>']] });
    const asked = await bob.notification('call.transferRequested', (p) => p['callId'] === callId, 10_000);
    t.same(asked, { callId, target: 'sip:erin@ims.test', attended: false, referredBy: '<sip:dave@ims.test>' });
    const accepted = await bob.request('call.acceptTransfer', { callId, sdp: OFFER }) as { callId: string };
    t.equal((await referred).status, 202, 'RFC 3515 §2.4.2: 202 Accepted');
    const trying = await far.next('NOTIFY', 10_000);
    far.reply(trying, 200);
    t.equal(bodyText(trying.request), 'SIP/2.0 100 Trying\r\n', 'RFC 3515 §2.4.4: the initial NOTIFY says 100 Trying');
    t.match(getHeader(trying.request, 'Subscription-State'), /^active/, 'the implicit subscription is active');
    const invite = await far.next('INVITE', 15_000);
    t.equal(getHeader(invite.request, 'Referred-By'), '<sip:dave@ims.test>', 'RFC 3892: the new INVITE carries Referred-By');
    t.match(getHeader(mwOut(epcscf, 'INVITE').at(-1)!, 'Referred-By'), 'dave@ims.test', 'and so does it on Mw');
    const toTag = far.newTag();
    far.reply(invite, 200, { toTag, sdp: farAnswer() });
    await far.next('ACK', 15_000);
    await bob.notification('call.answered', (p) => p['callId'] === accepted.callId, 10_000);
    const done = await far.next('NOTIFY', 10_000);
    far.reply(done, 200);
    t.equal(bodyText(done.request), 'SIP/2.0 200 OK\r\n', 'the final NOTIFY reports the 200');
    t.match(getHeader(done.request, 'Subscription-State'), /^terminated/, 'RFC 3515 §2.4.7: and ends the subscription');
    t.equal((await far.request(d.invite, d.toTag, 'BYE')).status, 200, 'the transferor releases the first call');
    const bye = answerBye(far);
    await bob.request('call.hangup', { callId: accepted.callId });
    await bye;
  });

  await t.test('transferee, consultative: Refer-To with ?Replaces → attended; the INVITE to the target carries Replaces and Referred-By', async (t) => {
    const { callId } = await bob.request('call.invite', { to: 'sip:dave@ims.test', sdp: OFFER }) as { callId: string };
    const d = await answerNext(far, 'dave');
    await bob.notification('call.answered', (p) => p['callId'] === callId, 15_000);
    const referred = far.request(d.invite, d.toTag, 'REFER', {
      headers: [['Refer-To', '<sip:erin@ims.test?Replaces=consult-1%40far%3Bto-tag%3Derin1%3Bfrom-tag%3Ddave1>'], ['Referred-By', '<sip:dave@ims.test>']],
    });
    const asked = await bob.notification('call.transferRequested', (p) => p['callId'] === callId, 10_000);
    t.equal(asked['attended'], true, 'attended: the Refer-To carried Replaces');
    const accepted = await bob.request('call.acceptTransfer', { callId, sdp: OFFER }) as { callId: string };
    t.equal((await referred).status, 202);
    far.reply(await far.next('NOTIFY', 10_000), 200);
    const invite = await far.next('INVITE', 15_000);
    t.equal(getHeader(invite.request, 'Replaces'), 'consult-1@far;to-tag=erin1;from-tag=dave1', 'RFC 3891 §3: Replaces from the Refer-To, unescaped');
    t.equal(getHeader(mwOut(epcscf, 'INVITE').at(-1)!, 'Replaces'), 'consult-1@far;to-tag=erin1;from-tag=dave1', 'R-MMTEL-1: Replaces on Mw');
    far.reply(invite, 486, { toTag: far.newTag() });
    const failed = await far.next('NOTIFY', 10_000);
    far.reply(failed, 200);
    t.equal(bodyText(failed.request), 'SIP/2.0 486 Busy Here\r\n', 'RFC 3515 §2.4.5: a failed transfer is reported with its status');
    await bob.notification('call.ended', (p) => p['callId'] === accepted.callId, 10_000);
    const bye = answerBye(far);
    await bob.request('call.hangup', { callId });
    await bye;
  });

  await t.test('transfer target: an INVITE with Replaces for a call of the client → call.incoming replacesCallId; answering it ends that call (RFC 3891 §3)', async (t) => {
    const { callId } = await bob.request('call.invite', { to: 'sip:dave@ims.test', sdp: OFFER }) as { callId: string };
    const d = await answerNext(far, 'dave');
    await bob.notification('call.answered', (p) => p['callId'] === callId, 15_000);
    const bobTag = /;tag=([^;>\s]+)/.exec(getHeader(d.invite, 'From') ?? '')?.[1] ?? '';
    const replaces = `${getHeader(d.invite, 'Call-ID')};to-tag=${bobTag};from-tag=${d.toTag}`;
    const kamailio = `sip:127.0.0.1:${core.port}`;
    const newCall = far.invite('sip:bob@ims.test', kamailio, { user: 'erin', sdp: farAnswer(), headers: [['Replaces', replaces], ['Referred-By', '<sip:dave@ims.test>']] });
    const incoming = await bob.notification('call.incoming', (p) => p['replacesCallId'] === callId, 15_000);
    t.equal(incoming['replacesCallId'], callId, 'call.incoming names the call it replaces');
    const atW2 = epcscf.capture.requests('mw', 'in', 'INVITE').at(-1);
    t.equal(atW2 && getHeader(atW2, 'Replaces'), replaces, 'R-MMTEL-1: the Replaces arrived from Mw intact');
    const oldBye = answerBye(far);
    await bob.request('call.answer', { callId: String(incoming['callId']), sdp: OFFER });
    const dialog = await newCall;
    t.equal(dialog.response.status, 200, 'the replacing INVITE is answered 200');
    t.equal(getHeader(await oldBye, 'Call-ID'), getHeader(d.invite, 'Call-ID'), 'the replaced dialog is ended with BYE');
    await bob.notification('call.ended', (p) => p['callId'] === callId, 10_000);
    const gone = bob.notification('call.ended', (p) => p['callId'] === incoming['callId'], 10_000);
    t.equal((await far.bye(dialog)).status, 200, 'the new call is released');
    await gone;
  });
});

// ---- xmpp-ws: XEP-0251 Jingle Session Transfer ---------------------------------------------------

const JINGLE = 'urn:xmpp:jingle:1';
const TRANSFER = 'urn:xmpp:jingle:transfer:0';
const MMTEL = 'urn:epcscf:mmtel:0';

const jingleOf = (s: XmlNode): XmlNode | undefined => s.is('iq') && s.attrs['type'] === 'set' ? s.getChild('jingle', JINGLE) : undefined;
const action = (name: string, sid?: string) => (s: XmlNode): boolean => jingleOf(s)?.attrs['action'] === name && (sid === undefined || jingleOf(s)?.attrs['sid'] === sid);
const progressOf = (s: XmlNode): XmlNode | undefined => jingleOf(s)?.getChild('transfer-progress', MMTEL);

/** alice's session `sid` to `user`@ims.test, answered by the far end; resolves with the far dialog. */
async function aliceCalls(alice: XmppJsUser, far: ScriptedUas, user: string, sid: string, extra = ''): Promise<FarDialog> {
  const mark = alice.received.length;
  await alice.send(jingleIqFromSdp(OFFER, { to: `${user}@ims.test`, id: `si-${sid}`, sid, action: 'session-initiate', initiator: alice.jid })
    .replace('</jingle>', `${extra}</jingle>`));
  const d = await answerNext(far, user);
  await alice.next(action('session-accept', sid), 15_000, mark);
  return d;
}

/** A session-info from alice on `sid` carrying `payload`; resolves with the IQ answer. */
async function aliceInfo(alice: XmppJsUser, to: string, sid: string, payload: ReturnType<typeof xml>): Promise<XmlNode> {
  const id = `info-${sid}-${alice.received.length}`;
  const mark = alice.received.length;
  await alice.send(xml('iq', { type: 'set', to, id }, xml('jingle', { xmlns: JINGLE, action: 'session-info', sid }, payload)));
  return alice.next((s) => s.is('iq') && s.attrs['id'] === id, 10_000, mark);
}

t.test('TS 24.629 ECT over xmpp-ws (XEP-0251) with Kamailio and a scripted far end', async (t) => {
  const { core, far, epcscf, alice } = rig;

  await t.test('transferor, blind: session-info <transfer to=erin/> → REFER (Refer-To, Referred-By); sipfrag → <transfer-progress/>', async (t) => {
    const d = await aliceCalls(alice, far, 'dave', 'x-blind');
    const mark = alice.received.length;
    const referring = far.next('REFER', 15_000);
    t.equal((await aliceInfo(alice, 'dave@ims.test', 'x-blind', xml('transfer', { xmlns: TRANSFER, to: 'erin@ims.test' }))).attrs['type'], 'result', 'XEP-0251 §2: the transfer request is acknowledged');
    const refer = await referring;
    far.reply(refer, 202);
    t.equal(getHeader(refer.request, 'Refer-To'), '<sip:erin@ims.test>', 'Refer-To = the <transfer to/> JID as a SIP URI');
    t.equal(getHeader(refer.request, 'Referred-By'), '<sip:alice@ims.test>', 'Referred-By = the transferor');
    t.equal(getHeader(mwOut(epcscf, 'REFER').at(-1)!, 'Refer-To'), '<sip:erin@ims.test>', 'the REFER crossed Mw');
    await notifySipfrag(far, d, '180 Ringing', false);
    const ringing = progressOf(await alice.next((s) => progressOf(s) !== undefined, 10_000, mark));
    t.same(ringing?.attrs, { xmlns: MMTEL, status: '180', reason: 'Ringing', final: 'false' }, 'the sipfrag 180 reaches the client');
    await notifySipfrag(far, d, '200 OK', true);
    const ok = progressOf(await alice.next((s) => progressOf(s)?.attrs['status'] === '200', 10_000, mark));
    t.equal(ok?.attrs['final'], 'true', 'the final 200 ends the report');
    t.equal((await far.request(d.invite, d.toTag, 'BYE')).status, 200, 'the transferee releases the call');
    await alice.next(action('session-terminate', 'x-blind'), 10_000, mark);
  });

  await t.test('transferor, consultative: <transfer to=erin sid=<the consultation session>/> → Refer-To erin?Replaces=<its dialog>', async (t) => {
    const d = await aliceCalls(alice, far, 'dave', 'x-att-1');
    const e = await aliceCalls(alice, far, 'erin', 'x-att-2');
    const referring = far.next('REFER', 15_000);
    const answer = await aliceInfo(alice, 'dave@ims.test', 'x-att-1', xml('transfer', { xmlns: TRANSFER, to: 'erin@ims.test', sid: 'x-att-2' }));
    t.equal(answer.attrs['type'], 'result');
    const refer = await referring;
    far.reply(refer, 202);
    const fromTag = /;tag=([^;>\s]+)/.exec(getHeader(e.invite, 'From') ?? '')?.[1];
    t.equal(replacesOf(getHeader(refer.request, 'Refer-To') ?? ''), `${getHeader(e.invite, 'Call-ID')};to-tag=${e.toTag};from-tag=${fromTag}`,
      'RFC 3891 §6.1: the sid of <transfer/> became the Replaces of that session\'s dialog');
    const mark = alice.received.length;
    await notifySipfrag(far, d, '200 OK', true);
    t.equal(progressOf(await alice.next((s) => progressOf(s) !== undefined, 10_000, mark))?.attrs['final'], 'true');
    await far.request(e.invite, e.toTag, 'BYE');
    await far.request(d.invite, d.toTag, 'BYE');
    await alice.next(action('session-terminate', 'x-att-1'), 10_000, mark);
  });

  await t.test('transferee: a REFER → session-info <transfer to from/>; the client\'s session-initiate with <transfer/> is the INVITE with Referred-By; NOTIFY 100 then 200', async (t) => {
    const d = await aliceCalls(alice, far, 'dave', 'y-blind');
    const mark = alice.received.length;
    const referred = far.request(d.invite, d.toTag, 'REFER', { headers: [['Refer-To', '<sip:erin@ims.test>'], ['Referred-By', '<sip:dave@ims.test>']] });
    const asked = (await alice.next((s) => jingleOf(s)?.getChild('transfer', TRANSFER) !== undefined, 10_000, mark)).getChild('jingle', JINGLE)?.getChild('transfer', TRANSFER);
    t.same(asked?.attrs, { xmlns: TRANSFER, to: 'erin@ims.test', from: 'dave@ims.test' }, 'XEP-0251 §2: <transfer to=target from=transferor/>');
    t.equal((await referred).status, 202, 'the client\'s IQ result accepts the REFER (202)');
    const trying = await far.next('NOTIFY', 10_000);
    far.reply(trying, 200);
    t.equal(bodyText(trying.request), 'SIP/2.0 100 Trying\r\n');
    await alice.send(jingleIqFromSdp(OFFER, { to: 'erin@ims.test', id: 'si-y-new', sid: 'y-new', action: 'session-initiate', initiator: alice.jid })
      .replace('</jingle>', `<transfer xmlns="${TRANSFER}" from="dave@ims.test"/></jingle>`));
    const invite = await far.next('INVITE', 15_000);
    t.equal(getHeader(invite.request, 'Referred-By'), '<sip:dave@ims.test>', 'RFC 3892: the new INVITE carries Referred-By');
    const toTag = far.newTag();
    far.reply(invite, 200, { toTag, sdp: farAnswer() });
    await far.next('ACK', 15_000);
    await alice.next(action('session-accept', 'y-new'), 10_000, mark);
    const done = await far.next('NOTIFY', 10_000);
    far.reply(done, 200);
    t.equal(bodyText(done.request), 'SIP/2.0 200 OK\r\n', 'the transferor learns the transfer succeeded');
    await far.request(d.invite, d.toTag, 'BYE');
    await far.request(invite.request, toTag, 'BYE');
    await alice.next(action('session-terminate', 'y-new'), 10_000, mark);
  });

  await t.test('transferee, consultative: Refer-To ?Replaces → <transfer sid=…/>; the session-initiate naming that sid sends Replaces; a 486 is reported 486', async (t) => {
    const d = await aliceCalls(alice, far, 'dave', 'y-att');
    const mark = alice.received.length;
    const referred = far.request(d.invite, d.toTag, 'REFER', {
      headers: [['Refer-To', '<sip:erin@ims.test?Replaces=consult-2%40far%3Bto-tag%3De2%3Bfrom-tag%3Dd2>'], ['Referred-By', '<sip:dave@ims.test>']],
    });
    const asked = (await alice.next((s) => jingleOf(s)?.getChild('transfer', TRANSFER) !== undefined, 10_000, mark)).getChild('jingle', JINGLE)?.getChild('transfer', TRANSFER);
    const token = String(asked?.attrs['sid']);
    t.match(token, /\S+/, 'an attended transfer carries a sid standing for the replaced session');
    t.notMatch(token, /consult-2/, 'the sid is opaque (the SIP dialog stays in the gateway)');
    t.equal((await referred).status, 202);
    far.reply(await far.next('NOTIFY', 10_000), 200);
    await alice.send(jingleIqFromSdp(OFFER, { to: 'erin@ims.test', id: 'si-y-att2', sid: 'y-att2', action: 'session-initiate', initiator: alice.jid })
      .replace('</jingle>', `<transfer xmlns="${TRANSFER}" from="dave@ims.test" sid="${token}" to="erin@ims.test"/></jingle>`));
    const invite = await far.next('INVITE', 15_000);
    t.equal(getHeader(invite.request, 'Replaces'), 'consult-2@far;to-tag=e2;from-tag=d2', 'RFC 3891: the INVITE replaces the transferor\'s dialog with the target');
    far.reply(invite, 486, { toTag: far.newTag() });
    const failed = await far.next('NOTIFY', 10_000);
    far.reply(failed, 200);
    t.equal(bodyText(failed.request), 'SIP/2.0 486 Busy Here\r\n', 'the failure is reported in the sipfrag');
    await alice.next(action('session-terminate', 'y-att2'), 10_000, mark);
    await far.request(d.invite, d.toTag, 'BYE');
    await alice.next(action('session-terminate', 'y-att'), 10_000, mark);
  });

  await t.test('transfer target: an INVITE with Replaces → session-initiate with <transfer sid=<the replaced session>/>; accepting it ends that session as <transferred/>', async (t) => {
    const d = await aliceCalls(alice, far, 'dave', 'z-old');
    const aliceTag = /;tag=([^;>\s]+)/.exec(getHeader(d.invite, 'From') ?? '')?.[1] ?? '';
    const mark = alice.received.length;
    const newCall = far.invite('sip:alice@ims.test', `sip:127.0.0.1:${core.port}`, {
      user: 'erin', sdp: farAnswer(), headers: [['Replaces', `${getHeader(d.invite, 'Call-ID')};to-tag=${aliceTag};from-tag=${d.toTag}`], ['Referred-By', '<sip:dave@ims.test>']],
    });
    const initiate = await alice.next(action('session-initiate'), 15_000, mark);
    const jingle = initiate.getChild('jingle', JINGLE);
    t.equal(jingle?.getChild('transfer', TRANSFER)?.attrs['sid'], 'z-old', 'XEP-0251 §3: <transfer sid/> names the session this call replaces');
    const offer = sdpFromJingleIq(initiate, 'initiator');
    const answer = gatewayAnswer({
      address: { address: '127.0.0.1', port: 40500 }, ice: { ufrag: 'aliU', pwd: 'alicepasswordalicepasswo' },
      fingerprint: { algorithm: 'sha-256', value: Array.from({ length: 32 }, (_, i) => (i + 32).toString(16).toUpperCase()).join(':') },
      setup: 'active', mid: readOffer(offer).mid, ssrc: 4545,
    });
    const oldBye = answerBye(far);
    await alice.send(jingleIqFromSdp(answer, { to: String(initiate.attrs['from']), id: 'acc-z', sid: String(jingle?.attrs['sid']), action: 'session-accept', initiator: String(jingle?.attrs['initiator']), responder: alice.jid }));
    const dialog = await newCall;
    t.equal(dialog.response.status, 200, 'the replacing INVITE is answered');
    t.equal(getHeader(await oldBye, 'Call-ID'), getHeader(d.invite, 'Call-ID'), 'RFC 3891 §3: the replaced dialog ends with BYE');
    const ended = await alice.next(action('session-terminate', 'z-old'), 10_000, mark);
    t.ok(ended.getChild('jingle', JINGLE)?.getChild('reason', JINGLE)?.getChild('transferred', TRANSFER), 'the old session ends <success/><transferred/>');
    t.equal((await far.bye(dialog)).status, 200);
    await alice.next(action('session-terminate', String(jingle?.attrs['sid'])), 10_000, mark);
  });
});

// ---- sip-ws: JsSIP, everything ECT needs passes the P-CSCF intact (R-MMTEL-1/2) ------------------

t.test('TS 24.629 ECT over sip-ws (JsSIP) with Kamailio: REFER, Referred-By, Refer-To ?Replaces, NOTIFY sipfrag and INVITE with Replaces pass intact', async (t) => {
  const { core, far, epcscf, carol } = rig;
  const w2 = (direction: 'in' | 'out', method: string): SipRequest | undefined => epcscf.capture.requests('w2', direction, method).at(-1);

  await t.test('R-MMTEL-2 transferor, consultative: JsSIP\'s REFER with ?Replaces reaches the far end intact; its NOTIFY sipfrag reaches JsSIP', async (t) => {
    const first = carol.call('sip:dave@ims.test');
    const d = await answerNext(far, 'dave');
    await first.confirmed(15_000);
    const second = carol.call('sip:erin@ims.test');
    const e = await answerNext(far, 'erin');
    await second.confirmed(15_000);
    const events: string[] = [];
    const accepted = new Promise<void>((resolve) => {
      first.session.refer('sip:erin@ims.test', {
        replaces: second.session,
        eventHandlers: { trying: () => events.push('trying'), accepted: () => { events.push('accepted'); resolve(); } },
      } as never);
    });
    const refer = await far.next('REFER', 15_000);
    far.reply(refer, 202);
    const sent = w2('in', 'REFER');
    t.equal(getHeader(refer.request, 'Refer-To'), sent && getHeader(sent, 'Refer-To'), 'R-MMTEL-1: Refer-To (with its Replaces) unchanged from JsSIP to the far end');
    t.equal(getHeader(refer.request, 'Referred-By'), '<sip:carol@ims.test>', 'RFC 3892 Referred-By unchanged');
    const fromTag = /;tag=([^;>\s]+)/.exec(getHeader(e.invite, 'From') ?? '')?.[1];
    t.equal(replacesOf(getHeader(refer.request, 'Refer-To') ?? ''), `${getHeader(e.invite, 'Call-ID')};to-tag=${e.toTag};from-tag=${fromTag}`,
      'the Replaces names the consultation dialog as the far end knows it');
    await notifySipfrag(far, d, '100 Trying', false);
    await notifySipfrag(far, d, '200 OK', true);
    await withTimeout(accepted, 10_000, 'JsSIP reported the transfer accepted');
    t.same(events, ['trying', 'accepted'], 'JsSIP read both sipfrag NOTIFYs');
    const toCarol = w2('out', 'NOTIFY');
    t.equal(toCarol && bodyText(toCarol), 'SIP/2.0 200 OK\r\n', 'the sipfrag body reached the WebSocket intact');
    t.equal(toCarol && getHeader(toCarol, 'Content-Type'), SIPFRAG);
    await far.request(e.invite, e.toTag, 'BYE');
    await far.request(d.invite, d.toTag, 'BYE');
    await first.ended(10_000);
    await second.ended(10_000);
  });

  await t.test('transferee: the far end\'s REFER with ?Replaces reaches JsSIP; its 202, NOTIFY sipfrag and INVITE with Replaces reach the far end', async (t) => {
    const call = carol.call('sip:dave@ims.test');
    const d = await answerNext(far, 'dave');
    await call.confirmed(15_000);
    const events = call.session as unknown as NodeJS.EventEmitter;
    events.once('refer', (refer: { accept: (cb: null, options: Record<string, unknown>) => void }) => refer.accept(null, { mediaConstraints: { audio: false, video: false } }));
    const referred = far.request(d.invite, d.toTag, 'REFER', {
      headers: [['Refer-To', '<sip:erin@ims.test?Replaces=consult-3%40far%3Bto-tag%3De3%3Bfrom-tag%3Dd3>'], ['Referred-By', '<sip:dave@ims.test>']],
    });
    t.equal((await referred).status, 202, 'JsSIP\'s 202 Accepted came back');
    const toCarol = w2('out', 'REFER');
    t.equal(toCarol && getHeader(toCarol, 'Refer-To'), '<sip:erin@ims.test?Replaces=consult-3%40far%3Bto-tag%3De3%3Bfrom-tag%3Dd3>', 'R-MMTEL-1: Refer-To unchanged on the WebSocket');
    t.equal(toCarol && getHeader(toCarol, 'Referred-By'), '<sip:dave@ims.test>', 'Referred-By unchanged');
    const invite = await far.next('INVITE', 15_000);
    t.equal(getHeader(invite.request, 'Replaces'), 'consult-3@far;to-tag=e3;from-tag=d3', 'the INVITE with Replaces reaches the far end');
    const toTag = far.newTag();
    far.reply(invite, 200, { toTag, sdp: farAnswer() });
    await far.next('ACK', 15_000);
    const bodies: string[] = [];
    while (!bodies.includes('SIP/2.0 200 OK')) {
      const notify = await far.next('NOTIFY', 10_000);
      far.reply(notify, 200);
      t.equal(getHeader(notify.request, 'Content-Type'), SIPFRAG, 'a message/sipfrag NOTIFY');
      bodies.push(bodyText(notify.request).trim());
    }
    t.same(bodies, ['SIP/2.0 100 Trying', 'SIP/2.0 200 OK'], 'JsSIP\'s NOTIFY sipfrag progress reached the transferor intact');
    await far.request(d.invite, d.toTag, 'BYE');
    await far.request(invite.request, toTag, 'BYE');
    await call.ended(10_000);
  });

  await t.test('transfer target: an INVITE with Replaces reaches JsSIP intact, which answers it and ends the replaced dialog', async (t) => {
    const call = carol.call('sip:dave@ims.test');
    const d = await answerNext(far, 'dave');
    await call.confirmed(15_000);
    const carolTag = /;tag=([^;>\s]+)/.exec(getHeader(d.invite, 'From') ?? '')?.[1] ?? '';
    const replaces = `${getHeader(d.invite, 'Call-ID')};to-tag=${carolTag};from-tag=${d.toTag}`;
    // JsSIP hands an INVITE with Replaces to the replaced session ('replaces'), whose accept() takes it.
    (call.session as unknown as NodeJS.EventEmitter).once('replaces', (r: { accept: () => void }) => r.accept());
    const newCall = far.invite('sip:carol@ims.test', `sip:127.0.0.1:${core.port}`, { user: 'erin', sdp: farAnswer(), headers: [['Replaces', replaces], ['Referred-By', '<sip:dave@ims.test>']] });
    const incoming = await carol.nextIncoming(15_000);
    const toCarol = w2('out', 'INVITE');
    t.equal(toCarol && getHeader(toCarol, 'Replaces'), replaces, 'R-MMTEL-1: Replaces reached JsSIP unchanged');
    t.equal(toCarol && getHeader(toCarol, 'Referred-By'), '<sip:dave@ims.test>', 'and Referred-By');
    const oldBye = answerBye(far);
    incoming.answer();
    const dialog = await newCall;
    t.equal(dialog.response.status, 200, 'JsSIP answered the replacing INVITE');
    t.equal(getHeader(await oldBye, 'Call-ID'), getHeader(d.invite, 'Call-ID'), 'RFC 3891 §3: JsSIP ended the replaced dialog');
    t.equal((await far.bye(dialog)).status, 200);
  });
});

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}
