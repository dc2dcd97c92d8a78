// Issue #14, TS 24.642 CCBS (completion of communications to busy subscriber) on RFC 6910: the
// callee's AS (a scripted far end registered as dave at Kamailio) answers the call 486 Busy Here
// with `Call-Info: <cc-uri>;purpose=call-completion;m=BS`, accepts the caller's call-completion
// SUBSCRIBE, NOTIFYs `cc-state: queued` then `cc-state: ready`, and takes the recall INVITE.
// Each W2 client does it in its own terms: sip-ws (JsSIP) sees the 486 with Call-Info intact and
// its own SUBSCRIBE/NOTIFY cross (R-MMTEL-1/2); jsonrpc-ws gets call.ended `callCompletion`,
// callCompletion.request / .ready / .recall; xmpp-ws gets <call-completion/> in the
// session-terminate, the request IQ, the ready headline and the recall session-initiate.
import { readFileSync } from 'node:fs';
import type { Subscriber } from 'jssip/lib/Subscriber.js';
import t, { type Test } from 'tap';
import { formatUri, getHeader, getHeaders, type SipRequest } from '../../core/sip/index.js';
import { startImsCore, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import type { RpcWsClient } from '../support/jsonrpc-client.js';
import { epcscfWithThreeClients } from '../support/mmtel-clients.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { registerContactAtCore } from '../support/peers/sipp.js';
import { plainSdp, ScriptedUas, type Received } from '../support/scripted-uas.js';
import { withDeadline, type JsSipUser } from '../support/wic/jssip-user.js';
import { XmppJsUser, jingleIqFromSdp, xml, type XmlNode } from '../support/xmpp-clients.js';

const CHROME_AUDIO_OFFER = readFileSync(new URL('../fixtures/sdp/chrome-audio-offer.sdp', import.meta.url), 'utf8');
const JINGLE = 'urn:xmpp:jingle:1';
const MMTEL = 'urn:epcscf:mmtel:0';
const CC_BODY = 'application/call-completion';

interface Rig { far: ScriptedUas; ccUri: string; epcscf: EpcscfUnderTest; carol: JsSipUser; bob: RpcWsClient; alice: XmppJsUser }

/** Kamailio, dave registered there with the scripted AS as its contact, epcscf with one client per plugin. */
async function setUp(t: Test): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const port = await allocatePort();
  await registerContactAtCore(core.port, 'dave', port).catch((error: unknown) => { releasePort(port); throw error; });
  const far = await ScriptedUas.start(port);
  t.teardown(async () => { await far.close(); releasePort(port); });
  const { epcscf, carol, bob, alice } = await epcscfWithThreeClients(t, core.uri('udp'));
  return { far, ccUri: far.uri('cc-monitor'), epcscf, carol, bob, alice };
}

/** The AS: dave is busy, and completion of calls is offered (RFC 6910 §4.4). */
async function busyWithOffer(rig: Rig): Promise<void> {
  const invite = await rig.far.next('INVITE', 15_000);
  rig.far.reply(invite, 486, { toTag: rig.far.newTag(), headers: [['Call-Info', `<${rig.ccUri}>;purpose=call-completion;m=BS`]] });
}

/** The CC monitor: 200 to the call-completion SUBSCRIBE, then NOTIFY queued and NOTIFY ready (RFC 6910 §8). */
async function acceptAndReady(t: Test, rig: Rig): Promise<{ subscribe: SipRequest; tag: string }> {
  const received: Received = await rig.far.next('SUBSCRIBE', 15_000);
  const subscribe = received.request;
  t.equal(formatUri(subscribe.uri), `${rig.ccUri};m=BS`, 'RFC 6910 §7.2: SUBSCRIBE to the cc URI with m=BS');
  t.equal(getHeader(subscribe, 'Event'), 'call-completion', 'Event: call-completion');
  t.match(getHeader(subscribe, 'Accept') ?? '', CC_BODY, 'Accept: application/call-completion');
  const tag = rig.far.newTag();
  rig.far.reply(received, 200, {
    toTag: tag,
    headers: [...getHeaders(subscribe, 'Record-Route').map((rr): [string, string] => ['Record-Route', rr]), ['Contact', rig.far.contact], ['Expires', '600']],
  });
  for (const state of ['queued', 'ready']) {
    const answer = await rig.far.request(subscribe, tag, 'NOTIFY', {
      headers: [['Event', 'call-completion'], ['Subscription-State', 'active;expires=600']],
      body: { contentType: CC_BODY, text: `cc-state: ${state}\r\n` },
    });
    t.equal(answer.status, 200, `NOTIFY cc-state: ${state} answered 200`);
  }
  return { subscribe, tag };
}

