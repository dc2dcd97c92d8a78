// core/pcscf/cseq-offset.ts: the WIC-side CSeq offset a dialog keeps once the P-CSCF sent a
// request of its own in it (issue #14 DTMF INFO), RFC 3261 §12.2.1.1 / §12.2.2.
import t from 'tap';
import {
  DialogSequencer, ownRequestCseq, requestTowardIms, responseTowardWic, storeCseqOffset, strayResponseTowardWic,
} from '../../../core/pcscf/cseq-offset.js';
import { createRequest, createResponse, getHeader, type SipRequest } from '../../../core/sip/index.js';
import { MemoryDialogStore, type CseqOffset, type DialogRecord } from '../../../core/state/dialog-store.js';

function dialog(wicCseq: number, cseqOffset?: CseqOffset): DialogRecord {
  return {
    id: 'c1 a1', callId: 'c1', wicTag: 'a1', remoteTag: 'b1', flowKey: 'f1', direction: 'originating', method: 'INVITE', state: 'confirmed',
    wicNameAddr: '<sip:alice@ims.test>;tag=a1', remoteNameAddr: '<sip:bob@ims.test>;tag=b1', remoteTarget: 'sip:bob@192.0.2.1',
    routeSetTowardIms: [], wicCseq, createdAt: 0, ...(cseqOffset === undefined ? {} : { cseqOffset }),
  };
}

function request(method: string, seq: number, extra: [string, string][] = []): SipRequest {
  return createRequest({ method, uri: 'sip:bob@192.0.2.1', headers: [
    ['Via', 'SIP/2.0/WS wic.invalid;branch=z9hG4bKx'], ['From', '<sip:alice@ims.test>;tag=a1'], ['To', '<sip:bob@ims.test>;tag=b1'],
    ['Call-ID', 'c1'], ['CSeq', `${seq} ${method}`], ...extra,
  ] });
}

const cseqOf = (m: Parameters<typeof getHeader>[0]): string | undefined => getHeader(m, 'CSeq');

t.test('RFC 3261 §12.2.1.1: an own request takes the next number of the WIC side and grows the offset by one', async (t) => {
  const first = ownRequestCseq(dialog(10));
  t.equal(first.seq, 11);
  t.same(first.cseqOffset, { value: 1 });
  const second = ownRequestCseq(dialog(10, first.cseqOffset));
  t.equal(second.seq, 12, 'the second digit goes above the first');
  t.same(second.cseqOffset, { value: 2 });
  const afterWic = ownRequestCseq(dialog(14, { value: 2, invite: { wicSeq: 13, offset: 2 } }));
  t.equal(afterWic.seq, 17, 'above the WIC\'s last request as the far end saw it (14 + 2)');
  t.same(afterWic.cseqOffset, { value: 3, invite: { wicSeq: 13, offset: 2 } }, 'the INVITE note is kept');
});

t.test('a dialog without own requests: the WIC\'s requests and responses cross unchanged', async (t) => {
  const bye = request('BYE', 12);
  const out = requestTowardIms(bye, dialog(11));
  t.equal(out.request, bye, 'the very same request');
  t.equal(out.cseqOffset, undefined, 'nothing to store');
  const ok = createResponse(bye, 200);
  t.equal(responseTowardWic(ok, bye), ok);
  t.equal(strayResponseTowardWic(ok, dialog(11)), ok);
});

t.test('RFC 3261 §12.2.2: the WIC\'s later requests leave above the own ones; responses carry the WIC\'s number again', async (t) => {
  const state: CseqOffset = { value: 2 };
  const bye = request('BYE', 12);
  const out = requestTowardIms(bye, dialog(12, state));
  t.equal(cseqOf(out.request), '14 BYE');
  t.equal(out.cseqOffset, undefined, 'a BYE leaves nothing to remember');
  t.equal(cseqOf(responseTowardWic(createResponse(out.request, 200), bye)), '12 BYE');
  const local = createResponse(bye, 503);
  t.equal(responseTowardWic(local, bye), local, 'a response built from the WIC\'s request already has its number');
});

