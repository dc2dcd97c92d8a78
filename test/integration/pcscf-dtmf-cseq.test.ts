// Issue #14 DTMF interworking keeps the WIC's dialog usable: the P-CSCF's own INFO
// application/dtmf-relay (a digit the browser sent as RFC 4733 events, `media.dtmf` auto) takes a
// CSeq from the WIC's side of the dialog, so the WIC's later requests are renumbered above it
// toward the IMS and their responses carry the WIC's own numbers again (core/pcscf/cseq-offset.ts).
// The far end here enforces RFC 3261 §12.2.2: a CSeq not above the last it saw gets 500.
import t, { type Test } from 'tap';
import { InProcessMediaControl } from '../../core/pcscf/alg/media-control.js';
import { createRequest, cseq, getHeader, getHeaders, type SipRequest, type SipResponse } from '../../core/sip/index.js';
import type { FakeImsCore } from '../support/fake-ims-core.js';
import { FakeGateway } from '../unit/ng/fake-gateway.js';
import { CHROME_AUDIO_OFFER, plainRtpAnswer } from '../unit/ng/ims-alg-requests.js';
import { invite, registered, wicVia, type FakeWic } from '../support/pcscf-rig.js';

/** The IMS far end of call-a: answers in-dialog requests 200, or 500 to a CSeq out of order (RFC 3261 §12.2.2). */
class OrderingFarEnd {
  /** `CSeq` values of the requests (ACK included) as the far end received them, in order. */
  readonly seen: string[] = [];
  #last = 0;
  constructor(readonly core: FakeImsCore) {}

  /** The first of `methods` to arrive (arrival order: what §12.2.2 judges), checked. */
  async take(...methods: string[]): Promise<SipRequest> {
    const request = await this.core.next<SipRequest>((m) => m.kind === 'request' && methods.includes(m.method));
    const method = request.method;
    this.seen.push(getHeader(request, 'CSeq') ?? '');
    if (method === 'ACK' || method === 'CANCEL') return request;
    const { seq } = cseq(request);
    if (seq <= this.#last) {
      this.core.answer(request, 500, { reason: 'Server Internal Error - CSeq out of order' });
      return request;
    }
    this.#last = seq;
    return request;
  }

