// core/ua communication deflection (TS 24.604 CD, spec-digest §11): a ringing incoming call
// answered 302 Moved Temporarily whose only Contact is the deflect-to URI.
import t from 'tap';
import { getHeaders, type SipRequest } from '../../../core/sip/index.js';
import type { CallEndInfo, UaCall, VirtualUe } from '../../../core/ua/index.js';
import { incoming, OFFER, RR, registeredUe } from '../../support/ua-fake-core.js';

function inviteFromBob(): SipRequest {
  return incoming('INVITE', [
    ...RR.map((r): [string, string] => ['Record-Route', r]),
    ['From', '"Bob" <sip:bob@ims.test>;tag=b1'], ['To', '<sip:alice@ims.test>'], ['Call-ID', 'defl-1'], ['CSeq', '5 INVITE'],
    ['Contact', '<sip:bob@192.0.2.7:5060>'],
  ], OFFER);
}

function ringing(ue: VirtualUe): Promise<UaCall> {
  const got = new Promise<UaCall>((resolve) => ue.once('incoming', (call) => resolve(call)));
  ue.receive(inviteFromBob());
  return got;
}

t.test('TS 24.604 CD: deflect() answers 302 with Contact = the deflect-to URI only, and ends the call (rejected, 302)', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const call = await ringing(ue);
  const ended = new Promise<CallEndInfo>((resolve) => call.once('ended', resolve));
  await call.deflect('sip:erin@ims.test');
  const response = transport.lastResponse('INVITE');
  t.equal(response.status, 302);
  t.equal(response.reason, 'Moved Temporarily');
  t.same(getHeaders(response, 'Contact'), ['<sip:erin@ims.test>'], 'the deflect-to URI and nothing of this UE');
  t.match(await ended, { cause: 'rejected', status: 302 });
  t.equal(call.state, 'terminated');
});

t.test('TS 24.604 CD: deflect() refuses a target that is no SIP/tel URI, and a call no longer ringing', async (t) => {
  const { ue } = await registeredUe(t);
  const call = await ringing(ue);
  await t.rejects(call.deflect('erin'), { code: 'EPC_ERR_UA_INVALID_ARGUMENT' });
  await t.rejects(call.deflect('sip:erin@ims.test>;x'), { code: 'EPC_ERR_UA_INVALID_ARGUMENT' }, 'no header injection through the Contact');
  await call.reject(486);
  await t.rejects(call.deflect('sip:erin@ims.test'), { code: 'EPC_ERR_INVALID_STATE' });
});
