// Issue #14, TS 24.611 ACR/CB: a terminating side (a sipp UAS standing in for the callee's AS)
// rejects the INVITE with 433 Anonymity Disallowed (RFC 5079 §5) or 603 with the barring reason.
// The rejection crosses Kamailio and epcscf and reaches each W2 client in its own terms:
// sip-ws (JsSIP) gets the SIP response intact, jsonrpc-ws a call.ended with sipStatus and the
// reason phrase, xmpp-ws a session-terminate with the mapped XEP-0166 reason and the phrase as <text/>.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { startImsCore, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import type { RpcWsClient } from '../support/jsonrpc-client.js';
import { epcscfWithThreeClients } from '../support/mmtel-clients.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { registerContactAtCore, startSippUas } from '../support/peers/sipp.js';
import type { JsSipUser } from '../support/wic/jssip-user.js';
import { XmppJsUser, jingleIqFromSdp, type XmlNode } from '../support/xmpp-clients.js';

const fixture = (file: string): string => fileURLToPath(new URL(`../fixtures/mmtel/${file}`, import.meta.url));
const CHROME_AUDIO_OFFER = readFileSync(new URL('../fixtures/sdp/chrome-audio-offer.sdp', import.meta.url), 'utf8');
const JINGLE = 'urn:xmpp:jingle:1';

interface Rig { corePort: number; epcscf: EpcscfUnderTest; carol: JsSipUser; bob: RpcWsClient; alice: XmppJsUser }

/** Kamailio, epcscf with all three plugins (media off: SDP crosses unchanged), one client per plugin registered. */
async function setUp(t: Test): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const { epcscf, carol, bob, alice } = await epcscfWithThreeClients(t, core.uri('udp'));
  return { corePort: core.port, epcscf, carol, bob, alice };
}

const terminateOf = (sid: string) => (s: XmlNode): boolean => s.is('iq') && s.attrs['type'] === 'set'
  && s.getChild('jingle', JINGLE)?.attrs['action'] === 'session-terminate' && s.getChild('jingle', JINGLE)?.attrs['sid'] === sid;

const CASES = [
  { status: 433, phrase: 'Anonymity Disallowed', jingle: 'security-error', rule: 'TS 24.611 ACR (RFC 5079 §5)', scenario: fixture('uas-433-anonymity-disallowed.xml') },
  { status: 603, phrase: 'Call Barred', jingle: 'decline', rule: 'TS 24.611 ICB', scenario: fixture('uas-603-call-barred.xml') },
] as const;

for (const c of CASES) {
  t.test(`${c.rule}: a ${c.status} "${c.phrase}" reaches JsSIP intact, JSON-RPC as call.ended {sipStatus, reason}, XMPP as <${c.jingle}/> with <text/>`, async (t) => {
    const { corePort, epcscf, carol, bob, alice } = await setUp(t);
    // "dave" at Kamailio is the rejecting sipp UAS: sipp registers sip:dave@ims.test from the UAS's
    // port (digest), then the UAS binds it, so every client reaches it by an IMS identity (RFC 7247 for XMPP).
    const port = await allocatePort();
    await registerContactAtCore(corePort, 'dave', port).catch((error: unknown) => { releasePort(port); throw error; });
    const uas = await startSippUas({ port, calls: 3, scenario: c.scenario });
    t.teardown(async () => { await uas.stop(); releasePort(port); });
    const target = 'sip:dave@ims.test';

    // sip-ws: the response is relayed, status and reason phrase untouched (R-MMTEL-1).
    const end = await carol.call(target).ended(15_000);
    t.equal(end.status, c.status, `JsSIP's call failed on ${c.status}`, { end, frames: carol.capture.frames.map((f) => f.text.split('\r\n')[0]) });
    const toCarol = carol.capture.responses('received', 'INVITE').find((r) => r.status === c.status);
    t.equal(toCarol?.reason, c.phrase, 'the reason phrase reached the JsSIP client intact');

    // jsonrpc-ws: call.ended names the SIP status and the reason.
    const { callId } = await bob.request('call.invite', { to: target, sdp: CHROME_AUDIO_OFFER });
    const ended = await bob.notification('call.ended', (p) => p['callId'] === callId, 15_000);
    t.equal(ended['sipStatus'], c.status, `call.ended sipStatus ${c.status}`);
    t.equal(ended['reason'], c.phrase, 'call.ended reason is the barring reason phrase');

    // xmpp-ws: session-terminate with the XEP-0166 reason and the SIP status + phrase as <text/>.
    const sid = `barred-${c.status}`;
    const mark = alice.received.length;
    await alice.send(jingleIqFromSdp(CHROME_AUDIO_OFFER, { to: 'dave@ims.test', id: 'si-barred', sid, action: 'session-initiate', initiator: alice.jid }));
    const terminate = await alice.next(terminateOf(sid), 15_000, mark);
    const reason = terminate.getChild('jingle', JINGLE)?.getChild('reason');
    t.ok(reason?.getChild(c.jingle), `XEP-0166 §7.4 <${c.jingle}/>: ${terminate.toString()}`);
    t.equal(reason?.getChildText('text'), `SIP ${c.status} ${c.phrase}`, '<text/> carries the SIP status and the barring reason');

    // Mw: three INVITEs out, three rejections in, each with the phrase the AS wrote.
    const finals = epcscf.capture.responses('mw', 'in', 'INVITE').filter((r) => r.status === c.status);
    t.equal(finals.length, 3, `three ${c.status} on Mw, one per client`);
    t.ok(finals.every((r) => r.reason === c.phrase), 'each with the reason phrase');
    const status = await uas.exitedWithin(8000);
    t.equal(status?.code, 0, 'the sipp UAS saw three INVITEs and their ACKs', uas.diagnostics());
  });
}
