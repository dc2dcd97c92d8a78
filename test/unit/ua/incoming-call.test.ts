// core/ua incoming calls: 100 Trying, 180/183 (reliable per RFC 3262 §3), PRACK, 200 and ACK,
// reject, CANCEL (RFC 3261 §9.2), BYE, re-INVITE from the other side (RFC 3264 §8.4), errors.
import t from 'tap';
import { bodyText, cseq, getHeader, getHeaders, optionTags, type SipRequest } from '../../../core/sip/index.js';
import type { CallEndInfo, PartyIdentity, UaCall, VirtualUe } from '../../../core/ua/index.js';
import { ANSWER, incoming, OFFER, RR, registeredUe, type RecordingTransport } from '../../support/ua-fake-core.js';

function inviteFromBob(extra: [string, string][] = [], body: string | undefined = OFFER): SipRequest {
  return incoming('INVITE', [
    ...RR.map((r): [string, string] => ['Record-Route', r]),
    ['From', '"Bob" <sip:bob@ims.test>;tag=b1'], ['To', '<sip:alice@ims.test>'], ['Call-ID', 'in-1'], ['CSeq', '5 INVITE'],
    ['Contact', '<sip:bob@192.0.2.7:5060>'], ['P-Asserted-Identity', '"Bob B" <sip:bob@ims.test>, <tel:+15550101>'],
    ['Allow', 'INVITE, ACK, BYE, CANCEL, UPDATE, PRACK, INFO, REFER, NOTIFY'], ...extra,
  ], body);
}

async function ringing(ue: VirtualUe, invite: SipRequest): Promise<{ call: UaCall; from: PartyIdentity }> {
  const got = new Promise<{ call: UaCall; from: PartyIdentity }>((resolve) => ue.once('incoming', (call, from) => resolve({ call, from })));
  ue.receive(invite);
  return got;
}

function inDialog(method: string, seq: number, transport: RecordingTransport, extra: [string, string][] = [], body?: string): SipRequest {
  const ok = transport.lastResponse('INVITE');
  return incoming(method, [
    ['From', '"Bob" <sip:bob@ims.test>;tag=b1'], ['To', getHeader(ok, 'To') ?? ''], ['Call-ID', 'in-1'], ['CSeq', `${seq} ${method}`],
    ['Contact', '<sip:bob@192.0.2.7:5060>'], ...extra,
  ], body);
}

t.test('RFC 3261 §17.2.1 / R-TERM-4: a terminating INVITE gets 100 Trying at once and an "incoming" event with the asserted caller', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const { call, from } = await ringing(ue, inviteFromBob([['Privacy', 'id']]));
  const trying = transport.lastResponse('INVITE');
  t.equal(trying.status, 100);
  t.notMatch(getHeader(trying, 'To') ?? '', /tag=/, 'no To tag on 100');
  t.same(from, { uri: 'sip:bob@ims.test', displayName: 'Bob B', anonymous: true }, 'PAI identity (RFC 3325), privacy flagged (RFC 3323)');
  t.equal(call.direction, 'incoming');
  t.equal(call.state, 'ringing');
  t.equal(call.remoteOffer, OFFER);
});

t.test('RFC 3261 §12.1.1: 180 copies Record-Route, adds a To tag and Contact; 200 with the answer; ACK → answered; BYE from the caller ends it', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const { call } = await ringing(ue, inviteFromBob());
  await call.ring();
  const ringingResponse = transport.lastResponse('INVITE');
  t.equal(ringingResponse.status, 180);
  t.same(getHeaders(ringingResponse, 'Record-Route'), RR, 'Record-Route copied in order');
  t.match(getHeader(ringingResponse, 'To') ?? '', /;tag=/, 'To tag');
  t.ok(getHeader(ringingResponse, 'Contact'), 'Contact');
  t.equal(getHeader(ringingResponse, 'Require'), undefined, 'a plain 180 is not sent reliably when 100rel is only supported');
  await call.answer(ANSWER);
  const ok = transport.lastResponse('INVITE');
  t.equal(ok.status, 200);
  t.equal(bodyText(ok), ANSWER);
  t.equal(getHeader(ok, 'Content-Type'), 'application/sdp', 'RFC 3261 §20.15: the answer is labelled (the IMS-ALG rewrites only application/sdp)');
  t.equal(getHeader(ok, 'To'), getHeader(ringingResponse, 'To'), 'same tag as the 180');
  t.equal(call.state, 'answering');
  const answered = new Promise<{ sdp?: string }>((resolve) => call.once('answered', resolve));
  ue.receive(inDialog('ACK', 5, transport));
  t.same(await answered, {});
  t.equal(call.state, 'confirmed');
  const ended = new Promise<CallEndInfo>((resolve) => call.once('ended', resolve));
  ue.receive(inDialog('BYE', 6, transport, [['Reason', 'SIP;cause=200;text="Call completed elsewhere"']]));
  t.equal(transport.lastResponse('BYE').status, 200);
  t.same(await ended, { cause: 'remote', reasonHeader: 'SIP;cause=200;text="Call completed elsewhere"' });
});

