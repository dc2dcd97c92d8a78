// core/ua outside INVITE dialogs: MESSAGE (RFC 3428), SUBSCRIBE/NOTIFY (RFC 6665) for reg
// (RFC 3680) and message-summary (RFC 3842), unsolicited MWI, several calls per client.
import t from 'tap';
import { bodyText, getHeader, getHeaders, tagOf, to, type SipRequest } from '../../../core/sip/index.js';
import type { UaIncomingMessage, UaSubscription } from '../../../core/ua/index.js';
import { incoming, OFFER, registeredUe, reply, SERVICE_ROUTE, settle } from '../../support/ua-fake-core.js';

t.test('RFC 3428 §4 / R-ORIG-11: MESSAGE goes through the Service-Route with PPI; resolves with the final status', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const sending = ue.message('sip:bob@ims.test', 'hello');
  const message = transport.last('MESSAGE');
  t.same(getHeaders(message, 'Route'), [SERVICE_ROUTE]);
  t.equal(getHeader(message, 'P-Preferred-Identity'), '<sip:alice@ims.test>');
  t.equal(getHeader(message, 'Content-Type'), 'text/plain');
  t.equal(bodyText(message), 'hello');
  t.equal(getHeader(message, 'Contact'), undefined, 'MESSAGE creates no dialog: no Contact');
  ue.receive(reply(message, 202));
  t.same(await sending, { status: 202, reason: 'Accepted' });
  const failing = ue.message('tel:+15550100', '{"a":1}', 'application/json');
  ue.receive(reply(transport.last('MESSAGE'), 404));
  t.same(await failing, { status: 404, reason: 'Not Found' }, 'a failure resolves with the status, not a rejection');
});

t.test('RFC 3428 §7: an incoming MESSAGE is answered 200 and reported with the asserted sender', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const got = new Promise<UaIncomingMessage>((resolve) => ue.once('message', resolve));
  ue.receive(incoming('MESSAGE', [['From', '<sip:bob@ims.test>;tag=m1'], ['To', '<sip:alice@ims.test>'], ['Call-ID', 'msg-1'], ['CSeq', '1 MESSAGE'],
    ['P-Asserted-Identity', '<sip:bob@ims.test>'], ['Content-Type', 'text/plain;charset=utf-8']], 'hi alice'));
  t.equal(transport.lastResponse('MESSAGE').status, 200);
  t.same(await got, { from: { uri: 'sip:bob@ims.test' }, contentType: 'text/plain', body: 'hi alice' });
});

t.test('RFC 3842 §4.1: an unsolicited NOTIFY (message-summary) is answered 200 and reported', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const got = new Promise<{ event: string; contentType: string; body: string }>((resolve) => ue.once('unsolicitednotify', resolve));
  ue.receive(incoming('NOTIFY', [['From', '<sip:vm@ims.test>;tag=n1'], ['To', '<sip:alice@ims.test>'], ['Call-ID', 'mwi-1'], ['CSeq', '1 NOTIFY'],
    ['Event', 'message-summary'], ['Subscription-State', 'active'], ['Content-Type', 'application/simple-message-summary']], 'Messages-Waiting: yes\r\n'));
  t.equal(transport.lastResponse('NOTIFY').status, 200);
  t.same(await got, { event: 'message-summary', contentType: 'application/simple-message-summary', body: 'Messages-Waiting: yes\r\n' });
});

function notifyFor(subscribe: SipRequest, seq: number, state: string, body = '<reginfo/>'): SipRequest {
  return incoming('NOTIFY', [['From', '<sip:alice@ims.test>;tag=srv1'], ['To', getHeader(subscribe, 'From') ?? ''], ['Call-ID', getHeader(subscribe, 'Call-ID') ?? ''],
    ['CSeq', `${seq} NOTIFY`], ['Contact', '<sip:scscf@127.0.0.1:5070>'], ['Record-Route', '<sip:127.0.0.1:18080;lr>'], ['Event', 'reg'],
    ['Subscription-State', state], ['Content-Type', 'application/reginfo+xml']], body);
}

