import t from 'tap';
import { parseMessage } from '../../../core/sip/index.js';
import { diversionsOf } from '../../../core/ua/history-info.js';

const response = (historyInfo: readonly string[]) => parseMessage([
  'SIP/2.0 181 Call Is Being Forwarded', 'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1', 'From: <sip:a@x>;tag=1', 'To: <sip:b@x>;tag=2',
  'Call-ID: c1', 'CSeq: 1 INVITE', ...historyInfo.map((h) => `History-Info: ${h}`), 'Content-Length: 0', '', '',
].join('\r\n'));

t.test('TS 24.604 §4.5.2.6.1 / RFC 7044: each History-Info entry with an RFC 4458 cause is a diversion, the Reason text from the diverting entry', async (t) => {
  const message = response([
    '<sip:dave@ims.test?Reason=SIP%3Bcause%3D302%3Btext%3D%22Unconditional%22>;index=1',
    '<sip:erin@ims.test;cause=302?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy%22>;index=1.1, <tel:+15550001;cause=486>;index=1.1.1',
  ]);
  t.same(diversionsOf(message), [
    { target: 'sip:erin@ims.test', cause: 302, reason: 'Unconditional' },
    { target: 'tel:+15550001', cause: 486, reason: 'Busy' },
  ]);
});

t.test('TS 24.604: History-Info without a cause (no diversion) or absent gives no diversion', async (t) => {
  t.same(diversionsOf(response(['<sip:dave@ims.test>;index=1'])), []);
  t.same(diversionsOf(response([])), []);
});