t.test('RFC 3261 §20.15: the 183 and the 200 that carry SDP say Content-Type: application/sdp (else the IMS-ALG cannot see the answer, R-ALG-4)', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const { call } = await ringing(ue, inviteFromBob());
  await call.ring(ANSWER);
  t.equal(getHeader(transport.lastResponse('INVITE'), 'Content-Type'), 'application/sdp', '183 with early SDP');
  await call.answer(ANSWER);
  const ok = transport.lastResponse('INVITE');
  t.equal(ok.status, 200);
  t.equal(getHeader(ok, 'Content-Type'), 'application/sdp', '200 with the answer');
});

t.test('RFC 3262 §3: ring(earlySdp) sends 183 reliably (Require 100rel, RSeq) when the caller supports 100rel; answer waits for the PRACK', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const { call } = await ringing(ue, inviteFromBob([['Supported', '100rel, timer']]));
  await call.ring(ANSWER);
  const early = transport.lastResponse('INVITE');
  t.equal(early.status, 183);
  t.same(optionTags(early, 'Require'), ['100rel']);
  const rseq = Number(getHeader(early, 'RSeq'));
  t.ok(rseq > 0, 'RSeq present');
  t.equal(bodyText(early), ANSWER);
  t.equal(getHeader(early, 'Content-Type'), 'application/sdp', 'RFC 3261 §20.15: the early answer is labelled');
  t.equal(call.state, 'early');
  const answering = call.answer(ANSWER);
  await new Promise((r) => setImmediate(r));
  t.equal(transport.lastResponse('INVITE').status, 183, 'no 200 before the PRACK');
  ue.receive(inDialog('PRACK', 6, transport, [['RAck', `${rseq + 1} 5 INVITE`]]));
  t.equal(transport.lastResponse('PRACK').status, 481, 'a PRACK for an unknown RSeq gets 481');
  ue.receive(inDialog('PRACK', 7, transport, [['RAck', `${rseq} 5 INVITE`]]));
  t.equal(transport.lastResponse('PRACK').status, 200);
  await answering;
  t.equal(transport.lastResponse('INVITE').status, 200, 'the 200 followed the PRACK');
});

t.test('RFC 3262 §3: no PRACK within 64*T1 → the INVITE is rejected with a 5xx', async (t) => {
  const { ue, transport, clock } = await registeredUe(t);
  const { call } = await ringing(ue, inviteFromBob([['Require', '100rel']]));
  const ended = new Promise<CallEndInfo>((resolve) => call.once('ended', resolve));
  await call.ring();
  t.same(optionTags(transport.lastResponse('INVITE'), 'Require'), ['100rel'], 'Require: 100rel in the INVITE makes even 180 reliable');
  clock.advance(32_000);
  t.equal(transport.lastResponse('INVITE').status, 504);
  t.equal((await ended).cause, 'failed');
});

t.test('RFC 3261 §9.2: CANCEL gets 200 and the INVITE 487; ended remote with the Reason', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const invite = inviteFromBob();
  const { call } = await ringing(ue, invite);
  const ended = new Promise<CallEndInfo>((resolve) => call.once('ended', resolve));
  await call.ring();
  const cancel = incoming('CANCEL', [['From', '"Bob" <sip:bob@ims.test>;tag=b1'], ['To', '<sip:alice@ims.test>'], ['Call-ID', 'in-1'], ['CSeq', '5 CANCEL'],
    ['Reason', 'SIP;cause=200;text="Call completed elsewhere"']]);
  const withBranch = { ...cancel, headers: cancel.headers.map((h) => (h.name === 'Via' ? { name: 'Via', value: getHeader(invite, 'Via') ?? '' } : h)) };
  ue.receive(withBranch);
  t.equal(transport.lastResponse('CANCEL').status, 200);
  t.equal(transport.lastResponse('INVITE').status, 487);
  t.same(await ended, { cause: 'remote', status: 487, reasonHeader: 'SIP;cause=200;text="Call completed elsewhere"' });
  ue.receive(withBranch);
  t.equal(transport.lastResponse('CANCEL').status, 481, 'a CANCEL for no pending INVITE gets 481');
});

t.test('reject(): a final error response (default 486); a bad status is refused locally', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const { call } = await ringing(ue, inviteFromBob());
  await t.rejects(call.reject(200), { code: 'EPC_ERR_UA_INVALID_ARGUMENT' });
  const ended = new Promise<CallEndInfo>((resolve) => call.once('ended', resolve));
  await call.reject();
  t.equal(transport.lastResponse('INVITE').status, 486);
  t.same(await ended, { cause: 'rejected', status: 486 });
  await t.rejects(call.answer(ANSWER), { code: 'EPC_ERR_INVALID_STATE' });
});

