/**
 * Issue 11 guard "long header lists are handled in linear time": the parser's cost grows with
 * the message, never with its square. Sizes are far past the transport caps (64 KiB) so a
 * quadratic pass would take minutes while a linear one takes well under a second.
 */
import t from 'tap';
import { getHeader as header, parseMessage } from '../../../core/sip/index.js';

const HEAD = 'OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK-1\r\nFrom: <sip:a@example.com>;tag=1\r\n'
  + 'To: <sip:b@example.com>\r\nCall-ID: folded\r\nCSeq: 1 OPTIONS\r\n';

t.test('RFC 3261 §7.3.1: a header folded over 250,000 continuation lines is unfolded in linear time', async (t) => {
  const lines = 250_000;
  const message = `${HEAD}Subject: s\r\n${' x\r\n'.repeat(lines)}Content-Length: 0\r\n\r\n`;
  const started = performance.now();
  const parsed = parseMessage(message);
  const elapsed = performance.now() - started;
  const subject = header(parsed, 'Subject') ?? '';
  t.equal(subject.length, 1 + 2 * lines, 'one SP between the folded parts');
  t.ok(subject.startsWith('s x x') && subject.endsWith('x x'));
  t.ok(elapsed < 5_000, `parsed ${message.length} bytes in ${elapsed.toFixed(0)} ms (quadratic unfolding takes minutes)`);
});

t.test('RFC 3261 §7.3.1: folding keeps working for Content-Length and single-valued headers', async (t) => {
  const parsed = parseMessage(`${HEAD.replace('Call-ID: folded\r\n', 'Call-ID:\r\n  folded\r\n')}Content-Length:\r\n 3\r\n\r\nabc`);
  t.equal(header(parsed, 'Call-ID'), 'folded');
  t.equal(Buffer.from(parsed.body).toString(), 'abc');
});