  /** Takes the next `method` and answers it 200 (with `init` for an INVITE) unless it was refused 500 for its CSeq. */
  async answer(method: string | readonly string[], init: Parameters<FakeImsCore['answer']>[2] = {}): Promise<SipRequest> {
    const request = await this.take(...(typeof method === 'string' ? [method] : method));
    if (cseq(request).seq === this.#last) this.core.answer(request, 200, request.method === 'INVITE' ? init : {});
    return request;
  }
}

async function callUp(t: Test) {
  const gateway = new FakeGateway();
  const env = await registered(t, { media: new InProcessMediaControl(gateway) });
  const { core, pcscf, wic } = env;
  const farEnd = new OrderingFarEnd(core);
  const ngCallId = `call-a~o~${pcscf.flows()[0]?.flow ?? ''}`;
  await pcscf.fromClient('conn-1', { ...invite(), body: new TextEncoder().encode(CHROME_AUDIO_OFFER) });
  const atCore = await farEnd.take('INVITE');
  core.answer(atCore, 200, {
    toTag: 'b9', body: plainRtpAnswer('127.0.0.1', 30000), contentType: 'application/sdp',
    headers: [['Contact', `<sip:bob@127.0.0.1:${core.port}>`], ['Record-Route', getHeaders(atCore, 'Record-Route').join(', ')]],
  });
  const ok = await wic.response(200, 'INVITE');
  const routes = getHeaders(ok, 'Record-Route').join(', ');
  /** A request of the WIC (JsSIP-like) in call-a, numbered by the WIC. */
  const inDialog = (method: string, seq: number, sdp?: string): SipRequest => createRequest({
    method, uri: `sip:bob@127.0.0.1:${core.port}`, headers: [
      ['Via', wicVia(`${method.toLowerCase()}-${seq}`)], ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=a1'],
      ['To', '<sip:bob@ims.test>;tag=b9'], ['Call-ID', 'call-a'], ['CSeq', `${seq} ${method}`], ['Route', routes],
      ['Contact', '<sip:alice@df7jal23ls0d.invalid;transport=ws;ob>'], ...(sdp === undefined ? [] : [['Content-Type', 'application/sdp'] as [string, string]]),
    ], ...(sdp === undefined ? {} : { body: sdp }),
  });
  await pcscf.fromClient('conn-1', inDialog('ACK', 10));
  await farEnd.take('ACK');
  /** A digit the gateway detected: the INFO the P-CSCF sends is answered by the far end. */
  const digit = async (d: string): Promise<SipRequest> => {
    const sent = pcscf.onMediaDtmf(ngCallId, d, 120);
    const info = await farEnd.answer('INFO');
    t.equal(await sent, true, `digit ${d} sent as INFO`);
    return info;
  };
  return { ...env, gateway, ngCallId, farEnd, inDialog, digit };
}

const holdOffer = CHROME_AUDIO_OFFER.replace('a=sendrecv', 'a=sendonly');
const answered = { body: plainRtpAnswer('127.0.0.1', 30000).replace('a=sendrecv', 'a=recvonly'), contentType: 'application/sdp' };

async function finalAtWic(wic: FakeWic, method: string): Promise<SipResponse> {
  return wic.next<SipResponse>((m) => m.kind === 'response' && m.status >= 200 && (getHeader(m, 'CSeq') ?? '').endsWith(method));
}

t.test('RFC 3261 §12.2.2, issue #14 DTMF: after two digits sent as INFO by the P-CSCF, the WIC can still hold (re-INVITE) and hang up (BYE); the far end sees strictly increasing CSeqs, the WIC its own', async (t) => {
  const { pcscf, wic, farEnd, inDialog, digit } = await callUp(t);
  await digit('1');
  await digit('#');

  await pcscf.fromClient('conn-1', inDialog('INVITE', 11, holdOffer));
  await farEnd.answer('INVITE', answered);
  const holdOk = await finalAtWic(wic, 'INVITE');
  t.equal(holdOk.status, 200, 'the hold re-INVITE is accepted');
  t.equal(getHeader(holdOk, 'CSeq'), '11 INVITE', 'the WIC sees its own CSeq in the response');
  await pcscf.fromClient('conn-1', inDialog('ACK', 11));
  await farEnd.take('ACK');

  await pcscf.fromClient('conn-1', inDialog('BYE', 12));
  await farEnd.answer('BYE');
  const byeOk = await finalAtWic(wic, 'BYE');
  t.equal(byeOk.status, 200, 'the BYE is accepted: the call can be hung up');
  t.equal(getHeader(byeOk, 'CSeq'), '12 BYE', 'the WIC sees its own CSeq in the response');

  t.same(farEnd.seen, ['10 INVITE', '10 ACK', '11 INFO', '12 INFO', '13 INVITE', '13 ACK', '14 BYE'],
    'the far end saw one CSeq space, strictly increasing, the ACK with its re-INVITE\'s number');
});

t.test('RFC 3261 §12.2.2, §17.1.1.3: a digit sent while a re-INVITE waits for its ACK leaves the ACK its INVITE\'s number; a CANCEL carries it too; the BYE of a dying flow goes above the last', async (t) => {
  const { pcscf, wic, core, farEnd, inDialog, digit } = await callUp(t);
  await digit('5');

  // A re-INVITE the WIC cancels: the CANCEL (hop by hop) names the INVITE as it left (RFC 3261 §9.1).
  await pcscf.fromClient('conn-1', inDialog('INVITE', 11, holdOffer));
  const ringing = await farEnd.take('INVITE');
  core.answer(ringing, 180);
  await wic.response(180, 'INVITE');
  const cancel = createRequest({ method: 'CANCEL', uri: `sip:bob@127.0.0.1:${core.port}`, headers: [
    ['Via', wicVia('invite-11')], ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=a1'], ['To', '<sip:bob@ims.test>;tag=b9'],
    ['Call-ID', 'call-a'], ['CSeq', '11 CANCEL'],
  ] });
  await pcscf.fromClient('conn-1', cancel);
  const cancelAtCore = await farEnd.take('CANCEL');
  t.equal(getHeader(cancelAtCore, 'CSeq'), '12 CANCEL', 'the CANCEL has the re-INVITE\'s number toward the IMS');
  core.answer(cancelAtCore, 200);
  t.equal(getHeader(await wic.response(200, 'CANCEL'), 'CSeq'), '11 CANCEL', 'the WIC\'s CANCEL is answered with its own number');
  core.answer(ringing, 487);
  t.equal(getHeader(await finalAtWic(wic, 'INVITE'), 'CSeq'), '11 INVITE', 'the 487 reaches the WIC with its own number');
  t.equal(getHeader(await farEnd.take('ACK'), 'CSeq'), '12 ACK', 'the 487 is acknowledged (hop by hop) with the INVITE\'s number');

  await pcscf.fromClient('conn-1', inDialog('INVITE', 12, holdOffer));
  await farEnd.answer('INVITE', answered);
  t.equal(getHeader(await finalAtWic(wic, 'INVITE'), 'CSeq'), '12 INVITE', 'the next re-INVITE is accepted, with the WIC\'s number');
  await digit('6'); // between the 2xx and its ACK
  await pcscf.fromClient('conn-1', inDialog('ACK', 12));
  t.equal(getHeader(await farEnd.take('ACK'), 'CSeq'), '13 ACK', 'the ACK carries its re-INVITE\'s number, not the grown offset');

  const closing = pcscf.sessionClosed('conn-1', { cause: 'remote', code: 1006, reason: '' });
  const released = await farEnd.answer('BYE');
  await closing;
  t.equal(getHeader(released, 'CSeq'), '15 BYE', 'R-ORIG-9: the release BYE goes above the digit\'s INFO (14)');
  t.same(farEnd.seen, ['10 INVITE', '10 ACK', '11 INFO', '12 INVITE', '12 CANCEL', '12 ACK', '13 INVITE', '14 INFO', '13 ACK', '15 BYE'], 'what the far end saw');
});

t.test('RFC 3261 §12.2.2: a digit detected while the WIC\'s re-INVITE waits for the media gateway leaves after it, numbered above it', async (t) => {
  const { pcscf, wic, gateway, ngCallId, farEnd, inDialog, digit } = await callUp(t);
  await digit('1');
  gateway.delayMs = 150; // the re-INVITE's offer is in the gateway when the digit comes
  await pcscf.fromClient('conn-1', inDialog('INVITE', 11, holdOffer));
  while (gateway.calls.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
  const sent = pcscf.onMediaDtmf(ngCallId, '2', 120);
  gateway.delayMs = 0;
  for (let i = 0; i < 2; i++) await farEnd.answer(['INVITE', 'INFO'], answered);
  const holdOk = await finalAtWic(wic, 'INVITE');
  t.equal(await sent, true, 'digit 2 sent as INFO');
  t.equal(holdOk.status, 200, 'the re-INVITE is accepted');
  t.same(farEnd.seen, ['10 INVITE', '10 ACK', '11 INFO', '12 INVITE', '13 INFO'], 'the re-INVITE first, then the INFO above it');
});