t.test('RFC 3264 §8.4: a re-INVITE putting us on hold is answered recvonly from our last SDP; "updated" reports it', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const { call } = await ringing(ue, inviteFromBob());
  await call.answer(ANSWER);
  ue.receive(inDialog('ACK', 5, transport));
  const updated = new Promise<{ sdp: string; direction: string }>((resolve) => call.once('updated', resolve));
  const holdOffer = OFFER.replace('a=sendrecv', 'a=sendonly').replace('o=- 1 1', 'o=- 1 2');
  ue.receive(inDialog('INVITE', 6, transport, [], holdOffer));
  const ok = transport.lastResponse('INVITE');
  t.equal(ok.status, 200);
  t.match(bodyText(ok), /a=recvonly/, 'answer recvonly');
  t.match(bodyText(ok), /o=- 7 2 IN/, 'our o= version incremented');
  t.same(await updated, { sdp: holdOffer, direction: 'sendonly' });
  // An old CSeq is out of order (RFC 3261 §12.2.2).
  ue.receive(inDialog('INFO', 6, transport, [], 'Signal=1\r\n'));
  t.equal(transport.lastResponse('INFO').status, 500);
  // INFO in order is reported.
  const info = new Promise<{ contentType: string; body: string }>((resolve) => call.once('info', resolve));
  ue.receive(inDialog('INFO', 7, transport, [], 'Signal=5\r\nDuration=100\r\n'));
  t.same(await info, { contentType: 'application/dtmf-relay', body: 'Signal=5\r\nDuration=100\r\n' });
  // A re-offer with a different number of m= lines cannot be answered from our description.
  ue.receive(inDialog('UPDATE', 8, transport, [], `${OFFER}m=video 40002 RTP/AVP 96\r\n`));
  t.equal(transport.lastResponse('UPDATE').status, 488);
});

t.test('RFC 3261 §12.2.2 / §8.2.1: unknown dialog → 481, unknown method → 501, known but unsupported → 405, OPTIONS → 200 with Allow', async (t) => {
  const { ue, transport } = await registeredUe(t);
  ue.receive(incoming('BYE', [['From', '<sip:bob@ims.test>;tag=b1'], ['To', '<sip:alice@ims.test>;tag=nope'], ['Call-ID', 'x'], ['CSeq', '1 BYE']]));
  t.equal(transport.lastResponse('BYE').status, 481);
  ue.receive(incoming('FOO', [['From', '<sip:bob@ims.test>;tag=b1'], ['To', '<sip:alice@ims.test>'], ['Call-ID', 'y'], ['CSeq', '1 FOO']]));
  t.equal(transport.lastResponse('FOO').status, 501);
  ue.receive(incoming('PUBLISH', [['From', '<sip:bob@ims.test>;tag=b1'], ['To', '<sip:alice@ims.test>'], ['Call-ID', 'z'], ['CSeq', '1 PUBLISH']]));
  const publish = transport.lastResponse('PUBLISH');
  t.equal(publish.status, 405);
  t.ok(getHeader(publish, 'Allow')?.includes('INVITE'), '405 carries Allow');
  ue.receive(incoming('OPTIONS', [['From', '<sip:bob@ims.test>;tag=b1'], ['To', '<sip:alice@ims.test>'], ['Call-ID', 'o'], ['CSeq', '1 OPTIONS']]));
  const options = transport.lastResponse('OPTIONS');
  t.equal(options.status, 200);
  t.ok(getHeader(options, 'Allow') && getHeader(options, 'Accept') && getHeader(options, 'Supported'), 'Allow, Accept, Supported');
  ue.receive(inviteFromBob([['Require', 'precondition']]));
  const refused = transport.lastResponse('INVITE');
  t.equal(refused.status, 420, 'RFC 3261 §8.2.2.3: Require of an unknown extension → 420');
  t.equal(getHeader(refused, 'Unsupported'), 'precondition');
});

t.test('RFC 3261 §13.3.1.4: no ACK for our 200 within 64*T1 → BYE, ended failed', async (t) => {
  const { ue, transport, clock } = await registeredUe(t);
  const { call } = await ringing(ue, inviteFromBob());
  const ended = new Promise<CallEndInfo>((resolve) => call.once('ended', resolve));
  await call.answer(ANSWER);
  clock.advance(32_000);
  const bye = transport.last('BYE');
  t.same(getHeaders(bye, 'Route'), RR, 'UAS route set = Record-Route in order');
  t.equal(bye.uri.kind === 'sip' && bye.uri.host, '192.0.2.7', 'to the caller Contact');
  t.equal(cseq(bye).seq, 1, 'the UAS starts its own CSeq');
  t.match(getHeader(bye, 'From') ?? '', /^<sip:alice@ims\.test>;tag=/, 'From = our To with our tag');
  clock.advance(32_000);
  t.equal((await ended).cause, 'failed');
});
