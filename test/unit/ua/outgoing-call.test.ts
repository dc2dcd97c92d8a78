// core/ua outgoing calls: the INVITE a TS 24.229 UE sends, early dialogs and PRACK (RFC 3262),
// ACK, CANCEL (RFC 3261 §9.1), non-2xx ACK, 422 retry (RFC 4028), BYE, renegotiation.
import t from 'tap';
import {
  authValues, cseq, getHeader, getHeaders, optionTags, topVia, bodyText,
} from '../../../core/sip/index.js';
import type { CallEndInfo } from '../../../core/ua/index.js';
import { ANSWER, incoming, OFFER, RR, registeredUe, reply, SERVICE_ROUTE, settle } from '../../support/ua-fake-core.js';

const CONTACT = ['Contact', '<sip:bob@192.0.2.7:5060>'] as [string, string];

t.test('TS 24.229 §5.1.2A.1 / RFC 3608: the initial INVITE carries the Service-Route, PPI, Supported, Session-Expires and the offer', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const call = await ue.call('sip:bob@ims.test', { sdp: OFFER, privacy: 'id', headers: { 'X-Test': '1' } });
  const invite = transport.last('INVITE');
  t.equal(call.state, 'calling');
  t.equal(call.direction, 'outgoing');
  t.equal(getHeader(invite, 'Call-ID'), call.sipCallId);
  t.same(getHeaders(invite, 'Route'), [SERVICE_ROUTE], 'Route = Service-Route (RFC 3608 §6, R-ORIG-4)');
  t.equal(getHeader(invite, 'P-Preferred-Identity'), '<sip:alice@ims.test>', 'RFC 3325 §9.2 P-Preferred-Identity');
  t.same(optionTags(invite, 'Supported'), ['100rel', 'timer', 'replaces', 'outbound']);
  t.equal(getHeader(invite, 'Session-Expires'), '1800', 'RFC 4028 §7.1: Session-Expires (default 1800)');
  t.equal(getHeader(invite, 'Min-SE'), '90');
  t.equal(getHeader(invite, 'Privacy'), 'id', 'RFC 3323 Privacy: id (OIR)');
  t.equal(getHeader(invite, 'X-Test'), '1', 'extra headers from the plugin');
  t.match(getHeader(invite, 'Contact') ?? '', /^<sip:[a-z0-9]+@[a-z0-9]+\.invalid;transport=ws;ob>$/, 'RFC 5626 §5.4: Contact with ob');
  t.equal(topVia(invite).transport, 'WS');
  t.equal(getHeader(invite, 'Content-Type'), 'application/sdp');
  t.equal(bodyText(invite), OFFER);
  t.ok(ue.calls.get(call.id), 'the call is listed');
});

t.test('RFC 3261 §13.2.2.4: 180 → ringing, 200 → ACK in the dialog (route set = Record-Route reversed), answered', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const call = await ue.call('sip:bob@ims.test', { sdp: OFFER });
  const progress: number[] = [];
  call.on('progress', (p) => progress.push(p.status));
  const answered = new Promise<{ sdp?: string }>((resolve) => call.once('answered', resolve));
  const invite = transport.last('INVITE');
  ue.receive(reply(invite, 100));
  ue.receive(reply(invite, 180, { toTag: 'b1', headers: [...RR.map((r): [string, string] => ['Record-Route', r]), CONTACT] }));
  t.equal(call.state, 'ringing');
  ue.receive(reply(invite, 200, { toTag: 'b1', headers: [...RR.map((r): [string, string] => ['Record-Route', r]), CONTACT, ['Session-Expires', '1800;refresher=uac']], body: ANSWER }));
  t.same((await answered).sdp, ANSWER, 'answered with the SDP answer');
  t.same(progress, [180], 'a 100 is not reported as progress');
  t.equal(call.state, 'confirmed');
  const ack = transport.last('ACK');
  t.equal(ack.uri.kind === 'sip' && ack.uri.host, '192.0.2.7', 'ACK to the remote target (Contact)');
  t.same(getHeaders(ack, 'Route'), [...RR].reverse(), 'Route = Record-Route reversed (RFC 3261 §12.1.2)');
  t.equal(cseq(ack).seq, cseq(invite).seq, 'ACK CSeq number = INVITE');
  t.equal(cseq(ack).method, 'ACK');
  t.not(topVia(ack).branch, topVia(invite).branch, 'ACK for 2xx is a new transaction');
  t.match(getHeader(ack, 'To') ?? '', /tag=b1/);
  // A retransmitted 2xx is ACKed again (RFC 3261 §13.2.2.4).
  ue.receive(reply(invite, 200, { toTag: 'b1', headers: [CONTACT], body: ANSWER }));
  t.equal(transport.requests('ACK').length, 2, 'the retransmitted 200 got its ACK');
  // BYE in the dialog.
  const ended = new Promise<CallEndInfo>((resolve) => call.once('ended', resolve));
  const hung = call.hangup();
  const bye = transport.last('BYE');
  t.equal(cseq(bye).seq, cseq(invite).seq + 1, 'BYE CSeq = next local number');
  t.same(getHeaders(bye, 'Route'), [...RR].reverse());
  ue.receive(reply(bye, 200));
  await hung;
  t.same(await ended, { cause: 'local' });
  t.equal(ue.calls.size, 0, 'the call is forgotten');
});

