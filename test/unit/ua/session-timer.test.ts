// core/ua session timers (RFC 4028): who refreshes, when, with what, and BYE on expiry.
import t from 'tap';
import { bodyText, getHeader, optionTags, type SipRequest } from '../../../core/sip/index.js';
import type { CallEndInfo } from '../../../core/ua/index.js';
import { ANSWER, incoming, OFFER, registeredUe, reply, settle } from '../../support/ua-fake-core.js';

const CONTACT = ['Contact', '<sip:bob@192.0.2.7:5060>'] as [string, string];

t.test('RFC 4028 §10: as refresher (refresher=uac in the 2xx) the UAC refreshes at half the interval, with UPDATE when allowed', async (t) => {
  const { ue, transport, clock } = await registeredUe(t);
  await ue.call('sip:bob@ims.test', { sdp: OFFER });
  ue.receive(reply(transport.last('INVITE'), 200, { toTag: 'b1', headers: [CONTACT, ['Session-Expires', '1800;refresher=uac'], ['Require', 'timer'], ['Allow', 'INVITE, ACK, BYE, UPDATE']], body: ANSWER }));
  clock.advance(899_000);
  t.equal(transport.requests('UPDATE').length, 0);
  clock.advance(1_000);
  const update = transport.last('UPDATE');
  t.equal(getHeader(update, 'Session-Expires'), '1800;refresher=uac', 'Session-Expires with refresher=uac');
  t.equal(bodyText(update), '', 'a refresh UPDATE carries no offer');
  t.ok(optionTags(update, 'Supported').includes('timer'));
  ue.receive(reply(update, 200, { headers: [['Session-Expires', '1800;refresher=uac']] }));
  await settle();
  clock.advance(900_000);
  t.equal(transport.requests('UPDATE').length, 2, 'the next refresh half an interval later');
});

t.test('RFC 4028 §10: without UPDATE in Allow the refresh is a re-INVITE with the unchanged SDP', async (t) => {
  const { ue, transport, clock } = await registeredUe(t);
  await ue.call('sip:bob@ims.test', { sdp: OFFER });
  ue.receive(reply(transport.last('INVITE'), 200, { toTag: 'b1', headers: [CONTACT, ['Session-Expires', '600;refresher=uac'], ['Allow', 'INVITE, ACK, BYE']], body: ANSWER }));
  const before = transport.requests('INVITE').length;
  clock.advance(300_000);
  t.equal(transport.requests('INVITE').length, before + 1);
  t.equal(bodyText(transport.last('INVITE')), OFFER, 'same SDP, same version (RFC 4028 §10)');
});

t.test('RFC 4028 §10: when the other side refreshes and does not, BYE at interval - min(32 s, interval/3)', async (t) => {
  const { ue, transport, clock } = await registeredUe(t);
  const call = await ue.call('sip:bob@ims.test', { sdp: OFFER });
  const ended = new Promise<CallEndInfo>((resolve) => call.once('ended', resolve));
  ue.receive(reply(transport.last('INVITE'), 200, { toTag: 'b1', headers: [CONTACT, ['Session-Expires', '1800;refresher=uas']], body: ANSWER }));
  clock.advance(1767_000);
  t.equal(transport.requests('BYE').length, 0);
  clock.advance(1_000);
  const bye = transport.last('BYE');
  t.match(getHeader(bye, 'Reason') ?? '', /Session timer expired/);
  ue.receive(reply(bye, 200));
  t.same(await ended, { cause: 'failed', reason: 'session timer expired' });
});

t.test('RFC 4028 §7.2: a 2xx without Session-Expires means no session timer', async (t) => {
  const { ue, transport, clock } = await registeredUe(t);
  await ue.call('sip:bob@ims.test', { sdp: OFFER });
  ue.receive(reply(transport.last('INVITE'), 200, { toTag: 'b1', headers: [CONTACT], body: ANSWER }));
  clock.advance(33_000); // the INVITE transaction's 2xx-absorbing window ends
  t.same(clock.pendingDelays(), [3000_000 - 33_000], 'only the registration refresh timer runs');
});

function invite(extra: [string, string][]): SipRequest {
  return incoming('INVITE', [['From', '<sip:bob@ims.test>;tag=b1'], ['To', '<sip:alice@ims.test>'], ['Call-ID', 'st-1'], ['CSeq', '1 INVITE'], CONTACT, ...extra], OFFER);
}

t.test('RFC 4028 §9: as UAS the 200 carries Session-Expires with refresher=uac and Require timer when the UAC supports timer; a remote refresh restarts the timer', async (t) => {
  const { ue, transport, clock } = await registeredUe(t);
  ue.once('incoming', (call) => void call.answer(ANSWER));
  ue.receive(invite([['Supported', 'timer'], ['Session-Expires', '300']]));
  await settle();
  const ok = transport.lastResponse('INVITE');
  t.equal(getHeader(ok, 'Session-Expires'), '300;refresher=uac');
  t.same(optionTags(ok, 'Require'), ['timer']);
  const to = getHeader(ok, 'To') ?? '';
  ue.receive(incoming('ACK', [['From', '<sip:bob@ims.test>;tag=b1'], ['To', to], ['Call-ID', 'st-1'], ['CSeq', '1 ACK']]));
  clock.advance(250_000);
  ue.receive(incoming('UPDATE', [['From', '<sip:bob@ims.test>;tag=b1'], ['To', to], ['Call-ID', 'st-1'], ['CSeq', '2 UPDATE'], CONTACT, ['Supported', 'timer'], ['Session-Expires', '300;refresher=uac']]));
  const refreshed = transport.lastResponse('UPDATE');
  t.equal(refreshed.status, 200);
  t.equal(getHeader(refreshed, 'Session-Expires'), '300;refresher=uac');
  clock.advance(250_000);
  t.equal(transport.requests('BYE').length, 0, 'the refresh restarted the expiry');
  clock.advance(50_000);
  t.equal(transport.requests('BYE').length, 1, 'BYE 32 s before expiry without a refresh');
});

t.test('RFC 4028 §9: a UAC without timer support makes us the refresher (refresher=uas)', async (t) => {
  const { ue, transport } = await registeredUe(t);
  ue.once('incoming', (call) => void call.answer(ANSWER));
  ue.receive(invite([['Session-Expires', '300']]));
  await settle();
  const ok = transport.lastResponse('INVITE');
  t.equal(getHeader(ok, 'Session-Expires'), '300;refresher=uas');
  t.equal(getHeader(ok, 'Require'), undefined, 'no Require: timer toward a UAC that does not support it');
});

t.test('RFC 4028 §8.1: an interval below our Min-SE gets 422 with Min-SE: 90', async (t) => {
  const { ue, transport } = await registeredUe(t);
  ue.receive(invite([['Supported', 'timer'], ['Session-Expires', '30']]));
  const refused = transport.lastResponse('INVITE');
  t.equal(refused.status, 422);
  t.equal(getHeader(refused, 'Min-SE'), '90');
});
