// Issue #11 Proof, entry point 3: JSON-RPC 2.0 over WebSocket (plugins/jsonrpc-ws) into the
// running epcscf (fuzz-target.ts), with a fixed seed (fuzz-budget.ts). Each run is a fresh
// connection sending one text frame: arbitrary text, arbitrary JSON, a mutated request of the
// catalogue (schemas/jsonrpc/methods.json), a batch, prototype-pollution keys, huge ids.
// Properties (JSON-RPC 2.0 §4-§6, F-JR-1, R-JR-4):
//   - every request with an id gets exactly one well-formed response with that id; invalid JSON
//     gets -32700, an invalid Request object -32600 (id null when unreadable), an empty or too
//     long batch one -32600, an unknown method -32601; notifications get no response; a batch
//     gets one array of the answers;
//   - every error is { code: integer, message: string } with a reserved or -32000..-32099 code;
//   - the connection stays usable afterwards (a follow-up request is answered);
//   - Object.prototype is never polluted; no unhandled rejection, no plugin fault, nothing logged
//     at error level; afterwards /health answers and fresh clients register.
import t from 'tap';
import fc from 'fast-check';
import { once } from 'node:events';
import WebSocket from 'ws';
import { FUZZ_SEED, fuzzParameters, fuzzTimeoutSeconds } from './fuzz-budget.js';
import { startFuzzTarget, type FuzzTarget } from './fuzz-target.js';
import { eventually } from './ws-exchange.js';
import { SUBPROTOCOL } from '../support/jsonrpc-client.js';

t.setTimeout(fuzzTimeoutSeconds(120) * 1000);
const PROPERTIES = 3;
const MAX_BATCH = 32; // plugins/jsonrpc-ws/options.ts default

const target = await startFuzzTarget(t);
t.comment(`fuzz seed ${FUZZ_SEED} (FUZZ_SEED to change, FUZZ_RUNS / npm run fuzz -- --minutes N for longer)`);

const METHODS = [
  'session.register', 'session.resume', 'session.unregister', 'session.updateToken', 'call.invite', 'call.ring', 'call.answer', 'call.reject',
  'call.cancel', 'call.hangup', 'call.update', 'call.hold', 'call.resume', 'call.dtmf', 'call.ice', 'call.transfer',
  'call.acceptTransfer', 'call.rejectTransfer', 'message.send', 'subscription.subscribe', 'subscription.unsubscribe', 'rpc.discover',
];
const PARAM_KEYS = ['impu', 'impi', 'password', 'token', 'resumeToken', 'to', 'sdp', 'privacy', 'callId', 'status', 'digits', 'durationMs',
  'candidate', 'target', 'replacesCallId', 'body', 'contentType', 'event', 'expires', 'subscriptionId', 'instanceId', '__proto__', 'constructor'];