t.test('RFC 6665 / RFC 3680 / TS 24.229 §5.1.1.3: reg subscription (Expires 600000), NOTIFY before the 2xx, refresh, termination', async (t) => {
  const { ue, transport, clock } = await registeredUe(t);
  const subscribing = ue.subscribe('reg');
  const subscribe = transport.last('SUBSCRIBE');
  t.equal(getHeader(subscribe, 'Event'), 'reg');
  t.equal(getHeader(subscribe, 'Expires'), '600000');
  t.equal(getHeader(subscribe, 'Accept'), 'application/reginfo+xml');
  t.same(getHeaders(subscribe, 'Route'), [SERVICE_ROUTE]);
  t.match(getHeader(subscribe, 'To') ?? '', /^<sip:alice@ims\.test>$/, 'the reg event of our own IMPU');
  t.ok(getHeader(subscribe, 'Contact'));
  // RFC 6665 §4.1.2.4: the NOTIFY may come first and creates the dialog.
  ue.receive(notifyFor(subscribe, 1, 'active;expires=3600'));
  t.equal(transport.lastResponse('NOTIFY').status, 200);
  ue.receive(reply(subscribe, 200, { toTag: 'srv1', headers: [['Expires', '3600'], ['Contact', '<sip:scscf@127.0.0.1:5070>']] }));
  const sub: UaSubscription = await subscribing;
  const notes: string[] = [];
  sub.on('notify', (n) => notes.push(`${n.state}:${n.body ?? ''}`));
  ue.receive(notifyFor(subscribe, 2, 'active;expires=3000', '<reginfo version="1"/>'));
  t.same(notes, ['active:<reginfo version="1"/>']);
  clock.advance(3000_000);
  const refresh = transport.requests('SUBSCRIBE').at(-1) as SipRequest;
  t.not(refresh, subscribe, 'refreshed 600 s before expiry');
  t.equal(tagOf(to(refresh)), 'srv1', 'refresh inside the dialog');
  t.same(getHeaders(refresh, 'Route'), ['<sip:127.0.0.1:18080;lr>'], 'route set from the NOTIFY Record-Route');
  t.equal(refresh.uri.kind === 'sip' && refresh.uri.user, 'scscf', 'to the notifier Contact');
  ue.receive(reply(refresh, 200, { headers: [['Expires', '3600']] }));
  const ended = new Promise<{ status?: number; reason?: string }>((resolve) => sub.once('terminated', resolve));
  ue.receive(notifyFor(subscribe, 3, 'terminated;reason=deactivated'));
  t.same(await ended, { reason: 'deactivated' });
  ue.receive(notifyFor(subscribe, 4, 'active'));
  t.equal(transport.lastResponse('NOTIFY').status, 481, 'a NOTIFY after termination: no such dialog');
});

t.test('RFC 6665 §4.1.2.3: unsubscribe sends SUBSCRIBE Expires 0; a refused SUBSCRIBE rejects with the status', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const subscribing = ue.subscribe('message-summary', 'sip:alice@ims.test', 7200);
  const subscribe = transport.last('SUBSCRIBE');
  t.equal(getHeader(subscribe, 'Accept'), 'application/simple-message-summary');
  t.equal(getHeader(subscribe, 'Expires'), '7200');
  ue.receive(reply(subscribe, 202, { toTag: 'vm', headers: [['Expires', '7200'], ['Contact', '<sip:vm@127.0.0.1>']] }));
  const sub = await subscribing;
  const unsubscribing = sub.unsubscribe();
  const bye = transport.last('SUBSCRIBE');
  t.equal(getHeader(bye, 'Expires'), '0');
  ue.receive(reply(bye, 200));
  await unsubscribing;
  const refused = ue.subscribe('presence');
  ue.receive(reply(transport.last('SUBSCRIBE'), 489));
  await t.rejects(refused, { code: 'EPC_ERR_UA_REJECTED', status: 489 });
  await t.rejects(ue.subscribe('bad event'), { code: 'EPC_ERR_UA_INVALID_ARGUMENT' });
});

t.test('several calls per client: independent dialogs, each ended on its own', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const a = await ue.call('sip:bob@ims.test', { sdp: OFFER });
  const b = await ue.call('sip:carol@ims.test', { sdp: OFFER });
  t.not(a.sipCallId, b.sipCallId);
  t.equal(ue.calls.size, 2);
  const [inviteA, inviteB] = transport.requests('INVITE');
  ue.receive(reply(inviteB as SipRequest, 200, { toTag: 'c', headers: [['Contact', '<sip:carol@192.0.2.8>']], body: OFFER }));
  ue.receive(reply(inviteA as SipRequest, 486, { toTag: 'b' }));
  await settle();
  t.equal(a.state, 'terminated');
  t.equal(b.state, 'confirmed');
  t.same([...ue.calls.keys()], [b.id]);
  t.equal((ue.describe()['calls'] as unknown[]).length, 1, 'describe() lists the live call');
});
