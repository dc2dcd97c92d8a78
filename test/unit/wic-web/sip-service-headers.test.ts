// What the SIP WIC reads from MMTel signalling itself (examples/wic-web/src/sip-service-headers.ts):
// the diversion targets of a History-Info (TS 24.604 CDIV notification) and the counts of a
// message-summary body (TS 24.606 MWI, RFC 3842), as the WIC shows them.
import t from 'tap';
import { historyInfoDiversions, parseMessageSummary } from '../../../examples/wic-web/src/sip-service-headers.js';

t.test('TS 24.604 / RFC 7044: the History-Info entries with an RFC 4458 cause are the diversion targets, in order', async (t) => {
  const header = '<sip:bob@ims.test?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy%22>;index=1, <sip:carol@ims.test;cause=486>;index=1.1';
  t.same(historyInfoDiversions([header]), [{ target: 'sip:carol@ims.test', cause: 486 }], 'bob was busy: diverted to carol (cause 486), the encoded Reason of bob\'s entry is not a cause');
  t.same(historyInfoDiversions(['<sip:bob@ims.test>;index=1', '<sip:carol@ims.test;cause=302>;index=1.1', '<tel:+15550009;cause=408>;index=1.1.1']),
    [{ target: 'sip:carol@ims.test', cause: 302 }, { target: 'tel:+15550009', cause: 408 }], 'one header per line: unconditional, then no reply');
  t.same(historyInfoDiversions(['<sip:bob@ims.test>;index=1']), [], 'no cause: no diversion');
});

t.test('TS 24.606 / RFC 3842 §5.2: a message-summary body gives the waiting flag and the new/old counts over all classes', async (t) => {
  t.same(parseMessageSummary('Messages-Waiting: yes\r\nMessage-Account: sip:alice@ims.test\r\nVoice-Message: 2/8 (0/2)\r\nFax-Message: 1/0\r\n'),
    { waiting: true, newMessages: 3, oldMessages: 8 }, 'voice 2/8 and fax 1/0: 3 new, 8 old');
  t.same(parseMessageSummary('Messages-Waiting: no\r\n'), { waiting: false, newMessages: 0, oldMessages: 0 }, 'nothing waiting');
  t.equal(parseMessageSummary('hello'), undefined, 'not a message-summary: nothing shown');
});