t.test('RFC 3262 §4: a reliable 183 with SDP is PRACKed once (RAck), reported as early media', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const call = await ue.call('sip:bob@ims.test', { sdp: OFFER });
  const progress: { status: number; sdp?: string }[] = [];
  call.on('progress', (p) => progress.push(p));
  const invite = transport.last('INVITE');
  const early = reply(invite, 183, { toTag: 'b1', headers: [CONTACT, ['Require', '100rel'], ['RSeq', '7'], ['Allow', 'INVITE, ACK, BYE, CANCEL, UPDATE, PRACK']], body: ANSWER });
  ue.receive(early);
  const prack = transport.last('PRACK');
  t.equal(getHeader(prack, 'RAck'), `7 ${cseq(invite).seq} INVITE`, 'RAck = RSeq, CSeq number, method');
  t.equal(cseq(prack).seq, cseq(invite).seq + 1, 'PRACK takes the next CSeq of the early dialog');
  t.equal(prack.uri.kind === 'sip' && prack.uri.host, '192.0.2.7');
  ue.receive(early); // a retransmission
  t.equal(transport.requests('PRACK').length, 1, 'a retransmitted reliable 18x is not PRACKed again');
  t.equal(call.state, 'early');
  t.same(progress.map((p) => [p.status, p.sdp]), [[183, ANSWER]], 'progress with the early SDP');
  ue.receive(reply(prack, 200));
  // RFC 3311: UPDATE in the early dialog since the callee allows it.
  const updated = call.update(OFFER.replace('a=sendrecv', 'a=sendonly'));
  const update = transport.last('UPDATE');
  t.equal(bodyText(update).includes('a=sendonly'), true, 'UPDATE carries the new offer');
  ue.receive(reply(update, 200, { body: ANSWER }));
  t.equal(await updated, ANSWER, 'update() resolves with the answer');
  ue.receive(reply(invite, 200, { toTag: 'b1', headers: [CONTACT] }));
  t.equal(call.state, 'confirmed');
  const ack = transport.last('ACK');
  t.equal(cseq(ack).seq, cseq(invite).seq, 'ACK keeps the INVITE number even after PRACK/UPDATE');
});

t.test('RFC 3261 §17.1.1.3: a final non-2xx is ACKed on the INVITE branch; the call ends rejected with the status', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const call = await ue.call('sip:bob@ims.test', { sdp: OFFER });
  const ended = new Promise<CallEndInfo>((resolve) => call.once('ended', resolve));
  const invite = transport.last('INVITE');
  ue.receive(reply(invite, 486, { toTag: 'b1', headers: [['Reason', 'Q.850;cause=17']] }));
  const ack = transport.last('ACK');
  t.equal(topVia(ack).branch, topVia(invite).branch, 'same branch as the INVITE');
  t.match(getHeader(ack, 'To') ?? '', /tag=b1/, 'To from the response');
  t.same(await ended, { cause: 'rejected', status: 486, reason: 'Busy Here', reasonHeader: 'Q.850;cause=17' });
});

t.test('RFC 3261 §9.1: CANCEL waits for a provisional, shares the INVITE branch; 487 ends the call as local', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const call = await ue.call('sip:bob@ims.test', { sdp: OFFER });
  const ended = new Promise<CallEndInfo>((resolve) => call.once('ended', resolve));
  const invite = transport.last('INVITE');
  await call.cancel();
  t.equal(transport.requests('CANCEL').length, 0, 'no CANCEL before a provisional');
  ue.receive(reply(invite, 100));
  const cancel = transport.last('CANCEL');
  t.equal(topVia(cancel).branch, topVia(invite).branch, 'CANCEL shares the INVITE branch');
  t.equal(cseq(cancel).seq, cseq(invite).seq);
  t.same(getHeaders(cancel, 'Route'), getHeaders(invite, 'Route'), 'same Route set');
  ue.receive(reply(cancel, 200));
  ue.receive(reply(invite, 487, { toTag: 'b1' }));
  t.same(await ended, { cause: 'local', status: 487, reason: 'Request Terminated' });
  t.equal(transport.requests('ACK').length, 1, 'the 487 was ACKed');
});

