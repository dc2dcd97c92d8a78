import t from 'tap';
import { parseMessage } from '../../../core/sip/index.js';
import { callCompletionOffer, parseCallCompletionBody, withCallCompletionMode } from '../../../core/ua/call-completion.js';

const response = (status: string, callInfo: readonly string[]) => parseMessage([
  `SIP/2.0 ${status}`, 'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1', 'From: <sip:a@x>;tag=1', 'To: <sip:b@x>;tag=2',
  'Call-ID: c1', 'CSeq: 1 INVITE', ...callInfo.map((h) => `Call-Info: ${h}`), 'Content-Length: 0', '', '',
].join('\r\n'));

t.test('TS 24.642 / RFC 6910 §4.4: Call-Info purpose=call-completion with m=BS (486) or m=NR (180) is an offer; other Call-Info is not', async (t) => {
  t.same(callCompletionOffer(response('486 Busy Here', ['<http://x/i.png>;purpose=icon, <sip:cc@as.ims.test>;purpose=call-completion;m=BS']), 'sip:bob@ims.test'),
    { uri: 'sip:cc@as.ims.test', mode: 'BS', target: 'sip:bob@ims.test' });
  t.same(callCompletionOffer(response('180 Ringing', ['<sip:cc@as.ims.test>;m=nr;purpose=call-completion']), 'sip:bob@ims.test')?.mode, 'NR', 'm is case-insensitive');
  t.equal(callCompletionOffer(response('486 Busy Here', ['<http://x/i.png>;purpose=icon']), 'sip:bob@ims.test'), undefined, 'no call-completion purpose');
  t.equal(callCompletionOffer(response('486 Busy Here', ['<sip:cc@as.ims.test>;purpose=call-completion;m=XX']), 'sip:bob@ims.test'), undefined, 'an unknown m');
  t.equal(callCompletionOffer(response('486 Busy Here', []), 'sip:bob@ims.test'), undefined, 'no Call-Info');
});

t.test('RFC 6910 §7.2/§7.4: the m URI parameter goes on the SUBSCRIBE and recall targets, replacing any, before URI headers', async (t) => {
  t.equal(withCallCompletionMode('sip:bob@ims.test', 'BS'), 'sip:bob@ims.test;m=BS');
  t.equal(withCallCompletionMode('sip:cc@as.ims.test;m=NR;x=1', 'BS'), 'sip:cc@as.ims.test;x=1;m=BS');
  t.equal(withCallCompletionMode('sip:cc@as.ims.test?h=1', 'NR'), 'sip:cc@as.ims.test;m=NR?h=1');
});

t.test('RFC 6910 §10: application/call-completion bodies give cc-state and cc-URI', async (t) => {
  t.same(parseCallCompletionBody('cc-state: ready\r\ncc-URI: <sip:bob@ims.test;m=BS>\r\n'), { state: 'ready', recallUri: 'sip:bob@ims.test;m=BS' });
  t.same(parseCallCompletionBody('cc-state: Queued\r\n'), { state: 'queued' });
  t.equal(parseCallCompletionBody('cc-service-retention: true\r\n'), undefined, 'no cc-state');
});
