// SIP INFO application/dtmf-relay bodies (Signal=5\r\nDuration=160): read and write.
import t from 'tap';
import { formatDtmfRelay, parseDtmfRelay } from '../../../core/dtmf/index.js';

t.test('dtmf-relay: Signal and Duration are read from CRLF or LF lines, names in any case', async (t) => {
  t.same(parseDtmfRelay('Signal=5\r\nDuration=160\r\n'), { digit: '5', durationMs: 160 });
  t.same(parseDtmfRelay('signal = #\nduration = 250\n'), { digit: '#', durationMs: 250 });
  t.same(parseDtmfRelay('Signal=b\r\n'), { digit: 'B', durationMs: 100 }, 'no Duration: 100 ms; A-D upper-cased');
  t.same(parseDtmfRelay('Signal=11\r\nDuration=100'), { digit: '#', durationMs: 100 }, '"11" (the RFC 4733 code) is #');
  t.same(parseDtmfRelay('Signal=1\r\nDuration=99999'), { digit: '1', durationMs: 6000 }, 'durations are clamped to 6 s');
});

t.test('dtmf-relay: a body naming no DTMF digit gives nothing', async (t) => {
  t.equal(parseDtmfRelay(''), undefined);
  t.equal(parseDtmfRelay('Signal=X\r\nDuration=100'), undefined);
  t.equal(parseDtmfRelay('Signal=12\r\n'), undefined, 'a two-digit signal other than 10/11 is refused');
  t.equal(parseDtmfRelay('Duration=100'), undefined);
});

t.test('dtmf-relay: one digit is written as Signal=<digit> CRLF Duration=<ms> CRLF', async (t) => {
  t.equal(formatDtmfRelay('5', 160), 'Signal=5\r\nDuration=160\r\n');
  t.equal(formatDtmfRelay('*'), 'Signal=*\r\nDuration=100\r\n');
  t.equal(formatDtmfRelay('a', 10), 'Signal=A\r\nDuration=40\r\n', 'durations below 40 ms are raised to 40');
  t.throws(() => formatDtmfRelay('55'), RangeError);
  t.same(parseDtmfRelay(formatDtmfRelay('#', 200)), { digit: '#', durationMs: 200 }, 'what we write reads back');
});