/** The recall: the CC call reaches dave; answered, then hung up by the caller. */
async function answerRecall(rig: Rig): Promise<void> {
  const invite = await rig.far.next('INVITE', 15_000);
  rig.far.reply(invite, 200, { toTag: rig.far.newTag(), sdp: plainSdp(1) });
  const bye = await rig.far.next('BYE', 15_000);
  rig.far.reply(bye, 200);
}

/** The monitor ends the subscription once the recall was made (RFC 6665 §4.2.2). */
async function endSubscription(rig: Rig, subscribe: SipRequest, tag: string): Promise<number> {
  const answer = await rig.far.request(subscribe, tag, 'NOTIFY', {
    headers: [['Event', 'call-completion'], ['Subscription-State', 'terminated;reason=noresource']],
  });
  return answer.status;
}

/** The recall INVITE on Mw carries the m=BS URI parameter (RFC 6910 §7.4). */
function recallOnMw(epcscf: EpcscfUnderTest, from: number): SipRequest | undefined {
  return epcscf.capture.requests('mw', 'out', 'INVITE').slice(from).find((r) => /;m=BS\b/.test(formatUri(r.uri)));
}

const jingleAction = (action: string, sid: string) => (s: XmlNode): boolean => s.is('iq') && s.attrs['type'] === 'set'
  && s.getChild('jingle', JINGLE)?.attrs['action'] === action && s.getChild('jingle', JINGLE)?.attrs['sid'] === sid;

