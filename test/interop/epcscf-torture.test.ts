// Issue #3 proof: every RFC 4475 torture message sent over one WebSocket to epcscf. Invalid
// requests get the status RFC 4475 names (the table in test/unit/sip/parse-rfc4475.test.ts) with
// a reason; invalid responses produce nothing (RFC 3261 §18.1.2); valid requests get an answer
// (the RFC 3261 §16.3 proxy checks where RFC 4475 names one). The connection and the server
// survive: the same connection then registers, and a second client is unaffected.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { callId, getHeader, parseMessage, type SipMessage, type SipResponse } from '../../core/sip/index.js';
import { startEpcscf, startImsCore } from '../support/epcscf-harness.js';
import type { CapturedFrame } from '../support/wic/frame-capture.js';
import { JsSipUser } from '../support/wic/jssip-user.js';
import { SipJsUser } from '../support/wic/sipjs-user.js';
import { ACCEPTED_INVALID, EXPECTED_REJECTION } from '../support/rfc4475.js';

const fixtures = new URL('../fixtures/rfc4475/', import.meta.url);
const index = readFileSync(new URL('index.tsv', fixtures), 'utf8').trim().split('\n').slice(1)
  .map((line) => line.split('\t') as [string, string, string]);

/** Valid requests for which RFC 4475 names what a proxy answers (RFC 3261 §16.3 checks). */
const PROXY_ANSWER: Record<string, readonly number[]> = {
  'unkscm.dat': [416],      // §3.3.2: unknown Request-URI scheme
  'novelsc.dat': [416, 404], // §3.3.3: 416 if never acceptable, else 404
  'zeromf.dat': [483],      // §3.3.11: Max-Forwards 0 at a proxy
  'bext01.dat': [420],      // §3.3.5: Proxy-Require with unknown option tags
};

const fixture = (file: string): Buffer => readFileSync(new URL(file, fixtures));
const isUtf8 = (bytes: Buffer): boolean => {
  try { new TextDecoder('utf-8', { fatal: true }).decode(bytes); return true; } catch { return false; }
};
/** RFC 7118 §4.2: UTF-8 text in a text frame, anything else in a binary frame. */
const asFrame = (bytes: Buffer): string | Buffer => (isUtf8(bytes) && !bytes.includes(0) ? bytes.toString('utf8') : bytes);

/** The raw Call-ID of a (possibly unparsable) message, for matching its answer. */
function rawCallId(bytes: Buffer): string | undefined {
  let parsed: SipMessage | undefined;
  try { parsed = parseMessage(bytes); } catch { parsed = undefined; }
  if (parsed) { try { return callId(parsed); } catch { /* fall through */ } }
  const match = /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(bytes.toString('latin1'));
  return match?.[1];
}

const finalResponse = (frame: CapturedFrame): SipResponse | undefined =>
  frame.direction === 'received' && frame.message?.kind === 'response' && frame.message.status >= 200 ? frame.message : undefined;

/**
 * The status of a final response frame. A 400 to a request whose mandatory headers were broken
 * echoes those header lines as they came (the WebSocket needs no Via to route it), so it may not
 * parse itself: read its status line then.
 */
const finalStatusLine = (frame: CapturedFrame): number | undefined => {
  if (frame.direction !== 'received') return undefined;
  const m = /^SIP\/2\.0 (\d{3}) /.exec(frame.text);
  const status = m ? Number(m[1]) : undefined;
  return status !== undefined && status >= 200 ? status : undefined;
};

