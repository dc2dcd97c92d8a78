// R-ORIG-9 / issue #15 (soak finding): a dialog-creating answer that arrives after its W2 flow was
// released must not leave a dialog record behind; the flow's release read the flow's dialogs
// before it was stored, so nothing else would ever remove it (24 h in Redis).
import t from 'tap';
import { pino } from 'pino';
import { parseMessage, type SipRequest, type SipResponse } from '../../../core/sip/index.js';
import { MemoryDialogStore } from '../../../core/state/dialog-store.js';
import { MemoryRegistrationStore } from '../../../core/state/registration-store.js';
import type { PcscfContext } from '../../../core/pcscf/context.js';
import { recordOriginatingDialog, recordTerminatingDialog } from '../../../core/pcscf/dialog-tracker.js';
import type { W2Flow } from '../../../core/pcscf/w2-flows.js';

const INVITE = [
  'INVITE sip:bob@ims.test SIP/2.0', 'Via: SIP/2.0/WS a.invalid;branch=z9hG4bK1', 'Max-Forwards: 70',
  'From: <sip:alice@ims.test>;tag=wic1', 'To: <sip:bob@ims.test>', 'Call-ID: c1@a.invalid', 'CSeq: 1 INVITE',
  'Contact: <sip:a@a.invalid;transport=ws;ob>', 'Content-Length: 0', '', '',
].join('\r\n');
const OK = [
  'SIP/2.0 200 OK', 'Via: SIP/2.0/WS a.invalid;branch=z9hG4bK1', 'From: <sip:alice@ims.test>;tag=wic1', 'To: <sip:bob@ims.test>;tag=far1',
  'Call-ID: c1@a.invalid', 'CSeq: 1 INVITE', 'Contact: <sip:bob@192.0.2.5:5060>', 'Content-Length: 0', '', '',
].join('\r\n');

function context(): PcscfContext {
  return {
    nodeId: 'n', domain: 'ims.test', visitedNetworkId: 'v', uris: { isOwn: () => false } as unknown as PcscfContext['uris'],
    registrations: new MemoryRegistrationStore(), dialogs: new MemoryDialogStore(), log: pino({ level: 'silent' }), now: Date.now,
  };
}
const flow = (alive: boolean): W2Flow => ({ key: 'n/1', alive } as unknown as W2Flow);
const invite = parseMessage(INVITE) as SipRequest;
const ok = parseMessage(OK) as SipResponse;

t.test('R-ORIG-9: a 2xx on a live flow records the originating dialog', async (t) => {
  const ctx = context();
  await recordOriginatingDialog(invite, ok, flow(true), ctx);
  t.equal((await ctx.dialogs.all()).length, 1);
});

t.test('issue #15: a 2xx that arrives after the flow was released leaves no dialog record (originating)', async (t) => {
  const ctx = context();
  await recordOriginatingDialog(invite, ok, flow(false), ctx);
  t.same(await ctx.dialogs.all(), [], 'nothing stored for a dead flow');
});

t.test('issue #15: the WIC answer of a terminating INVITE after its flow was released leaves no dialog record', async (t) => {
  const ctx = context();
  const answer = parseMessage(OK.replace('To: <sip:bob@ims.test>;tag=far1', 'To: <sip:bob@ims.test>;tag=wic2')) as SipResponse;
  await recordTerminatingDialog(invite, answer, flow(false), ctx);
  t.same(await ctx.dialogs.all(), []);
  await recordTerminatingDialog(invite, answer, flow(true), ctx);
  t.equal((await ctx.dialogs.all()).length, 1, 'but it is recorded on a live flow');
});