t.test('TS 24.642 CCBS / RFC 6910: a 486 with Call-Info purpose=call-completion;m=BS, the call-completion SUBSCRIBE, NOTIFY cc-state ready and the recall INVITE with m=BS, in all three W2 protocols', async (t) => {
  const rig = await setUp(t);
  const { epcscf, carol, bob, alice } = rig;

  await t.test('sip-ws (JsSIP): the 486 Call-Info reaches the client intact; its SUBSCRIBE and the NOTIFYs cross (R-MMTEL-1/2); its recall keeps m=BS', async (t) => {
    const outgoing = carol.call('sip:dave@ims.test');
    await busyWithOffer(rig);
    t.equal((await outgoing.ended(15_000)).status, 486, 'JsSIP\'s call failed 486');
    const busy = carol.capture.responses('received', 'INVITE').find((r) => r.status === 486);
    t.equal(busy && getHeader(busy, 'Call-Info'), `<${rig.ccUri}>;purpose=call-completion;m=BS`, 'the Call-Info reached JsSIP intact');

    const subscriber: Subscriber = carol.ua.subscribe(`${rig.ccUri};m=BS`, 'call-completion', CC_BODY, { expires: 600, contentType: CC_BODY });
    const events = subscriber as unknown as NodeJS.EventEmitter;
    const ready = new Promise<string>((resolve) => events.on('notify', (_final: boolean, _request: unknown, body: string | undefined) => {
      if (body?.includes('cc-state: ready') === true) resolve(body);
    }));
    subscriber.subscribe();
    const { subscribe, tag } = await acceptAndReady(t, rig);
    t.match(await withDeadline(ready, 10_000, 'carol: NOTIFY cc-state ready'), /cc-state: ready/, 'JsSIP got the NOTIFY with cc-state: ready');
    const notify = carol.capture.requests('received', 'NOTIFY').at(-1);
    t.equal(notify && getHeader(notify, 'Content-Type'), CC_BODY, 'the NOTIFY body type reached JsSIP intact');

    const mark = epcscf.capture.requests('mw', 'out', 'INVITE').length;
    const recall = carol.call('sip:dave@ims.test;m=BS');
    const answered = answerRecall(rig);
    await recall.accepted(15_000);
    t.ok(recallOnMw(epcscf, mark), 'the recall INVITE on Mw carries m=BS');
    recall.hangup();
    await answered;
    t.equal(await endSubscription(rig, subscribe, tag), 200, 'the terminating NOTIFY reached JsSIP');
  });

  await t.test('jsonrpc-ws: call.ended callCompletion {mode BS}, callCompletion.request → SUBSCRIBE, callCompletion.ready, callCompletion.recall → INVITE m=BS', async (t) => {
    const { callId } = await bob.request('call.invite', { to: 'sip:dave@ims.test', sdp: CHROME_AUDIO_OFFER });
    await busyWithOffer(rig);
    const ended = await bob.notification('call.ended', (p) => p['callId'] === callId, 15_000);
    t.equal(ended['sipStatus'], 486, 'call.ended sipStatus 486');
    t.same(ended['callCompletion'], { mode: 'BS', uri: rig.ccUri }, 'call.ended carries the completion-of-calls offer');

    const requested = bob.request('callCompletion.request', { callId });
    const { subscribe, tag } = await acceptAndReady(t, rig);
    t.same(await requested, { callId, mode: 'BS', state: 'requested' }, 'callCompletion.request resolved once the SUBSCRIBE got its 200');
    const ready = await bob.notification('callCompletion.ready', (p) => p['callId'] === callId, 10_000);
    t.same(ready, { callId, mode: 'BS', target: 'sip:dave@ims.test' }, 'callCompletion.ready');

    const mark = epcscf.capture.requests('mw', 'out', 'INVITE').length;
    const recalled = await bob.request('callCompletion.recall', { callId, sdp: CHROME_AUDIO_OFFER });
    const answered = answerRecall(rig);
    await bob.notification('call.answered', (p) => p['callId'] === recalled['callId'], 15_000);
    const recallInvite = recallOnMw(epcscf, mark);
    t.equal(recallInvite && formatUri(recallInvite.uri), 'sip:dave@ims.test;m=BS', 'the recall INVITE on Mw: R-URI sip:dave@ims.test;m=BS');
    await bob.request('call.hangup', { callId: recalled['callId'] });
    await answered;
    t.equal(await endSubscription(rig, subscribe, tag), 200, 'the terminating NOTIFY was answered');
    await bob.notification('callCompletion.ended', (p) => p['callId'] === callId, 10_000);
  });

  await t.test('xmpp-ws: session-terminate <busy/> with <call-completion mode=BS/>, the request IQ, the ready headline, the recall session-initiate', async (t) => {
    const sid = 'ccbs-1';
    const mark = alice.received.length;
    await alice.send(jingleIqFromSdp(CHROME_AUDIO_OFFER, { to: 'dave@ims.test', id: 'si-ccbs', sid, action: 'session-initiate', initiator: alice.jid }));
    await busyWithOffer(rig);
    const terminate = (await alice.next(jingleAction('session-terminate', sid), 15_000, mark)).getChild('jingle', JINGLE);
    t.ok(terminate?.getChild('reason')?.getChild('busy'), `<reason><busy/></reason>: ${terminate?.toString() ?? ''}`);
    t.same(terminate?.getChild('call-completion', MMTEL)?.attrs, { xmlns: MMTEL, mode: 'BS' }, '<call-completion mode=BS/> offers it');

    await alice.send(xml('iq', { type: 'set', to: 'dave@ims.test', id: 'cc-request' }, xml('call-completion', { xmlns: MMTEL, sid })));
    const { subscribe, tag } = await acceptAndReady(t, rig);
    const result = await alice.next((s) => s.is('iq') && s.attrs['id'] === 'cc-request', 10_000, mark);
    t.equal(result.attrs['type'], 'result', 'the request IQ got its result');
    const ready = await alice.next((s) => s.is('message') && s.getChild('call-completion', MMTEL)?.attrs['state'] === 'ready', 10_000, mark);
    t.same(ready.getChild('call-completion', MMTEL)?.attrs, { xmlns: MMTEL, sid, state: 'ready', mode: 'BS', target: 'sip:dave@ims.test' }, `ready headline: ${ready.toString()}`);
    t.equal(ready.attrs['from'], 'dave@ims.test', 'from the callee');

    const recallSid = 'ccbs-recall';
    const before = epcscf.capture.requests('mw', 'out', 'INVITE').length;
    const initiate = jingleIqFromSdp(CHROME_AUDIO_OFFER, { to: 'dave@ims.test', id: 'si-recall', sid: recallSid, action: 'session-initiate', initiator: alice.jid })
      .replace('</jingle>', `<call-completion xmlns='${MMTEL}' sid='${sid}'/></jingle>`);
    await alice.send(initiate);
    const answered = answerRecall(rig);
    await alice.next(jingleAction('session-accept', recallSid), 15_000, mark);
    t.ok(recallOnMw(epcscf, before), 'the recall INVITE on Mw carries m=BS');
    await alice.send(xml('iq', { type: 'set', to: 'dave@ims.test', id: 'st-recall' },
      xml('jingle', { xmlns: JINGLE, action: 'session-terminate', sid: recallSid }, xml('reason', {}, xml('success')))));
    await answered;
    t.equal(await endSubscription(rig, subscribe, tag), 200, 'the terminating NOTIFY was answered');
  });

  const busies = epcscf.capture.responses('mw', 'in', 'INVITE').filter((r) => r.status === 486);
  t.equal(busies.length, 3, 'three 486 on Mw, one per client');
  t.ok(busies.every((r) => getHeader(r, 'Call-Info') === `<${rig.ccUri}>;purpose=call-completion;m=BS`), 'each with the AS\'s Call-Info');
  const subscribes = epcscf.capture.requests('mw', 'out', 'SUBSCRIBE').filter((r) => getHeader(r, 'Event') === 'call-completion');
  t.equal(subscribes.length, 3, 'three call-completion SUBSCRIBEs on Mw');
  t.ok(subscribes.every((r) => formatUri(r.uri) === `${rig.ccUri};m=BS`), 'each to the cc URI with m=BS');
});
