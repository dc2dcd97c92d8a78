import t from 'tap';
import { StreamFramer } from '../../../core/sip/transport/stream-framer.js';

function message(body = '', extra = '', lengthHeader = `Content-Length: ${Buffer.byteLength(body)}`): string {
  return `OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1\r\n${extra}${lengthHeader}\r\n\r\n${body}`;
}

function collect(maxMessageSize?: number): { framer: StreamFramer; messages: string[]; pings: number[] } {
  const messages: string[] = [];
  const pings: number[] = [];
  const framer = new StreamFramer({
    ...(maxMessageSize === undefined ? {} : { maxMessageSize }),
    onMessage: (m) => messages.push(m.toString('latin1')),
    onPing: () => pings.push(messages.length),
  });
  return { framer, messages, pings };
}

/** tap matches thrown errors against this pattern object (regex fields are tested). */
function framingError(code: string, message: RegExp): { name: string; code: string; message: RegExp } {
  return { name: 'EpcError', code, message };
}

t.test('RFC 3261 §18.3: the body is exactly Content-Length bytes after the empty line', async (t) => {
  const { framer, messages } = collect();
  const a = message('v=0\r\n');
  const b = message('hello world');
  framer.push(Buffer.from(a + b));
  t.same(messages, [a, b]);
  t.equal(framer.bufferedBytes, 0);
});

t.test('RFC 3261 §18.3: a message split across chunks at every position is reassembled once', async (t) => {
  const whole = message('0123456789');
  for (let cut = 1; cut < whole.length; cut++) {
    const { framer, messages } = collect();
    framer.push(Buffer.from(whole.slice(0, cut)));
    framer.push(Buffer.from(whole.slice(cut) + whole));
    t.same(messages, [whole, whole], `cut at ${cut}`);
  }
});

t.test('RFC 3261 §7.3.3: the compact form l carries the length; folded and spaced values are read', async (t) => {
  const { framer, messages } = collect();
  const compact = message('abc', '', 'l: 3');
  const spaced = message('abcd', '', 'content-length  :\r\n  4 ');
  framer.push(Buffer.from(compact + spaced));
  t.same(messages, [compact, spaced]);
});

t.test('RFC 3261 §18.3: a message without Content-Length on a stream loses framing', async (t) => {
  const { framer } = collect();
  const noLength = 'OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n';
  t.throws(() => framer.push(Buffer.from(noLength)), framingError('EPC_ERR_SIP_FRAMING', /Content-Length missing/));
  t.ok(framer.failed);
  // Once lost, framing stays lost: the caller must close the connection.
  t.throws(() => framer.push(Buffer.from(message())), framingError('EPC_ERR_SIP_FRAMING', /Content-Length missing/));
});

t.test('RFC 3261 §18.3: negative, non-numeric and conflicting Content-Length lose framing', async (t) => {
  for (const [header, pattern] of [
    ['Content-Length: -5', /invalid Content-Length "-5"/],
    ['Content-Length: ten', /invalid Content-Length "ten"/],
    ['Content-Length: 5x', /invalid Content-Length/],
    ['Content-Length: 3\r\nl: 4', /conflicting Content-Length values 3 and 4/],
  ] as const) {
    const { framer } = collect();
    t.throws(() => framer.push(Buffer.from(message('abc', '', header))), framingError('EPC_ERR_SIP_FRAMING', pattern), header);
  }
  const { framer, messages } = collect();
  framer.push(Buffer.from(message('abc', '', 'Content-Length: 3\r\nl: 3')));
  t.equal(messages.length, 1, 'an identical duplicate still frames (the parser judges it)');
});

t.test('R-size: a message larger than maxMessageSize closes the stream with EPC_ERR_SIP_TOO_LARGE', async (t) => {
  const { framer } = collect(1024);
  t.throws(() => framer.push(Buffer.from(message('x'.repeat(2000)))), framingError('EPC_ERR_SIP_TOO_LARGE', /exceeds the 1024-byte limit/));
  // The declared length alone is enough: the body is never buffered.
  const declared = collect(1024);
  t.throws(() => declared.framer.push(Buffer.from(message('', '', 'Content-Length: 999999'))), framingError('EPC_ERR_SIP_TOO_LARGE', /exceeds/));
  t.equal(declared.framer.bufferedBytes, 0);
});

t.test('R-size: a header section never terminated within maxMessageSize is an error', async (t) => {
  const { framer } = collect(1024);
  framer.push(Buffer.from('OPTIONS sip:a@example.com SIP/2.0\r\n'));
  t.throws(() => {
    for (let i = 0; i < 100; i++) framer.push(Buffer.from('X-Filler: 0123456789\r\n'));
  }, framingError('EPC_ERR_SIP_TOO_LARGE', /not terminated within 1024 bytes/));
});

