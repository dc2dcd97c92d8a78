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
import { SIPP_SCENARIOS, runSipp } from '../support/peers/sipp.js';
import { ScriptedUas } from '../support/scripted-uas.js';
import { gatewayAnswer } from '../support/webrtc/gateway-sdp.js';
import type { JsSipUser } from '../support/wic/jssip-user.js';
import type { XmppJsUser } from '../support/xmpp-clients.js';

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
    const registered = await runSipp([`127.0.0.1:${core.port}`, '-sf', SIPP_SCENARIOS.registerAuth, '-m', '1', '-s', user, '-au', user, '-ap', 'secret',
      '-key', 'domain', 'ims.test', '-i', '127.0.0.1', '-p', String(port)], { timeoutMs: 10_000 });
    if (registered.code !== 0) { releasePort(port); throw new Error(`sipp could not register ${user} (${registered.code})\n${registered.stdout.slice(-2000)}`); }
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
    body: { type: SIPFRAG, text: `SIP/2.0 ${status}\r\n` },
  }).then((r) => r.status);
}

/** The Replaces of a Refer-To URI, unescaped (RFC 3891 §6.1). */
function replacesOf(referTo: string): string | undefined {
  const uri = parseNameAddr(referTo, 'Refer-To').uri;
  if (uri.kind !== 'sip') return undefined;
  return uri.headers.find((h) => h.name.toLowerCase() === 'replaces')?.value ?? undefined;
}

const mwOut = (epcscf: EpcscfUnderTest, method: string): SipRequest[] => epcscf.capture.requests('mw', 'out', method);

t.test('TS 24.629 ECT over jsonrpc-ws with Kamailio and a scripted far end', async (t) => {
  const { core, far, epcscf, bob } = await setUp(t);

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
