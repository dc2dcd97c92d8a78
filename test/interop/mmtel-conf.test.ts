// Issue #14, TS 24.605 CONF (TS 24.147 §5.3.1, RFC 4579, RFC 4575) with real peers: a conference
// focus (test/support/mmtel/conference-focus.ts) behind Kamailio; epcscf's conference factory URI
// (config mmtel.conferenceFactoryUri) names it. Each W2 client creates an ad-hoc conference (INVITE
// to the factory; the 200's Contact carries isfocus = the conference URI), adds a party (REFER with
// Refer-To <party;method=INVITE>), removes it (method=BYE) and sees the participants of the RFC 4575
// conference event package: sip-ws (JsSIP) has all of it pass through intact (R-MMTEL-1/2),
// jsonrpc-ws has conference.create/add/remove and conference.participants, xmpp-ws an
// urn:epcscf:mmtel:0 <conference/> IQ and a headline <conference/> push.
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { bodyText, formatUri, getHeader, type SipRequest } from '../../core/sip/index.js';
import { startImsCore, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import type { RpcWsClient } from '../support/jsonrpc-client.js';
import { epcscfWithThreeClients } from '../support/mmtel-clients.js';
import { ConferenceFocus } from '../support/mmtel/conference-focus.js';
import { withDeadline, type JsSipUser } from '../support/wic/jssip-user.js';
import { jingleIqFromSdp, xml, type XmlNode, type XmppJsUser } from '../support/xmpp-clients.js';

const CHROME_AUDIO_OFFER = readFileSync(new URL('../fixtures/sdp/chrome-audio-offer.sdp', import.meta.url), 'utf8');
const JINGLE = 'urn:xmpp:jingle:1';
const MMTEL = 'urn:epcscf:mmtel:0';
const ISFOCUS = /^<(sip:conf-\d+@127\.0\.0\.1:\d+)>;isfocus$/;

interface Rig { focus: ConferenceFocus; epcscf: EpcscfUnderTest; carol: JsSipUser; bob: RpcWsClient; alice: XmppJsUser }

/** Kamailio, the focus, epcscf (three plugins) whose conference factory URI is the focus's. */
async function setUp(t: Test): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const focus = await ConferenceFocus.start();
  t.teardown(() => focus.close());
  const { epcscf, carol, bob, alice } = await epcscfWithThreeClients(t, core.uri('udp'), { mmtel: { conferenceFactoryUri: focus.factoryUri } });
  return { focus, epcscf, carol, bob, alice };
}

/** A Request-URI without its parameters (Kamailio may add transport=udp). */
const requestUri = (r: SipRequest): string => formatUri(r.uri.kind === 'sip' ? { ...r.uri, params: [] } : r.uri);

/** The SIP a TS 24.605 / RFC 4579 client sends, as the focus saw it on Mw, for the conference at `conferenceUri`. */
function assertClientSip(t: Test, rig: Rig, mark: number, conferenceUri: string, party: string): void {
  const got = rig.focus.received.slice(mark);
  const invite = got.find((r) => r.method === 'INVITE');
  t.equal(invite && `${invite.uri.kind === 'sip' ? invite.uri.user : ''}`, 'conf-factory', 'TS 24.147 §5.3.1.3.2: the INVITE goes to the conference factory URI');
  const refers = got.filter((r): r is SipRequest => r.method === 'REFER');
  t.same(refers.map((r) => getHeader(r, 'Refer-To')), [`<${party};method=INVITE>`, `<${party};method=BYE>`],
    'RFC 4579 §5.5/§5.10: REFER with Refer-To <party;method=INVITE>, then <party;method=BYE>');
  t.same(refers.map((r) => requestUri(r)), [conferenceUri, conferenceUri], 'each REFER is addressed to the conference URI (the focus)');
  const subscribe = got.find((r) => r.method === 'SUBSCRIBE' && requestUri(r) === conferenceUri);
  t.equal(subscribe && getHeader(subscribe, 'Event'), 'conference', 'RFC 4575 §3: SUBSCRIBE Event: conference to the conference URI');
  t.match(subscribe && getHeader(subscribe, 'Accept'), /application\/conference-info\+xml/, 'RFC 4575 §3.4: Accept application/conference-info+xml');
}

interface JsSipSubscriber {
  on(event: 'notify', listener: (final: boolean, request: unknown, body: string | undefined, contentType: string | undefined) => void): void;
  subscribe(): void;
  terminate(): void;
}
interface JsSipRefer { on(event: 'requestSucceeded' | 'accepted' | 'failed' | 'requestFailed', listener: (e: unknown) => void): void }

