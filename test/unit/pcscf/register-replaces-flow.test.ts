// RFC 5626 §6 / issue #15: a REGISTER with the same +sip.instance and reg-id over a new flow (the
// client reconnected, maybe to another node after its node died) replaces the binding of its old
// flow: the P-CSCF's copy follows the registrar at once, so nothing is routed to the dead flow.
import t from 'tap';
import { pino } from 'pino';
import { parseMessage, type SipRequest, type SipResponse } from '../../../core/sip/index.js';
import { MemoryDialogStore } from '../../../core/state/dialog-store.js';
import { MemoryRegistrationStore } from '../../../core/state/registration-store.js';
import type { PcscfContext } from '../../../core/pcscf/context.js';
import { onRegisterResponse } from '../../../core/pcscf/register.js';
import type { W2Flow } from '../../../core/pcscf/w2-flows.js';

const CONTACT = '<sip:k3r9@df7jal23ls0d.invalid;transport=ws;ob>';
function register(regId: number): SipRequest {
  return parseMessage([
    'REGISTER sip:ims.test SIP/2.0', 'Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK1', 'Max-Forwards: 70',
    'From: <sip:alice@ims.test>;tag=a', 'To: <sip:alice@ims.test>', 'Call-ID: r1', 'CSeq: 1 REGISTER',
    `Contact: ${CONTACT};+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000001>";reg-id=${regId}`,
    'Supported: path, outbound', 'Expires: 600', 'Content-Length: 0', '', '',
  ].join('\r\n')) as SipRequest;
}
function ok(request: SipRequest): SipResponse {
  return parseMessage([
    'SIP/2.0 200 OK', 'Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK1', 'From: <sip:alice@ims.test>;tag=a', 'To: <sip:alice@ims.test>;tag=r',
    'Call-ID: r1', 'CSeq: 1 REGISTER', `Contact: ${CONTACT};expires=600;+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000001>";reg-id=${request.headers.find((h) => h.name === 'Contact')?.value.match(/reg-id=(\d)/)?.[1] ?? '1'}`,
    'Service-Route: <sip:orig@scscf.ims.test;lr>', 'Content-Length: 0', '', '',
  ].join('\r\n')) as SipResponse;
}
const context = (): PcscfContext => ({
  nodeId: 'n', domain: 'ims.test', visitedNetworkId: 'v', uris: {} as PcscfContext['uris'],
  registrations: new MemoryRegistrationStore(), dialogs: new MemoryDialogStore(), log: pino({ level: 'silent' }), now: Date.now,
});
const flow = (key: string): W2Flow => ({ key, connection: { subprotocol: 'sip' } } as unknown as W2Flow);

t.test('RFC 5626 §6: the same instance and reg-id over a new flow replace the old flow\'s binding', async (t) => {
  const ctx = context();
  const first = register(1);
  await onRegisterResponse(first, ok(first), flow('node-b/7'), ctx);
  t.same((await ctx.registrations.all()).map((b) => b.flowKey), ['node-b/7']);
  await onRegisterResponse(first, ok(first), flow('node-a/3'), ctx);
  const left = await ctx.registrations.all();
  t.same(left.map((b) => b.flowKey), ['node-a/3'], 'only the new flow\'s binding is left');
  t.equal(left[0]?.regId, 1);
});

t.test('RFC 5626 §6: another reg-id is another flow of the same instance: both bindings stay', async (t) => {
  const ctx = context();
  const one = register(1);
  const two = register(2);
  await onRegisterResponse(one, ok(one), flow('n/1'), ctx);
  await onRegisterResponse(two, ok(two), flow('n/2'), ctx);
  t.same((await ctx.registrations.all()).map((b) => b.flowKey).sort(), ['n/1', 'n/2']);
});