t.test('RFC 5626 §3.5.1: CRLFCRLF ping is reported (to be answered by a CRLF pong); a lone CRLF is ignored', async (t) => {
  const { framer, messages, pings } = collect();
  const m = message('b');
  framer.push(Buffer.from('\r\n\r\n'));
  t.same(pings, [0], 'ping before any message');
  framer.push(Buffer.from(`${m}\r\n${m}`));
  t.same(messages, [m, m], 'a lone CRLF between messages is skipped');
  t.same(pings, [0]);
  framer.push(Buffer.from('\r\n'));
  t.same(pings, [0], 'half a ping waits for more bytes');
  framer.push(Buffer.from('\r'));
  framer.push(Buffer.from('\n'));
  t.same(pings, [0, 2], 'a ping split across chunks is still a ping');
  framer.push(Buffer.from('\r\n\r\n'));
  t.same(pings, [0, 2, 2], 'each ping read on its own is answered');
});

t.test('issue 11 #6, RFC 5626 §4.4.1: pings read together get one pong, so a keep-alive flood costs one write per read', async (t) => {
  const { framer, pings } = collect();
  framer.push(Buffer.from('\r\n\r\n\r\n\r\n'));
  t.same(pings, [0], 'two pings in one read: one pong');
  const flood = Buffer.alloc(64 * 1024, '\r\n');
  for (let i = 0; i < 16; i++) framer.push(flood);
  t.equal(pings.length, 17, '1 MiB of CRLF in 64 KiB reads: one pong per read, not 262,144');
  t.equal(framer.bufferedBytes, 0, 'nothing of the flood stays buffered');
});

t.test('RFC 3261 §21.5.14: a complete header section declaring a body past the cap is handed out for a 513, then framing fails', async (t) => {
  const oversized: string[] = [];
  const framer = new StreamFramer({ maxMessageSize: 1024, onMessage: () => {}, onOversized: (header) => oversized.push(header.toString('latin1')) });
  const head = 'MESSAGE sip:b@example.com SIP/2.0\r\nCall-ID: big\r\nContent-Length: 4194304\r\n\r\n';
  t.throws(() => framer.push(Buffer.from(head + 'xxxx')), framingError('EPC_ERR_SIP_TOO_LARGE', /exceeds the 1024-byte limit/));
  t.same(oversized, [head], 'exactly the header section');
});

t.test('zero copy: messages inside one chunk are views of that chunk', async (t) => {
  const chunk = Buffer.from(message('abc') + message('de'));
  const views: Buffer[] = [];
  const framer = new StreamFramer({ onMessage: (m) => views.push(m) });
  framer.push(chunk);
  t.equal(views.length, 2);
  t.equal(views[0]!.buffer, chunk.buffer, 'first message shares the chunk memory');
  t.equal(views[1]!.buffer, chunk.buffer, 'second message shares the chunk memory');
  t.equal(framer.bytesCopied, 0);
});

t.test('O(n): a 60 KiB message delivered one byte per chunk examines and copies each byte a bounded number of times', async (t) => {
  const filler = 'X-Filler: ' + 'a'.repeat(70) + '\r\n';
  const whole = Buffer.from(message('z'.repeat(10_000), filler.repeat(620)));
  t.ok(whole.length > 60_000 && whole.length < 64 * 1024);
  const { framer, messages } = collect();
  const started = process.hrtime.bigint();
  for (let i = 0; i < whole.length; i++) framer.push(whole.subarray(i, i + 1));
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  t.equal(messages.length, 1);
  t.equal(messages[0], whole.toString('latin1'));
  t.ok(framer.bytesExamined <= 4 * whole.length, `examined ${framer.bytesExamined} for ${whole.length} bytes`);
  t.ok(framer.bytesCopied <= 3 * whole.length, `copied ${framer.bytesCopied} for ${whole.length} bytes`);
  // Quadratic rescanning or re-concatenation would take seconds here.
  t.ok(elapsedMs < 1500, `took ${elapsedMs.toFixed(1)} ms`);
});

t.test('RFC 3261 §18.3: binary bodies with CRLFCRLF inside are not mistaken for a message end', async (t) => {
  const { framer, messages } = collect();
  const body = Buffer.from([0, 13, 10, 13, 10, 0, 255]);
  const head = Buffer.from(message('', 'Content-Type: application/octet-stream\r\n', `Content-Length: ${body.length}`));
  const m = Buffer.concat([head, body]);
  framer.push(Buffer.concat([m, m]));
  t.equal(messages.length, 2);
  t.same(Buffer.from(messages[0]!, 'latin1'), m);
});
