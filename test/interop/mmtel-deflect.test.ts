// Issue #14, TS 24.604 communication deflection (CD) by the served user: a caller in the IMS (a
// scripted far end) calls each W2 client through Kamailio; the client deflects the ringing call
// and the P-CSCF sends 302 Moved Temporarily toward the IMS whose only Contact is the
// deflect-to URI (spec-digest §11). sip-ws: JsSIP's own 302 passes intact (R-MMTEL-1);
// jsonrpc-ws: call.deflect {callId, target}; xmpp-ws: session-terminate carrying
// <deflect xmlns='urn:epcscf:mmtel:0' to='…'/>.
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { getHeaders, type SipResponse } from '../../core/sip/index.js';
import { startImsCore, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import type { RpcWsClient } from '../support/jsonrpc-client.js';
import { epcscfWithThreeClients } from '../support/mmtel-clients.js';
import { ScriptedUas } from '../support/scripted-uas.js';
import type { JsSipUser } from '../support/wic/jssip-user.js';
import { XmppJsUser, xml, type XmlNode } from '../support/xmpp-clients.js';

const CHROME_AUDIO_OFFER = readFileSync(new URL('../fixtures/sdp/chrome-audio-offer.sdp', import.meta.url), 'utf8');
const JINGLE = 'urn:xmpp:jingle:1';
const MMTEL = 'urn:epcscf:mmtel:0';
const DEFLECT_TO = 'sip:erin@ims.test';
/** The caller: dave of the home network (a user of the XMPP domain too, so Jingle can name him). */
const CALLER = { sdp: CHROME_AUDIO_OFFER, from: 'sip:dave@ims.test' };

interface Rig { caller: ScriptedUas; coreUri: string; epcscf: EpcscfUnderTest; carol: JsSipUser; bob: RpcWsClient; alice: XmppJsUser }

async function setUp(t: Test): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const caller = await ScriptedUas.start();
  t.teardown(() => caller.close());
  const { epcscf, carol, bob, alice } = await epcscfWithThreeClients(t, core.uri('udp'));
  return { caller, coreUri: core.uri('udp'), epcscf, carol, bob, alice };
}

/** The caller's view: 302 with exactly the deflect-to Contact. */
function assertDeflected(t: Test, final: SipResponse, who: string): void {
  t.equal(final.status, 302, `${who}: the caller got 302`);
  t.same(getHeaders(final, 'Contact'), [`<${DEFLECT_TO}>`], `${who}: its only Contact is the deflect-to URI`);
}

t.test('TS 24.604 communication deflection: each W2 client deflects a ringing call; 302 Moved Temporarily toward the IMS with Contact = deflect-to, and nothing else of the client\'s', async (t) => {
  const { caller, coreUri, epcscf, carol, bob, alice } = await setUp(t);

  await t.test('sip-ws (JsSIP): its 302 with Contact passes intact (R-MMTEL-1)', async (t) => {
    const outcome = caller.offerCall('sip:carol@ims.test', coreUri, CALLER);
    const incoming = await carol.nextIncoming(15_000);
    incoming.session.terminate({ status_code: 302, reason_phrase: 'Moved Temporarily', extraHeaders: [`Contact: <${DEFLECT_TO}>`] });
    assertDeflected(t, (await outcome).final, 'JsSIP');
  });

  await t.test('jsonrpc-ws: call.deflect {callId, target} → 302; call.ended sipStatus 302', async (t) => {
    const outcome = caller.offerCall('sip:bob@ims.test', coreUri, CALLER);
    const incoming = await bob.notification('call.incoming', () => true, 15_000);
    const callId = incoming['callId'];
    t.same(await bob.request('call.deflect', { callId, target: DEFLECT_TO }), {}, 'call.deflect result');
    assertDeflected(t, (await outcome).final, 'jsonrpc-ws');
    const ended = await bob.notification('call.ended', (p) => p['callId'] === callId, 10_000);
    t.equal(ended['sipStatus'], 302, 'call.ended sipStatus 302');
    t.equal(ended['cause'], 'rejected', 'call.ended cause rejected');
  });

  await t.test('xmpp-ws: session-terminate with <deflect xmlns=urn:epcscf:mmtel:0 to/> → 302', async (t) => {
    const mark = alice.received.length;
    const outcome = caller.offerCall('sip:alice@ims.test', coreUri, CALLER);
    const initiate = await alice.next((s: XmlNode) => s.is('iq') && s.getChild('jingle', JINGLE)?.attrs['action'] === 'session-initiate', 15_000, mark);
    const sid = initiate.getChild('jingle', JINGLE)?.attrs['sid'];
    await alice.send(xml('iq', { type: 'set', to: initiate.attrs['from'], id: 'st-deflect' },
      xml('jingle', { xmlns: JINGLE, action: 'session-terminate', sid }, xml('reason', {}, xml('decline')), xml('deflect', { xmlns: MMTEL, to: DEFLECT_TO }))));
    assertDeflected(t, (await outcome).final, 'xmpp-ws');
  });

  const deflections = epcscf.capture.responses('mw', 'out', 'INVITE').filter((r) => r.status === 302);
  t.equal(deflections.length, 3, 'three 302 on Mw, one per client');
  t.ok(deflections.every((r) => getHeaders(r, 'Contact').join(', ') === `<${DEFLECT_TO}>`), 'each with the deflect-to Contact only');
  t.ok(deflections.every((r) => r.reason === 'Moved Temporarily'), 'each 302 Moved Temporarily');
});
