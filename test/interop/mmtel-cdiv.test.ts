// Issue #14, TS 24.604 CDIV notification: the callee's AS (a sipp UAS registered as dave at
// Kamailio) diverts the call to erin (cause=302, RFC 4458) and tells the caller with a 181 Call
// Is Being Forwarded carrying History-Info (RFC 7044), then the diverted-to UE answers 200.
// Each W2 client learns of the diversion in its own terms: sip-ws (JsSIP) gets the 181 and the
// History-Info intact (R-MMTEL-1), jsonrpc-ws a call.progress with `diversion`, xmpp-ws a
// session-info with <diverted xmlns='urn:epcscf:mmtel:0'/>.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { getHeaders } from '../../core/sip/index.js';
import { startImsCore, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import type { RpcWsClient } from '../support/jsonrpc-client.js';
import { epcscfWithThreeClients } from '../support/mmtel-clients.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { registerContactAtCore, startSippUas, type SippUas } from '../support/peers/sipp.js';
import type { JsSipUser } from '../support/wic/jssip-user.js';
import { XmppJsUser, jingleIqFromSdp, xml, type XmlNode } from '../support/xmpp-clients.js';

const UAS_CDIV = fileURLToPath(new URL('../fixtures/mmtel/uas-cdiv-181.xml', import.meta.url));
const CHROME_AUDIO_OFFER = readFileSync(new URL('../fixtures/sdp/chrome-audio-offer.sdp', import.meta.url), 'utf8');
const JINGLE = 'urn:xmpp:jingle:1';
const MMTEL = 'urn:epcscf:mmtel:0';
const HISTORY_INFO = '<sip:dave@ims.test?Reason=SIP%3Bcause%3D302%3Btext%3D%22Unconditional%22>;index=1, <sip:erin@ims.test;cause=302>;index=1.1';

interface Rig { uas: SippUas; epcscf: EpcscfUnderTest; carol: JsSipUser; bob: RpcWsClient; alice: XmppJsUser }

/** Kamailio, the diverting sipp UAS as dave, epcscf with all three plugins (media off), one client per plugin. */
async function setUp(t: Test): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const port = await allocatePort();
  await registerContactAtCore(core.port, 'dave', port).catch((error: unknown) => { releasePort(port); throw error; });
  const uas = await startSippUas({ port, calls: 3, scenario: UAS_CDIV });
  t.teardown(async () => { await uas.stop(); releasePort(port); });
  const { epcscf, carol, bob, alice } = await epcscfWithThreeClients(t, core.uri('udp'));
  return { uas, epcscf, carol, bob, alice };
}

const jingleAction = (action: string, sid: string) => (s: XmlNode): boolean => s.is('iq') && s.attrs['type'] === 'set'
  && s.getChild('jingle', JINGLE)?.attrs['action'] === action && s.getChild('jingle', JINGLE)?.attrs['sid'] === sid;

t.test('TS 24.604 §4.5.2.6.1 CDIV notification: a 181 with History-Info (cause=302) reaches JsSIP intact, JSON-RPC as call.progress diversion, XMPP as session-info <diverted/>', async (t) => {
  const { uas, epcscf, carol, bob, alice } = await setUp(t);

  // sip-ws (R-MMTEL-1): the 181 and its History-Info are relayed untouched.
  const outgoing = carol.call('sip:dave@ims.test');
  t.equal(await outgoing.progress(15_000), 181, 'JsSIP\'s first provisional response is the 181');
  const forwarded = carol.capture.responses('received', 'INVITE').find((r) => r.status === 181);
  t.equal(forwarded?.reason, 'Call Is Being Forwarded', 'the 181 reason phrase is intact');
  t.same(forwarded && getHeaders(forwarded, 'History-Info').join(', '), HISTORY_INFO, 'the History-Info reached JsSIP intact');
  await outgoing.accepted(15_000);
  outgoing.hangup();

  // jsonrpc-ws: call.progress carries the diversion.
  const { callId } = await bob.request('call.invite', { to: 'sip:dave@ims.test', sdp: CHROME_AUDIO_OFFER });
  const progress = await bob.notification('call.progress', (p) => p['callId'] === callId, 15_000);
  t.equal(progress['sipStatus'], 181, 'call.progress sipStatus 181');
  t.same(progress['diversion'], [{ target: 'sip:erin@ims.test', cause: 302, reason: 'Unconditional' }],
    'call.progress diversion: the diverted-to target, the RFC 4458 cause and the Reason text');
  await bob.notification('call.answered', (p) => p['callId'] === callId, 15_000);
  await bob.request('call.hangup', { callId });

  // xmpp-ws: session-info <diverted xmlns='urn:epcscf:mmtel:0' to cause reason/>.
  const sid = 'cdiv-1';
  const mark = alice.received.length;
  await alice.send(jingleIqFromSdp(CHROME_AUDIO_OFFER, { to: 'dave@ims.test', id: 'si-cdiv', sid, action: 'session-initiate', initiator: alice.jid }));
  const info = await alice.next((s) => jingleAction('session-info', sid)(s) && s.getChild('jingle', JINGLE)?.getChild('diverted', MMTEL) !== undefined, 15_000, mark);
  const diverted = info.getChild('jingle', JINGLE)?.getChild('diverted', MMTEL);
  t.same(diverted?.attrs, { xmlns: MMTEL, to: 'sip:erin@ims.test', cause: '302', reason: 'Unconditional' }, `<diverted/>: ${info.toString()}`);
  await alice.next(jingleAction('session-accept', sid), 15_000, mark);
  await alice.send(xml('iq', { type: 'set', to: 'dave@ims.test', id: 'st-cdiv' },
    xml('jingle', { xmlns: JINGLE, action: 'session-terminate', sid }, xml('reason', {}, xml('success')))));

  const at181 = epcscf.capture.responses('mw', 'in', 'INVITE').filter((r) => r.status === 181);
  t.equal(at181.length, 3, 'three 181 on Mw, one per client');
  t.ok(at181.every((r) => getHeaders(r, 'History-Info').join(', ') === HISTORY_INFO), 'each with the AS\'s History-Info');
  const status = await uas.exitedWithin(8000);
  t.equal(status?.code, 0, 'the diverting UAS saw three calls end with a BYE', uas.diagnostics());
  // The scenario takes an ACK whenever it comes (fixture comment): that each call's ACK did reach
  // the UAS is checked here, on what sipp logged receiving.
  const received = (method: string): Set<string | undefined> => new Set(uas.messages().filter((m) => m.direction === 'received' && m.what === method).map((m) => m.callId));
  t.same([received('ACK').size, received('BYE').size], [3, 3], 'RFC 3261 §13.2.2.4: each of the three calls was ACKed and ended with a BYE at the UAS', uas.diagnostics());
});