const hostile = fc.oneof(
  fc.constantFrom('sip:alice@ims.test', 'sip:bob@ims.test', 'tel:+15550002', 'alicepw', '', ' ', 'sip:', 'sip:a@b\r\nVia: x',
    'sip:bob@ims.test>;tag=1\r\nP-Asserted-Identity: <sip:admin@ims.test>', 'v=0\r\n', '__proto__', 'constructor', 'x'.repeat(5000),
    'none', 'id', 'reg', 'message-summary', '1', '0', '#', '\u0000', '\ud800'),
  fc.jsonValue({ maxDepth: 2 }),
);
const params = fc.oneof(
  fc.dictionary(fc.constantFrom(...PARAM_KEYS), hostile, { maxKeys: 5 }),
  fc.constant({ impu: 'sip:alice@ims.test', password: 'wrong' }),
  fc.jsonValue({ maxDepth: 2 }),
  fc.constant(undefined),
);
const id = fc.oneof(
  fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null), fc.double(), fc.constantFrom(1e308, -0, 2 ** 53 + 1, 'x'.repeat(10_000)),
  fc.constantFrom(true, [], {}, { a: 1 }),
);
/** A Request object, well-formed or broken in one of its envelope fields. */
const entry = fc.record({
  jsonrpc: fc.oneof({ weight: 5, arbitrary: fc.constant('2.0') }, fc.constantFrom('1.0', 2, null, '2.0 ')),
  method: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...METHODS) }, fc.string({ maxLength: 12 }), fc.constantFrom(1, null, '__proto__', 'constructor', 'toString')),
  params,
  id,
}, { requiredKeys: ['jsonrpc', 'method'] }).map((r) => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (v !== undefined) out[k] = v;
  return out;
});
/** Keys that pollute Object.prototype if anything merges them with assignment semantics. */
const POLLUTION = '"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},';
const frameText = fc.oneof(
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 5, arbitrary: entry.map((e) => JSON.stringify(e)) },
  { weight: 2, arbitrary: fc.array(entry, { maxLength: MAX_BATCH + 8 }).map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: entry.map((e) => JSON.stringify(e).replace(/^\{/, `{${POLLUTION}`).replace(/"params":\{/, `"params":{${POLLUTION}`)) },
);

/** What JSON-RPC 2.0 §4-§6 says the answer to one frame is. */
type Expected =
  | { readonly kind: 'one-error'; readonly code: number }
  | { readonly kind: 'answers'; readonly batch: boolean; readonly entries: readonly ExpectedEntry[] };
type ExpectedEntry = { readonly id: unknown; readonly invalid: boolean; readonly method?: string } | null;

function expectedFor(text: string): Expected {
  let value: unknown;
  try { value = JSON.parse(text); } catch { return { kind: 'one-error', code: -32700 }; }
  if (Array.isArray(value)) {
    if (value.length === 0 || value.length > MAX_BATCH) return { kind: 'one-error', code: -32600 };
    return { kind: 'answers', batch: true, entries: value.map(expectedEntry) };
  }
  return { kind: 'answers', batch: false, entries: [expectedEntry(value)] };
}

function expectedEntry(value: unknown): ExpectedEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { id: null, invalid: true };
  const request = value as Record<string, unknown>;
  const hasId = Object.hasOwn(request, 'id');
  const rawId = request['id'];
  const idOk = rawId === null || typeof rawId === 'string' || (typeof rawId === 'number' && Number.isFinite(rawId));
  if (hasId && !idOk) return { id: null, invalid: true };
  const answerId = hasId ? rawId : null;
  const paramsOk = request['params'] === undefined || (typeof request['params'] === 'object' && request['params'] !== null);
  if (request['jsonrpc'] !== '2.0' || typeof request['method'] !== 'string' || !paramsOk) return { id: answerId, invalid: true };
  if (!hasId) return null; // a notification: never answered
  return { id: rawId, invalid: false, method: request['method'] };
}

const isErrorCode = (code: unknown): boolean => Number.isInteger(code) && ([-32700, -32600, -32601, -32602, -32603].includes(code as number) || ((code as number) >= -32099 && (code as number) <= -32000));

/** A well-formed Response object (JSON-RPC 2.0 §5): the problem, or undefined. */
function responseProblem(r: unknown): string | undefined {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'a response is not an object';
  const o = r as Record<string, unknown>;
  if (o['jsonrpc'] !== '2.0') return 'jsonrpc is not "2.0"';
  if (!Object.hasOwn(o, 'id')) return 'no id';
  if (Object.hasOwn(o, 'result') === Object.hasOwn(o, 'error')) return 'not exactly one of result / error';
  if (Object.hasOwn(o, 'error')) {
    const e = o['error'] as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null) return 'error is not an object';
    if (!isErrorCode(e['code'])) return `error code ${JSON.stringify(e['code'])} is not a JSON-RPC code`;
    if (typeof e['message'] !== 'string' || e['message'].length === 0) return 'error without a message';
  }
  return undefined;
}