t.test('TS 24.605 CONF: create, add, remove and the participant list in every W2 protocol, through Kamailio to a focus', async (t) => {
  const rig = await setUp(t);
  const { focus, epcscf, carol } = rig;

  await t.test('R-MMTEL-1/2 sip-ws: JsSIP\'s INVITE to the factory, REFERs with method params and SUBSCRIBE/NOTIFY conference pass intact', async (t) => {
    const mark = focus.received.length;
    const call = carol.call(focus.factoryUri);
    await call.accepted(10_000);
    const ok = carol.capture.responses('received', 'INVITE').find((r) => r.status === 200);
    const contact = ok && getHeader(ok, 'Contact');
    t.match(contact, ISFOCUS, 'the 200\'s Contact reaches JsSIP with its isfocus parameter');
    const conferenceUri = ISFOCUS.exec(contact ?? '')?.[1] ?? '';

    const notifies: string[] = [];
    let wake: (() => void) | undefined;
    const subscriber = (carol.ua as unknown as { subscribe(target: string, event: string, accept: string, options: object): JsSipSubscriber })
      .subscribe(conferenceUri, 'conference', 'application/conference-info+xml', { expires: 600 });
    subscriber.on('notify', (_final, _request, body) => { notifies.push(body ?? ''); wake?.(); });
    const notified = (what: string, match: (body: string) => boolean): Promise<string> => withDeadline(new Promise<string>((resolve) => {
      const check = (): void => { const hit = notifies.find(match); if (hit !== undefined) resolve(hit); };
      wake = check;
      check();
    }), 10_000, what, () => notifies.join('\n---\n'));
    subscriber.subscribe();
    const first = await notified('the first conference NOTIFY', (b) => b.includes('version="'));
    t.match(first, /<user entity="sip:carol@ims\.test"/, 'RFC 4575: the first NOTIFY lists carol, the creator');

    const refer = (target: string): Promise<void> => withDeadline(new Promise<void>((resolve, reject) => {
      const sub = call.session.refer(target) as unknown as JsSipRefer;
      sub.on('accepted', () => resolve()); // NOTIFY sipfrag 200 (RFC 3515 §2.4.5)
      sub.on('failed', () => reject(new Error(`REFER ${target} failed`)));
      sub.on('requestFailed', () => reject(new Error(`REFER ${target} refused`)));
    }), 10_000, `REFER ${target}`);
    await refer('sip:dave@ims.test;method=INVITE');
    await notified('a NOTIFY with dave', (b) => b.includes('entity="sip:dave@ims.test"'));
    t.same(focus.participants(conferenceUri), ['sip:carol@ims.test', 'sip:dave@ims.test'], 'the focus added dave');
    await refer('sip:dave@ims.test;method=BYE');
    const after = await notified('a NOTIFY without dave', (b) => /version="[3-9]"/.test(b) && !b.includes('sip:dave@'));
    t.match(after, /<user entity="sip:carol@ims\.test"/, 'carol stays');

    const notifyOnMw = epcscf.capture.requests('mw', 'in', 'NOTIFY').find((n) => getHeader(n, 'Event') === 'conference');
    const notifyOnW2 = epcscf.capture.requests('w2', 'out', 'NOTIFY').find((n) => getHeader(n, 'Event') === 'conference');
    t.equal(notifyOnW2 && bodyText(notifyOnW2), notifyOnMw && bodyText(notifyOnMw), 'R-MMTEL-1: the conference-info body crosses epcscf byte for byte');
    assertClientSip(t, rig, mark, conferenceUri, 'sip:dave@ims.test');
    subscriber.terminate();
    call.hangup();
    await call.ended(10_000);
  });

  await t.test('jsonrpc-ws: conference.create, conference.add, conference.remove; conference.participants from the RFC 4575 NOTIFYs', async (t) => {
    const { bob } = rig;
    const mark = focus.received.length;
    const created = await bob.request('conference.create', { sdp: CHROME_AUDIO_OFFER });
    const callId = created['callId'];
    t.equal(created['factoryUri'], focus.factoryUri, 'the INVITE went to the configured factory URI (mmtel.conferenceFactoryUri)');
    await bob.notification('call.answered', (p) => p['callId'] === callId, 10_000);
    const participants = (p: Record<string, unknown>): string[] => ((p['participants'] ?? []) as { uri: string }[]).map((u) => u.uri);
    const first = await bob.notification('conference.participants', (p) => p['callId'] === callId && p['version'] !== undefined, 10_000);
    t.match(first['conferenceUri'], /^sip:conf-\d+@127\.0\.0\.1:\d+$/, 'the conference URI is the isfocus Contact');
    const conferenceUri = String(first['conferenceUri']);
    t.same(first['participants'], [{ uri: 'sip:bob@ims.test', state: 'full', status: 'connected' }], 'RFC 4575: bob, the creator, is connected');

    t.same(await bob.request('conference.add', { callId, party: 'sip:dave@ims.test' }), {}, 'the focus accepted the REFER (202)');
    const progress = await bob.notification('call.transferProgress', (p) => p['callId'] === callId && p['final'] === true, 10_000);
    t.equal(progress['sipStatus'], 200, 'the focus\'s NOTIFY sipfrag: 200 OK');
    const added = await bob.notification('conference.participants', (p) => p['callId'] === callId && participants(p).includes('sip:dave@ims.test'), 10_000);
    t.same(participants(added), ['sip:bob@ims.test', 'sip:dave@ims.test'], 'dave joined');
    await bob.request('conference.remove', { callId, party: 'sip:dave@ims.test' });
    const removed = await bob.notification('conference.participants', (p) => p['callId'] === callId && Number(p['version']) > Number(added['version']), 10_000);
    t.same(participants(removed), ['sip:bob@ims.test'], 'dave left');

    const wrong = await bob.request('conference.add', { callId, party: 'sip:x@ims.test?Route=%3Csip:evil%3E' }).then(() => undefined, (error: unknown) => error);
    t.ok(wrong, 'a party with URI headers is refused before anything is sent (RFC 3261 §19.1.1)');
    await bob.request('call.hangup', { callId });
    await bob.notification('call.ended', (p) => p['callId'] === callId, 10_000);
    assertClientSip(t, rig, mark, conferenceUri, 'sip:dave@ims.test');
  });

  await t.test('xmpp-ws: session-initiate with <conference xmlns="urn:epcscf:mmtel:0"/>, <conference action="add|remove"/> IQs, headline <conference/> participant lists', async (t) => {
    const { alice } = rig;
    const mark = focus.received.length;
    const sid = 'conf-xmpp-1';
    const at = alice.received.length;
    const isPush = (s: XmlNode): boolean => s.is('message') && s.attrs['type'] === 'headline' && s.getChild('conference', MMTEL) !== undefined;
    const users = (s: XmlNode): string[] => (s.getChild('conference', MMTEL)?.getChildren('user') ?? []).map((u) => String(u.attrs['entity']));
    const version = (s: XmlNode): number => Number(s.getChild('conference', MMTEL)?.attrs['version'] ?? 0);
    await alice.send(jingleIqFromSdp(CHROME_AUDIO_OFFER, { to: 'conf-factory@ims.test', id: 'si-conf', sid, action: 'session-initiate', initiator: alice.jid })
      .replace('</jingle>', `<conference xmlns='${MMTEL}'/></jingle>`));
    await alice.next((s) => s.is('iq') && s.attrs['type'] === 'set' && s.getChild('jingle', JINGLE)?.attrs['action'] === 'session-accept', 10_000, at);
    const first = await alice.next((s) => isPush(s) && version(s) > 0, 10_000, at);
    const conferenceUri = String(first.getChild('conference', MMTEL)?.attrs['uri']);
    t.match(conferenceUri, /^sip:conf-\d+@127\.0\.0\.1:\d+$/, '<conference uri/> is the isfocus Contact');
    t.equal(first.attrs['from'], 'ims.test', 'pushed by the server');
    t.same(first.getChild('conference', MMTEL)?.getChildren('user').map((u) => u.attrs), [{ entity: 'sip:alice@ims.test', state: 'full', status: 'connected' }], 'alice, the creator, is connected');

    const change = async (id: string, action: string, party: string): Promise<XmlNode> => {
      await alice.send(xml('iq', { type: 'set', id }, xml('conference', { xmlns: MMTEL, sid, action, party })));
      return alice.next((s) => s.is('iq') && s.attrs['id'] === id, 10_000, at);
    };
    t.equal((await change('conf-add', 'add', 'sip:dave@ims.test')).attrs['type'], 'result', 'the IQ result follows the focus\'s 202');
    const added = await alice.next((s) => isPush(s) && users(s).includes('sip:dave@ims.test'), 10_000, at);
    t.same(users(added), ['sip:alice@ims.test', 'sip:dave@ims.test'], 'dave joined');
    t.equal((await change('conf-remove', 'remove', 'sip:dave@ims.test')).attrs['type'], 'result');
    const removed = await alice.next((s) => isPush(s) && version(s) > version(added), 10_000, at);
    t.same(users(removed), ['sip:alice@ims.test'], 'dave left');
    t.equal((await change('conf-bad', 'mute', 'sip:dave@ims.test')).attrs['type'], 'error', 'an unknown action is a bad-request');
    t.equal((await change('conf-headers', 'add', 'sip:x@ims.test?Route=x')).attrs['type'], 'error', 'a party with URI headers is refused, nothing sent');

    await alice.send(xml('iq', { type: 'set', to: 'conf-factory@ims.test', id: 'st-conf' },
      xml('jingle', { xmlns: JINGLE, action: 'session-terminate', sid }, xml('reason', {}, xml('success')))));
    await focus.waitFor('BYE', mark, 10_000);
    assertClientSip(t, rig, mark, conferenceUri, 'sip:dave@ims.test');
  });
});