t.test('RFC 3261 §9.1: a 200 that crosses our CANCEL is ACKed and the call ended with BYE', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const call = await ue.call('sip:bob@ims.test', { sdp: OFFER });
  const invite = transport.last('INVITE');
  ue.receive(reply(invite, 180, { toTag: 'b1', headers: [CONTACT] }));
  await call.hangup();
  t.equal(transport.requests('CANCEL').length, 1, 'hangup() before the answer cancels');
  ue.receive(reply(invite, 200, { toTag: 'b1', headers: [CONTACT], body: ANSWER }));
  t.equal(transport.requests('ACK').length, 1);
  t.equal(transport.requests('BYE').length, 1, 'BYE after the crossed 200');
});

t.test('RFC 3261 §22.3: a 407 to INVITE is ACKed and answered with Proxy-Authorization, CSeq + 1; CANCEL follows the new INVITE', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const call = await ue.call('sip:bob@ims.test', { sdp: OFFER });
  const first = transport.last('INVITE');
  ue.receive(reply(first, 407, { toTag: 'p', headers: [['Proxy-Authenticate', 'Digest realm="ims.test", nonce="n1", qop="auth"']] }));
  t.equal(transport.requests('ACK').length, 1, 'the 407 is ACKed');
  const second = transport.last('INVITE');
  t.equal(cseq(second).seq, cseq(first).seq + 1);
  t.ok(authValues(second, 'Proxy-Authorization')[0], 'Proxy-Authorization present');
  ue.receive(reply(second, 180, { toTag: 'b1', headers: [CONTACT] }));
  await call.cancel();
  t.equal(topVia(transport.last('CANCEL')).branch, topVia(second).branch, 'CANCEL matches the authenticated INVITE');
});

t.test('RFC 4028 §7.4: a 422 is retried with the Min-SE it names', async (t) => {
  const { ue, transport } = await registeredUe(t, { sessionExpires: 60 });
  await ue.call('sip:bob@ims.test', { sdp: OFFER });
  const first = transport.last('INVITE');
  t.equal(getHeader(first, 'Session-Expires'), '60');
  ue.receive(reply(first, 422, { toTag: 'x', headers: [['Min-SE', '300']] }));
  const second = transport.last('INVITE');
  t.equal(getHeader(second, 'Session-Expires'), '300', 'retry with Session-Expires = Min-SE');
  t.equal(cseq(second).seq, cseq(first).seq + 1);
});

t.test('RFC 3261 §17.1.1.2 Timer B: no response at all within 64*T1 ends the call failed 408', async (t) => {
  const { ue, clock } = await registeredUe(t);
  const call = await ue.call('sip:bob@ims.test', { sdp: OFFER });
  const ended = new Promise<CallEndInfo>((resolve) => call.once('ended', resolve));
  clock.advance(32_000);
  t.same(await ended, { cause: 'failed', status: 408, reason: 'Request Timeout' });
});

t.test('RFC 3264 §8.4 / TS 24.610: hold sends a re-INVITE with sendonly and a new o= version; resume sendrecv', async (t) => {
  const { ue, transport, clock } = await registeredUe(t);
  const call = await ue.call('sip:bob@ims.test', { sdp: OFFER });
  const invite = transport.last('INVITE');
  ue.receive(reply(invite, 200, { toTag: 'b1', headers: [CONTACT], body: ANSWER }));
  const held = call.hold();
  const reinvite = transport.last('INVITE');
  t.not(reinvite, invite);
  t.match(bodyText(reinvite), /a=sendonly/, 'sendonly');
  t.match(bodyText(reinvite), /o=- 1 2 IN/, 'o= version incremented');
  t.equal(cseq(reinvite).seq, cseq(invite).seq + 1);
  t.match(getHeader(reinvite, 'To') ?? '', /tag=b1/, 're-INVITE inside the dialog');
  ue.receive(reply(reinvite, 200, { body: ANSWER.replace('a=sendrecv', 'a=recvonly') }));
  t.match(await held, /a=recvonly/, 'hold() resolves with the answer');
  t.equal(transport.requests('ACK').length, 2, 'the re-INVITE 200 was ACKed');
  const resumed = call.resume();
  const third = transport.last('INVITE');
  t.match(bodyText(third), /a=sendrecv/);
  t.match(bodyText(third), /o=- 1 3 IN/);
  ue.receive(reply(third, 491, { toTag: 'b1' }));
  await settle();
  t.equal(transport.requests('INVITE').length, 3, 'RFC 3261 §14.1: after 491 no immediate retry');
  clock.advance(4000);
  await settle();
  const retry = transport.last('INVITE');
  t.equal(transport.requests('INVITE').length, 4, 'the Call-ID owner retries within 2.1-4 s');
  t.equal(cseq(retry).seq, cseq(third).seq + 1);
  ue.receive(reply(retry, 491, { toTag: 'b1' }));
  await t.rejects(resumed, { code: 'EPC_ERR_UA_REJECTED', status: 491 }, 'a second 491 rejects resume() with the status');
  t.equal(call.state, 'confirmed', 'the call survives a failed renegotiation');
});

