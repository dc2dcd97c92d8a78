// core/ua transfer: REFER out with NOTIFY sipfrag tracking (RFC 3515), REFER in with the
// plugin's accept/notify, attended transfer with Replaces (RFC 3891).
import t from 'tap';
import { bodyText, getHeader, parseNameAddr, type SipRequest } from '../../../core/sip/index.js';
import type { CallEndInfo, UaCall, UaTransferRequest, VirtualUe } from '../../../core/ua/index.js';
import { ANSWER, incoming, OFFER, registeredUe, reply, type RecordingTransport } from '../../support/ua-fake-core.js';

async function confirmedCall(ue: VirtualUe, transport: RecordingTransport, tag: string, target = 'sip:bob@ims.test'): Promise<UaCall> {
  const call = await ue.call(target, { sdp: OFFER });
  ue.receive(reply(transport.last('INVITE'), 200, { toTag: tag, headers: [['Contact', '<sip:peer@192.0.2.7>']], body: ANSWER }));
  return call;
}

function fromRemote(call: UaCall, transport: RecordingTransport, method: string, seq: number, headers: [string, string][], body?: string): SipRequest {
  const invite = transport.requests('INVITE').find((r) => getHeader(r, 'Call-ID') === call.sipCallId) as SipRequest;
  const ok = transport.requests('ACK').find((r) => getHeader(r, 'Call-ID') === call.sipCallId) as SipRequest;
  return incoming(method, [['From', getHeader(ok, 'To') ?? ''], ['To', getHeader(invite, 'From') ?? ''], ['Call-ID', call.sipCallId], ['CSeq', `${seq} ${method}`], ['Contact', '<sip:peer@192.0.2.7>'], ...headers], body);
}

t.test('RFC 3515 §2.4.1 / §2.4.5: blind transfer sends REFER (Refer-To, Referred-By) and reports NOTIFY sipfrag progress', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const call = await confirmedCall(ue, transport, 'b1');
  const progress: { status: number; reason: string; final: boolean }[] = [];
  call.on('transferprogress', (p) => progress.push(p));
  const transferring = call.transfer('sip:carol@ims.test');
  const refer = transport.last('REFER');
  t.equal(getHeader(refer, 'Refer-To'), '<sip:carol@ims.test>');
  t.equal(getHeader(refer, 'Referred-By'), '<sip:alice@ims.test>', 'RFC 3892 Referred-By');
  t.ok(getHeader(refer, 'Contact'), 'REFER carries Contact');
  ue.receive(reply(refer, 202));
  await transferring;
  const sipfrag = (status: string, state: string, seq: number) =>
    fromRemote(call, transport, 'NOTIFY', seq, [['Event', 'refer'], ['Subscription-State', state], ['Content-Type', 'message/sipfrag;version=2.0']], `SIP/2.0 ${status}\r\n`);
  ue.receive(sipfrag('100 Trying', 'active;expires=60', 10));
  ue.receive(sipfrag('180 Ringing', 'active;expires=60', 11));
  ue.receive(sipfrag('200 OK', 'terminated;reason=noresource', 12));
  t.same(transport.responses('NOTIFY').map((r) => r.status), [200, 200, 200], 'each NOTIFY answered 200');
  t.same(progress, [
    { status: 100, reason: 'Trying', final: false }, { status: 180, reason: 'Ringing', final: false }, { status: 200, reason: 'OK', final: true },
  ]);
  await t.rejects(call.transfer('bob'), { code: 'EPC_ERR_UA_INVALID_ARGUMENT' });
});

t.test('RFC 3515: a refused REFER rejects transfer() with the status', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const call = await confirmedCall(ue, transport, 'b1');
  const transferring = call.transfer('sip:carol@ims.test');
  ue.receive(reply(transport.last('REFER'), 403));
  await t.rejects(transferring, { code: 'EPC_ERR_UA_REJECTED', status: 403 });
});

t.test('RFC 3891 §6.1: attended transfer puts the other dialog in Refer-To?Replaces with the tags as the target sees them', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const toBob = await confirmedCall(ue, transport, 'bob-tag');
  const toCarol = await confirmedCall(ue, transport, 'carol-tag', 'sip:carol@ims.test');
  const transferring = toBob.transfer(toCarol);
  const refer = transport.last('REFER');
  const uri = parseNameAddr(getHeader(refer, 'Refer-To') ?? '', 'Refer-To').uri;
  t.equal(uri.kind === 'sip' && `${uri.user}@${uri.host}`, 'carol@ims.test', 'Refer-To names carol');
  const replaces = uri.kind === 'sip' ? uri.headers.find((h) => h.name === 'Replaces')?.value : undefined;
  const carolInvite = transport.requests('INVITE').find((r) => getHeader(r, 'Call-ID') === toCarol.sipCallId) as SipRequest;
  const ourTag = /tag=([^;]+)/.exec(getHeader(carolInvite, 'From') ?? '')?.[1];
  t.equal(replaces, `${toCarol.sipCallId};to-tag=carol-tag;from-tag=${ourTag}`);
  ue.receive(reply(refer, 202));
  await transferring;
});