async function oneRun(target: FuzzTarget, text: string): Promise<void> {
  const ws = new WebSocket(`${target.wsBase}/jsonrpc`, SUBPROTOCOL);
  await once(ws, 'open');
  const received: unknown[] = [];
  let closeCode: number | undefined;
  ws.on('message', (data) => { received.push(JSON.parse(String(data))); });
  ws.on('close', (code) => { closeCode = code; });
  try {
    ws.send(text);
    const expected = expectedFor(text);
    const responses = (): unknown[] => received.filter((m) => Array.isArray(m) || !Object.hasOwn(m as object, 'method'));
    const wanted = expected.kind === 'one-error' ? 1 : expected.entries.some((e) => e !== null) ? 1 : 0;
    await eventually(() => responses().length >= wanted || closeCode !== undefined, 8000);
    if (closeCode !== undefined) throw new Error(`the server closed the connection (${closeCode})`);
    const got = responses();
    if (got.length < wanted) throw new Error(`no answer to ${text.slice(0, 200)}`);
    if (wanted === 0) {
      if (got.length > 0) throw new Error(`a notification was answered: ${JSON.stringify(got[0]).slice(0, 200)}`);
    } else if (expected.kind === 'one-error') {
      const r = got[0] as Record<string, unknown>;
      const problem = responseProblem(r);
      if (problem !== undefined) throw new Error(`${problem}: ${JSON.stringify(r).slice(0, 200)}`);
      if (r['id'] !== null || (r['error'] as { code: number } | undefined)?.code !== expected.code) throw new Error(`expected ${expected.code} with id null, got ${JSON.stringify(r).slice(0, 200)}`);
    } else {
      const answers = got[0];
      if (expected.batch !== Array.isArray(answers)) throw new Error(`a ${expected.batch ? 'batch' : 'single request'} answered with ${JSON.stringify(answers).slice(0, 100)}`);
      const list = (Array.isArray(answers) ? answers : [answers]) as Record<string, unknown>[];
      const due = expected.entries.filter((e): e is NonNullable<ExpectedEntry> => e !== null);
      if (list.length !== due.length) throw new Error(`${due.length} answers due, ${list.length} sent`);
      for (const r of list) {
        const problem = responseProblem(r);
        if (problem !== undefined) throw new Error(`${problem}: ${JSON.stringify(r).slice(0, 200)}`);
      }
      // Ids may repeat (null, or a duplicate): pair each due answer with one sent, invalid ones first.
      const left = [...list];
      for (const e of [...due].sort((a, b) => Number(b.invalid) - Number(a.invalid))) {
        const at = left.findIndex((r) => r['id'] === e.id && (!e.invalid || (r['error'] as { code: number } | undefined)?.code === -32600));
        if (at < 0) throw new Error(`no ${e.invalid ? '-32600 ' : ''}answer with id ${JSON.stringify(e.id)}: ${JSON.stringify(list).slice(0, 300)}`);
        const match = left.splice(at, 1)[0] as Record<string, unknown>;
        const code = (match['error'] as { code: number } | undefined)?.code;
        if (!e.invalid && e.method !== undefined && !METHODS.includes(e.method) && code !== -32601 && code !== -32006 && code !== -32600) {
          throw new Error(`unknown method ${JSON.stringify(e.method)} answered ${JSON.stringify(match).slice(0, 200)}, expected -32601`);
        }
      }
    }
    // The connection is still usable: a follow-up request is answered.
    const before = received.length;
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 'follow-up', method: 'fuzz.noSuchMethod' }));
    const followed = await eventually(() => received.slice(before).some((m) => (m as Record<string, unknown>)['id'] === 'follow-up'), 5000);
    if (!followed) throw new Error('the connection stopped answering after the frame');
    if (Object.hasOwn(Object.prototype, 'polluted') || ({} as Record<string, unknown>)['polluted'] !== undefined) throw new Error('Object.prototype was polluted');
    if (Object.keys(target.pluginFaults()).length > 0) throw new Error(`a plugin hook threw: ${JSON.stringify(target.pluginFaults())}`);
    if (target.processFaults.length > 0) throw new Error(target.processFaults[0]);
    if (target.errorLogs.length > 0) throw new Error(`logged at error level: ${target.errorLogs[0]}`);
  } finally {
    if (ws.readyState !== WebSocket.CLOSED) {
      const closed = once(ws, 'close');
      ws.close();
      await closed;
    }
  }
}

t.test('issue 11 fuzz, JSON-RPC: arbitrary frames, mutated catalogue requests, batches, pollution keys, huge ids: answered per JSON-RPC 2.0', async (t) => {
  try {
    await fc.assert(fc.asyncProperty(frameText, (text) => oneRun(target, text)), fuzzParameters(80, PROPERTIES));
  } finally {
    await target.healthCheck(t, 'the fuzzed JSON-RPC frames');
  }
});

t.test('issue 11 fuzz, JSON-RPC: arbitrary JSON values are answered -32600 (or nothing for a notification), never a crash', async (t) => {
  try {
    await fc.assert(fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), (value) => oneRun(target, JSON.stringify(value) ?? 'null')), fuzzParameters(40, PROPERTIES));
  } finally {
    await target.healthCheck(t, 'the arbitrary JSON values');
  }
});

t.test('issue 11: prototype-pollution keys anywhere in a request never reach Object.prototype', async (t) => {
  const method = fc.constantFrom(...METHODS);
  try {
    await fc.assert(fc.asyncProperty(method, fc.boolean(), (m, inParams) => oneRun(target,
      `{${inParams ? '' : POLLUTION}"jsonrpc":"2.0","id":7,"method":${JSON.stringify(m)},"params":{${POLLUTION}"impu":"sip:alice@ims.test","password":"alicepw","to":"sip:bob@ims.test"}}`)),
    fuzzParameters(METHODS.length * 2, PROPERTIES));
    t.equal(({} as Record<string, unknown>)['polluted'], undefined, 'no object inherits "polluted"');
  } finally {
    await target.healthCheck(t, 'the pollution attempts');
  }
});