t.test('RFC 2976 / dtmf-relay: one INFO per digit; bad digits are refused locally', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const call = await ue.call('sip:bob@ims.test', { sdp: OFFER });
  ue.receive(reply(transport.last('INVITE'), 200, { toTag: 'b1', headers: [CONTACT], body: ANSWER }));
  await t.rejects(call.dtmf('1x'), { code: 'EPC_ERR_UA_INVALID_ARGUMENT' });
  const sending = call.dtmf('1#', 160);
  let info = transport.last('INFO');
  t.equal(getHeader(info, 'Content-Type'), 'application/dtmf-relay');
  t.equal(bodyText(info), 'Signal=1\r\nDuration=160\r\n');
  ue.receive(reply(info, 200));
  await settle();
  info = transport.last('INFO');
  t.equal(bodyText(info), 'Signal=#\r\nDuration=160\r\n', 'the next digit after the first was answered');
  ue.receive(reply(info, 200));
  await sending;
  t.equal(transport.requests('INFO').length, 2);
});

t.test('local misuse rejects with coded errors: bad target, answer on an outgoing call, cancel after answer', async (t) => {
  const { ue, transport } = await registeredUe(t);
  await t.rejects(ue.call('bob', { sdp: OFFER }), { code: 'EPC_ERR_UA_INVALID_ARGUMENT' });
  await t.rejects(ue.call('sip:bob@ims.test', { sdp: '' }), { code: 'EPC_ERR_UA_INVALID_ARGUMENT' });
  const call = await ue.call('sip:bob@ims.test', { sdp: OFFER });
  await t.rejects(call.answer(ANSWER), { code: 'EPC_ERR_INVALID_STATE' });
  ue.receive(reply(transport.last('INVITE'), 200, { toTag: 'b1', headers: [CONTACT], body: ANSWER }));
  await t.rejects(call.cancel(), { code: 'EPC_ERR_INVALID_STATE' });
});

t.test('close(): calls end with cause connection, no SIP', async (t) => {
  const { ue, transport, clock } = await registeredUe(t);
  const call = await ue.call('sip:bob@ims.test', { sdp: OFFER });
  ue.receive(reply(transport.last('INVITE'), 200, { toTag: 'b1', headers: [CONTACT, ['Session-Expires', '90;refresher=uac']], body: ANSWER }));
  const ended = new Promise<CallEndInfo>((resolve) => call.once('ended', resolve));
  const before = transport.sent.length;
  ue.close();
  t.same(await ended, { cause: 'connection' });
  t.equal(transport.sent.length, before);
  t.equal(clock.pending, 0, 'session timer stopped');
});

t.test('RFC 5763 §5 / RFC 3264 §8.4: the UE offered a=setup:actpass; its answer to a remote re-offer (hold) keeps the DTLS role the first answer gave it', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const webrtc = (sdp: string, setup: string): string => sdp.replace('a=sendrecv', `a=sendrecv\r\na=setup:${setup}`);
  const call = await ue.call('sip:bob@ims.test', { sdp: webrtc(OFFER, 'actpass') });
  const invite = transport.last('INVITE');
  ue.receive(reply(invite, 200, { toTag: 'b1', headers: [CONTACT], body: webrtc(ANSWER, 'passive') }));
  await settle();
  const updated = new Promise<{ direction: string }>((resolve) => call.once('updated', resolve));
  ue.receive(incoming('INVITE', [
    ['From', getHeader(invite, 'To')?.replace(/>.*$/, '>;tag=b1') ?? ''], ['To', getHeader(invite, 'From') ?? ''],
    ['Call-ID', getHeader(invite, 'Call-ID') ?? ''], ['CSeq', '1 INVITE'], CONTACT,
  ], webrtc(ANSWER, 'actpass').replace('a=sendrecv', 'a=sendonly').replace('o=- 7 1', 'o=- 7 2')));
  t.equal((await updated).direction, 'sendonly', 'the re-offer puts us on hold');
  const ok = transport.lastResponse('INVITE');
  t.equal(ok.status, 200);
  t.match(bodyText(ok), /^a=setup:active$/m, 'the remote answered passive first: we stay active');
  t.notMatch(bodyText(ok), /a=setup:actpass/, 'actpass is never an answer');
  t.match(bodyText(ok), /^a=recvonly$/m, 'RFC 3264 §6.1: recvonly to sendonly');
  t.match(bodyText(ok), /o=- 1 2 IN/, 'a changed description: o= version incremented');
});