t.test('RFC 3515 §2.4.4: an incoming REFER is handed to the plugin; accept() sends 202 and NOTIFY 100, notify() the final sipfrag', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const call = await confirmedCall(ue, transport, 'b1');
  const referred = new Promise<UaTransferRequest>((resolve) => call.once('referred', resolve));
  ue.receive(fromRemote(call, transport, 'REFER', 20, [['Refer-To', '<sip:dave@ims.test?Replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2>'], ['Referred-By', '<sip:bob@ims.test>']]));
  const request = await referred;
  t.equal(request.target, 'sip:dave@ims.test');
  t.equal(request.replaces, 'abc;to-tag=1;from-tag=2');
  t.equal(request.referredBy, '<sip:bob@ims.test>');
  await request.accept();
  t.equal(transport.lastResponse('REFER').status, 202);
  let notify = transport.last('NOTIFY');
  t.equal(getHeader(notify, 'Event'), 'refer');
  t.equal(getHeader(notify, 'Subscription-State'), 'active;expires=60');
  t.equal(getHeader(notify, 'Content-Type'), 'message/sipfrag;version=2.0');
  t.equal(bodyText(notify), 'SIP/2.0 100 Trying\r\n');
  ue.receive(reply(notify, 200));
  const notified = request.notify(200, 'OK');
  notify = transport.last('NOTIFY');
  ue.receive(reply(notify, 200));
  await notified;
  t.equal(getHeader(notify, 'Subscription-State'), 'terminated;reason=noresource');
  t.equal(bodyText(notify), 'SIP/2.0 200 OK\r\n');
  await t.rejects(request.notify(180, 'Ringing'), { code: 'EPC_ERR_INVALID_STATE' });
});

t.test('RFC 3891 §3: an INVITE with Replaces for a confirmed call replaces it (BYE once answered); no match → 481', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const old = await confirmedCall(ue, transport, 'b1');
  const oldInvite = transport.last('INVITE');
  const ourTag = /tag=([^;]+)/.exec(getHeader(oldInvite, 'From') ?? '')?.[1] ?? '';
  ue.receive(incoming('INVITE', [['From', '<sip:carol@ims.test>;tag=c1'], ['To', '<sip:alice@ims.test>'], ['Call-ID', 'r-0'], ['CSeq', '1 INVITE'],
    ['Replaces', `nope;to-tag=${ourTag};from-tag=b1`]], OFFER));
  t.equal(transport.lastResponse('INVITE').status, 481);
  const got = new Promise<UaCall>((resolve) => ue.once('incoming', (call) => resolve(call)));
  ue.receive(incoming('INVITE', [['From', '<sip:carol@ims.test>;tag=c1'], ['To', '<sip:alice@ims.test>'], ['Call-ID', 'r-1'], ['CSeq', '1 INVITE'],
    ['Contact', '<sip:carol@192.0.2.8>'], ['Replaces', `${old.sipCallId};to-tag=${ourTag};from-tag=b1`]], OFFER));
  const replacing = await got;
  t.equal((replacing as UaCall & { replaces?: string }).replaces, old.id, 'the new call names the one it replaces');
  const oldEnded = new Promise<CallEndInfo>((resolve) => old.once('ended', resolve));
  await replacing.answer(ANSWER);
  const ok = transport.lastResponse('INVITE');
  ue.receive(incoming('ACK', [['From', '<sip:carol@ims.test>;tag=c1'], ['To', getHeader(ok, 'To') ?? ''], ['Call-ID', 'r-1'], ['CSeq', '1 ACK']]));
  const bye = transport.last('BYE');
  t.equal(getHeader(bye, 'Call-ID'), old.sipCallId, 'the replaced dialog gets a BYE');
  ue.receive(reply(bye, 200));
  t.same(await oldEnded, { cause: 'local' });
});

t.test('R-MMTEL-4 / TS 24.629: an emergency call (112, 911, urn:service:sos) is never transferred, nor used as the consultation; no REFER leaves', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const emergency = await confirmedCall(ue, transport, 'psap-tag', 'tel:112');
  const other = await confirmedCall(ue, transport, 'bob-tag');
  await t.rejects(emergency.transfer('sip:carol@ims.test'), { code: 'EPC_ERR_INVALID_STATE' }, 'blind transfer of the emergency call refused');
  await t.rejects(other.transfer(emergency), { code: 'EPC_ERR_INVALID_STATE' }, 'the emergency call cannot be the replaced dialog');
  t.equal(transport.requests('REFER').length, 0, 'no REFER was sent');
  const sipNumber = await confirmedCall(ue, transport, 'psap2-tag', 'sip:911@ims.test;user=phone');
  await t.rejects(sipNumber.transfer('sip:carol@ims.test'), { code: 'EPC_ERR_INVALID_STATE' }, '911 as a SIP user=phone URI too');
  const { isEmergencyTarget } = await import('../../../core/ua/emergency.js');
  t.ok(isEmergencyTarget('urn:service:sos.police'), 'RFC 5031 emergency URN');
  t.notOk(isEmergencyTarget('tel:+4930112'), 'a number merely containing 112 is not one');
});