t.test('RFC 3261 §17.1.1.3: an INVITE notes its offset; its ACK gets that one even after the offset grew', async (t) => {
  const reinvite = request('INVITE', 13);
  const out = requestTowardIms(reinvite, dialog(13, { value: 1 }));
  t.equal(cseqOf(out.request), '14 INVITE');
  t.same(out.cseqOffset, { value: 1, invite: { wicSeq: 13, offset: 1 } }, 'to store: the INVITE and its offset');
  const grown: CseqOffset = { value: 2, invite: { wicSeq: 13, offset: 1 } }; // a digit between the 2xx and the ACK
  t.equal(cseqOf(requestTowardIms(request('ACK', 13), dialog(13, grown)).request), '14 ACK', 'the ACK has its INVITE\'s number');
  t.equal(cseqOf(requestTowardIms(request('ACK', 10), dialog(13, grown)).request), '10 ACK', 'the initial INVITE\'s ACK (sent before any offset) is unchanged');
});

t.test('RFC 3262 §7.2: a PRACK is renumbered, and its RAck names the INVITE as it left', async (t) => {
  const state: CseqOffset = { value: 2, invite: { wicSeq: 20, offset: 1 } };
  const out = requestTowardIms(request('PRACK', 21, [['RAck', '1 20 INVITE']]), dialog(20, state)).request;
  t.equal(cseqOf(out), '23 PRACK');
  t.equal(getHeader(out, 'RAck'), '1 21 INVITE');
  const malformed = requestTowardIms(request('PRACK', 21, [['RAck', 'junk']]), dialog(20, state)).request;
  t.equal(getHeader(malformed, 'RAck'), 'junk', 'an RAck that is not one crosses as it is');
});

t.test('RFC 3261 §16.7: a stray 2xx from the IMS gets the WIC\'s number back (the noted INVITE first)', async (t) => {
  const state: CseqOffset = { value: 3, invite: { wicSeq: 13, offset: 1 } };
  const ok = createResponse(request('INVITE', 14), 200);
  t.equal(cseqOf(strayResponseTowardWic(ok, dialog(14, state))), '13 INVITE', 'the noted INVITE\'s offset');
  t.equal(cseqOf(strayResponseTowardWic(createResponse(request('INFO', 20), 200), dialog(17, state))), '17 INFO', 'otherwise the current offset');
});

t.test('storeCseqOffset writes onto the current record, keeping what moved on since it was read', async (t) => {
  const store = new MemoryDialogStore();
  await store.put(dialog(15));
  await storeCseqOffset(store, 'c1 a1', { value: 1 });
  const stored = await store.get('c1 a1');
  t.equal(stored?.wicCseq, 15);
  t.same(stored?.cseqOffset, { value: 1 });
  await storeCseqOffset(store, 'gone', { value: 1 });
  t.equal(await store.get('gone'), undefined, 'a dialog that ended is not brought back');
});

t.test('DialogSequencer runs one dialog\'s steps one after the other, other dialogs freely, and survives a failed step', async (t) => {
  const sequencer = new DialogSequencer();
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const first = sequencer.run('d1', async () => { order.push('d1 first starts'); await gate; order.push('d1 first ends'); throw new Error('boom'); });
  const second = sequencer.run('d1', async () => { order.push('d1 second'); return 2; });
  const other = sequencer.run('d2', async () => { order.push('d2'); return 3; });
  t.equal(await other, 3);
  t.same(order, ['d1 first starts', 'd2'], 'd1\'s second step waits for its first; d2 does not');
  release();
  await t.rejects(first, { message: 'boom' });
  t.equal(await second, 2, 'a failed step does not stop the next');
  t.same(order, ['d1 first starts', 'd2', 'd1 first ends', 'd1 second']);
});