t.test('RFC 4475 over one WebSocket: every torture message answered as the RFC names, connection and server survive', async (t) => {
  t.equal(index.length, 49, 'all 49 RFC 4475 messages');
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp') });
  t.teardown(() => epcscf.close());

  // The victim connection (a JsSIP UA that will register afterwards) and a bystander.
  const victim = await JsSipUser.connect({ wsUrl: epcscf.wsUrl, user: 'alice', password: 'alicepw' });
  t.teardown(() => victim.stop());
  const bystander = await SipJsUser.connect({ wsUrl: epcscf.wsUrl, user: 'dave', password: 'secret' });
  t.teardown(() => bystander.stop());

  const send = (file: string): { bookmark: number; id: string | undefined } => {
    const bytes = fixture(file);
    const bookmark = victim.capture.frames.length;
    victim.socket.sendRaw(asFrame(bytes));
    return { bookmark, id: rawCallId(bytes) };
  };
  const answerTo = async (file: string, timeoutMs: number): Promise<SipResponse | undefined> => {
    const { bookmark, id } = send(file);
    const frame = await victim.capture.waitFor((f) => {
      const response = finalResponse(f);
      if (response === undefined) return false;
      if (id === undefined) return true;
      try { return callId(response) === id; } catch { return true; }
    }, { from: bookmark, timeoutMs, what: `final response to ${file}` }).catch(() => undefined);
    return frame ? finalResponse(frame) : undefined;
  };

  // Invalid messages first (sequentially: each answer is awaited before the next is sent).
  for (const [file, verdict, note] of index) {
    if (verdict !== 'invalid' || ACCEPTED_INVALID.has(file)) continue;
    const section = note.split(' ')[0];
    const expected = EXPECTED_REJECTION[file];
    if (expected === 'drop') {
      const bookmark = victim.capture.frames.length;
      victim.socket.sendRaw(asFrame(fixture(file)));
      await new Promise((r) => setTimeout(r, 300));
      t.same(victim.capture.since(bookmark).filter((f) => f.direction === 'received').map((f) => f.text.split('\r\n', 1)[0]), [],
        `RFC 4475 ${section} ${file}: an invalid response is discarded, nothing comes back`);
      continue;
    }
    const bookmarkBefore = victim.capture.frames.length;
    const response = await answerTo(file, 1000);
    const status = response?.status ?? victim.capture.since(bookmarkBefore).map(finalStatusLine).find((s) => s !== undefined);
    t.equal(status, expected, `RFC 4475 ${section} ${file}: answered ${expected}`);
    if (response) {
      t.ok(response.reason.length > 3, `${file}: with a reason phrase ("${response.reason}")`);
      t.match(getHeader(response, 'Warning') ?? '', /^399 /, `${file}: and a Warning 399 that says why`);
    }
  }

  // Valid messages: every request is answered; responses (no matching transaction) are absorbed.
  for (const [file, verdict, note] of index) {
    if (verdict !== 'valid' && !ACCEPTED_INVALID.has(file)) continue;
    const section = note.split(' ')[0];
    const bytes = fixture(file);
    const isResponseFixture = bytes.subarray(0, 8).toString('latin1') === 'SIP/2.0 ';
    if (isResponseFixture) {
      const bookmark = victim.capture.frames.length;
      victim.socket.sendRaw(asFrame(bytes));
      await new Promise((r) => setTimeout(r, 200));
      t.equal(victim.capture.since(bookmark).filter((f) => f.direction === 'received').length, 0,
        `RFC 4475 ${section} ${file}: a stray response is absorbed (RFC 3261 §16.7: no matching transaction)`);
      continue;
    }
    const response = await answerTo(file, 4000);
    const allowed = PROXY_ANSWER[file];
    if (allowed) {
      t.ok(response && allowed.includes(response.status), `RFC 4475 ${section} ${file}: answered ${allowed.join(' or ')} (got ${response?.status})`);
    } else {
      t.ok(response, `RFC 4475 ${section} ${file}: the request is answered (got ${response?.status} ${response?.reason ?? ''})`);
    }
  }

  t.ok(victim.socket.isConnected(), 'the torture connection is still open');
  t.same(victim.socket.closeCodes, [], 'it was never closed');
  t.equal(await victim.register(), 200, 'the same connection then registers through epcscf');
  t.equal(await bystander.register(), 200, 'a second client is unaffected and registers too');
});
