// Issue #5 (core/ua): the virtual Gm UE through the real P-CSCF into Kamailio (the IMS core
// stand-in): it registers with digest, calls a sipp UAS (answered, hung up), and sends a
// MESSAGE that a registered JsSIP user receives; the SIP on Mw is what a 24.229 UE causes.
import t from 'tap';
import { bodyText, getHeader, getHeaders, optionTags, type SipRequest } from '../../core/sip/index.js';
import type { CallEndInfo } from '../../core/ua/index.js';
import { startEpcscf, startImsCore } from '../support/epcscf-harness.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { startSippUas } from '../support/peers/sipp.js';
import { attachVirtualUe } from '../support/ua-w2-session.js';
import { JsSipUser } from '../support/wic/jssip-user.js';

const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 26999 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n';

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e); });
  });
}

t.test('R-REG-7/23, RFC 3608, RFC 3261 §13: the virtual UE registers via epcscf into Kamailio, calls a sipp UAS, messages a JsSIP user', async (t) => {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp') });
  t.teardown(() => epcscf.close());
  const alice = attachVirtualUe(epcscf.pcscf, { identity: { impu: 'sip:alice@ims.test', password: 'alicepw' } });
  t.teardown(() => alice.close());

  // Registration: 401 from Kamailio, answered once with digest; 200 with Service-Route.
  const info = await withDeadline(alice.ue.register(), 8000, 'REGISTER');
  t.equal(info.state, 'registered', 'registered through epcscf with digest', { status: info.status, reason: info.reason });
  t.ok((info.expires ?? 0) > 0 && (info.expires ?? 0) <= 3600, 'Kamailio granted at most its max_expires');
  t.same(info.associatedUris, ['sip:alice@ims.test'], 'P-Associated-URI from the core');
  const registers = epcscf.capture.requests('mw', 'out', 'REGISTER');
  t.equal(registers.length, 2, 'REGISTER, 401, REGISTER with credentials');
  const second = registers[1] as SipRequest;
  t.match(getHeader(second, 'Authorization') ?? '', /username="alice@ims\.test"/, 'digest username = IMPI');
  t.ok(optionTags(second, 'Supported').includes('path') && optionTags(second, 'Supported').includes('outbound'), 'Supported: path, outbound on Mw');
  t.match(getHeader(second, 'Contact') ?? '', /\+sip\.instance="<urn:uuid:[0-9a-f-]+>";reg-id=1/, '+sip.instance and reg-id reach the core (RFC 5626)');
  t.ok(getHeaders(second, 'Path').length >= 1, 'the P-CSCF added Path: the UE is a normal client to it');

  // A call to a sipp UAS: INVITE/180/200/ACK, then BYE from us.
  const uasPort = await allocatePort();
  const uas = await startSippUas({ port: uasPort, calls: 1 });
  t.teardown(async () => { await uas.stop(); releasePort(uasPort); });
  const call = await alice.ue.call(`sip:uas@127.0.0.1:${uasPort}`, { sdp: OFFER });
  const progress = new Promise<number>((resolve) => call.once('progress', (p) => resolve(p.status)));
  const answered = new Promise<{ sdp?: string }>((resolve) => call.once('answered', resolve));
  t.equal(await withDeadline(progress, 8000, '180 from sipp'), 180, '180 Ringing from the UAS');
  const answer = await withDeadline(answered, 8000, '200 from sipp');
  t.match(answer.sdp ?? '', /m=audio \d+ RTP\/AVP 0/, 'the UAS answer SDP');
  t.equal(call.state, 'confirmed');
  const mwInvite = epcscf.capture.requests('mw', 'out', 'INVITE')[0];
  t.match(getHeaders(mwInvite as SipRequest, 'Route')[0] ?? '', /sip:orig@/, 'R-ORIG-4: the INVITE follows the Service-Route');
  t.same(getHeaders(mwInvite as SipRequest, 'P-Asserted-Identity').map((v) => v.replace(/\s/g, '')), ['<sip:alice@ims.test>'], 'R-ORIG-2: PAI from our P-Preferred-Identity');
  t.equal(bodyText(mwInvite as SipRequest), OFFER, 'the offer crossed (media off)');
  await withDeadline(epcscf.capture.waitFor((e) => e.side === 'mw' && e.direction === 'out' && e.message.kind === 'request' && e.message.method === 'ACK'), 5000, 'ACK on Mw');
  const ended = new Promise<CallEndInfo>((resolve) => call.once('ended', resolve));
  await call.hangup();
  t.same(await withDeadline(ended, 5000, 'BYE answered'), { cause: 'local' }, 'BYE answered end to end');
  const exit = await Promise.race([uas.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000).unref())]);
  t.equal(exit?.code, 0, 'the sipp UAS saw INVITE, ACK and BYE and exited cleanly');

  // A MESSAGE to a registered JsSIP user.
  const bob = await JsSipUser.connect({ wsUrl: epcscf.wsUrl, user: 'bob', password: 'secret' });
  t.teardown(() => bob.stop());
  t.equal(await bob.register(), 200, 'JsSIP bob registered');
  // JsSIP answers MESSAGE 405 unless the application listens for it.
  (bob.ua as unknown as NodeJS.EventEmitter).on('newMessage', () => undefined);
  const outcome = await withDeadline(alice.ue.message('sip:bob@ims.test', 'hello from the virtual UE'), 8000, 'MESSAGE');
  t.equal(outcome.status, 200, 'the MESSAGE was accepted by bob');
  const atBob = await bob.capture.waitFor((f) => f.direction === 'received' && f.message?.kind === 'request' && f.message.method === 'MESSAGE', { timeoutMs: 3000 });
  t.equal(atBob.message && bodyText(atBob.message), 'hello from the virtual UE', 'bob received the text');

  // And back: bob's MESSAGE reaches the virtual UE (terminating request over the W2 seam).
  const got = new Promise<{ body: string }>((resolve) => alice.ue.once('message', resolve));
  (bob.ua as unknown as { sendMessage(target: string, body: string): void }).sendMessage('sip:alice@ims.test', 'hi alice');
  t.equal((await withDeadline(got, 8000, 'MESSAGE at alice')).body, 'hi alice', 'a MESSAGE to the virtual UE is delivered and answered');

  // De-registration (R-REG-24).
  const gone = await withDeadline(alice.ue.unregister(), 8000, 'de-REGISTER');
  t.equal(gone.state, 'unregistered');
});
