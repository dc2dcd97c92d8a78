// Issue #11 Proof, entry point 4: Mw over UDP and TCP into the running epcscf (fuzz-target.ts),
// with a fixed seed (fuzz-budget.ts): mutated and intact requests and responses as an IMS core
// sends them (terminating INVITE/MESSAGE/NOTIFY with a flow-token Route, BYE, OPTIONS, responses
// for transactions that do not exist) and the RFC 4475/5118 torture messages. Properties:
//   - the server stays up: a probe sent behind each message is answered (UDP: on the same
//     socket, in order; TCP: on a fresh connection);
//   - a malformed request is answered with the parser's status (400, 505, 501 ...) and a reason
//     phrase when RFC 3261 §18.2.1 lets it be answered at all (core/sip/transport/
//     malformed-reply.ts), a malformed response is dropped (§18.1.2);
//   - a well-formed request whose top Via leads back here gets a final response (ACK excepted);
//     RFC 5626 §5.3: a forged flow token in the Route is answered 403;
//   - no unhandled rejection, no error-level log; afterwards /health answers and fresh clients
//     register.
import t from 'tap';
import fc from 'fast-check';
import { createSocket, type Socket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { once } from 'node:events';
import { SipParseError, buildMalformedReply, parseMessage, vias, type SipMessage } from '../../core/sip/index.js';
import { FUZZ_SEED, fuzzParameters, fuzzTimeoutSeconds } from './fuzz-budget.js';
import { startFuzzTarget, type FuzzTarget } from './fuzz-target.js';
import { mutate, sipMutations, type SipMutation } from './sip-mutations.js';
import { mwMessages, tortureMessages } from './sip-seeds.js';
import { eventually } from './ws-exchange.js';

t.setTimeout(fuzzTimeoutSeconds(120) * 1000);
const PROPERTIES = 4;
const ANSWER_MS = 3000;

const target = await startFuzzTarget(t);
t.comment(`fuzz seed ${FUZZ_SEED} (FUZZ_SEED to change, FUZZ_RUNS / npm run fuzz -- --minutes N for longer)`);

const SEED_NAMES = Object.keys(mwMessages({ id: 'x' }, { host: 'h', port: 1, transport: 'UDP' }, 'p')) as (keyof ReturnType<typeof mwMessages>)[];
const TORTURE = tortureMessages();

let runs = 0;
const runId = (): string => String(++runs).padStart(6, '0');
const statusOf = (text: string): number | undefined => { const m = /^SIP\/2\.0 (\d{3})/.exec(text); return m ? Number(m[1]) : undefined; };
const reasonOf = (text: string): string => /^SIP\/2\.0 \d{3} ([^\r]*)\r\n/.exec(text)?.[1] ?? '';

/** A request the transport answers 400 whatever the P-CSCF thinks of it: the liveness probe. */
function probe(self: { port: number; transport: 'UDP' | 'TCP' }, id: string): Buffer {
  return Buffer.from([
    'OPTIONS sip:probe@127.0.0.1 SIP/2.0', `Via: SIP/2.0/${self.transport} 127.0.0.1:${self.port};branch=z9hG4bKprobe${id};rport`,
    'Max-Forwards: many', 'From: <sip:probe@ims.test>;tag=p', 'To: <sip:probe@ims.test>', `Call-ID: probe-${id}`, 'CSeq: 1 OPTIONS',
    'Content-Length: 0', '', '',
  ].join('\r\n'), 'latin1');
}
const isProbeAnswer = (id: string) => (text: string): boolean => text.startsWith('SIP/2.0 400 ') && text.includes(`probe-${id}`);

function localParse(bytes: Buffer, datagram: boolean): { message?: SipMessage; error?: SipParseError } {
  try {
    return { message: parseMessage(bytes, { datagram }) };
  } catch (error) {
    if (!(error instanceof SipParseError)) throw new Error(`the parser threw ${(error as Error).name}: ${(error as Error).message}`);
    return { error };
  }
}

/** Would the answer to this request come back to us (RFC 3261 §18.2.2 with RFC 3581 rport)? */
function answerComesBack(message: SipMessage, self: { port: number; transport: string }): boolean {
  const top = vias(message)[0];
  return top !== undefined && top.transport.toUpperCase() === self.transport && top.host === '127.0.0.1' && (top.port ?? 5060) === self.port;
}

class UdpPeer {
  readonly received: string[] = [];
  private constructor(readonly socket: Socket) {
    socket.on('message', (data) => this.received.push(data.toString('latin1')));
  }
  static async open(): Promise<UdpPeer> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new UdpPeer(socket);
  }
  get port(): number { return this.socket.address().port; }
  send(bytes: Buffer, port: number): void { this.socket.send(bytes, port, '127.0.0.1'); }
}

function checkFaults(target: FuzzTarget): void {
  if (target.processFaults.length > 0) throw new Error(target.processFaults[0]);
  if (target.errorLogs.length > 0) throw new Error(`logged at error level: ${target.errorLogs[0]}`);
}

async function udpRun(target: FuzzTarget, peer: UdpPeer, bytesFor: (self: { host: string; port: number; transport: 'UDP' }) => Buffer, expectForgedToken = false): Promise<void> {
  const self = { host: '127.0.0.1', port: peer.port, transport: 'UDP' as const };
  const bytes = bytesFor(self);
  const id = runId();
  const start = peer.received.length;
  peer.send(bytes, target.mwUdpPort);
  peer.send(probe(self, id), target.mwUdpPort);
  if (!await eventually(() => peer.received.slice(start).some(isProbeAnswer(id)), ANSWER_MS)) throw new Error('the Mw UDP listener stopped answering (no 400 to the probe)');
  const { message, error } = localParse(bytes, true);
  const before = (): string[] => { const all = peer.received.slice(start); return all.slice(0, all.findIndex(isProbeAnswer(id))); };
  if (error !== undefined) {
    const expected = buildMalformedReply(bytes, error);
    if (expected !== undefined) {
      const answer = before().find((f) => statusOf(f) === expected.status);
      if (answer === undefined) throw new Error(`a malformed request (${error.reason}) was not answered ${expected.status}; got ${before().map((f) => f.split('\r\n', 1)[0]).join(' | ') || 'nothing'}`);
      if (reasonOf(answer).trim().length === 0) throw new Error(`the ${expected.status} has no reason phrase`);
    }
  } else if (message?.kind === 'request' && message.method !== 'ACK' && answerComesBack(message, self)) {
    const finals = (): string[] => peer.received.slice(start).filter((f) => (statusOf(f) ?? 0) >= 200 && !isProbeAnswer(id)(f));
    if (!await eventually(() => finals().length > 0, ANSWER_MS)) throw new Error(`${message.method} from Mw was never answered`);
    if (reasonOf(finals()[0] ?? '').trim().length === 0) throw new Error(`the answer to ${message.method} has no reason phrase`);
    if (expectForgedToken && statusOf(finals()[0] ?? '') !== 403) throw new Error(`a forged flow token was answered ${finals()[0]?.split('\r\n', 1)[0]}, not 403`);
  }
  checkFaults(target);
}

async function tcpRun(target: FuzzTarget, bytes: Buffer): Promise<void> {
  const fuzzed: TcpSocket = connect(target.mwTcpPort, '127.0.0.1');
  fuzzed.on('error', () => undefined); // the server may reset a connection whose framing broke
  const fromFuzzed: string[] = [];
  fuzzed.on('data', (d: Buffer) => fromFuzzed.push(d.toString('latin1')));
  await once(fuzzed, 'connect');
  fuzzed.write(bytes);
  const prober = connect(target.mwTcpPort, '127.0.0.1');
  try {
    await once(prober, 'connect');
    const id = runId();
    let got = '';
    prober.on('data', (d: Buffer) => { got += d.toString('latin1'); });
    prober.write(probe({ port: prober.localPort ?? 0, transport: 'TCP' }, id));
    if (!await eventually(() => got.includes(`probe-${id}`), ANSWER_MS)) throw new Error('the Mw TCP listener stopped answering (no 400 to a probe on a fresh connection)');
    for (const text of fromFuzzed) {
      if (text.startsWith('SIP/2.0 ') && reasonOf(text).trim().length === 0) throw new Error('an answer without a reason phrase');
    }
    checkFaults(target);
  } finally {
    prober.destroy();
    fuzzed.destroy();
  }
}

const pcscfMw = (): string => `127.0.0.1:${target.mwUdpPort}`;
const mutatedSeed = (self: { host: string; port: number; transport: 'UDP' | 'TCP' }, name: (typeof SEED_NAMES)[number], mutations: readonly SipMutation[] | null): Buffer => {
  const text = mwMessages({ id: runId() }, self, pcscfMw())[name];
  return mutations === null ? Buffer.from(text, 'latin1') : mutate(text, mutations);
};

t.test('issue 11 fuzz, Mw UDP: intact IMS-core messages are answered; a forged flow token is refused 403 (RFC 5626 §5.3)', async (t) => {
  const peer = await UdpPeer.open();
  t.teardown(() => peer.socket.close());
  try {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...SEED_NAMES), (name) =>
      udpRun(target, peer, (self) => mutatedSeed(self, name, null), ['invite', 'message', 'notify'].includes(name))),
    fuzzParameters(SEED_NAMES.length * 2, PROPERTIES * 4));
  } finally {
    await target.healthCheck(t, 'the intact Mw messages');
  }
});

t.test('issue 11 fuzz, Mw UDP: mutated IMS-core and torture messages: listener up, malformed → status with reason or dropped per RFC 3261 §18', async (t) => {
  const peer = await UdpPeer.open();
  t.teardown(() => peer.socket.close());
  const input = fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...SEED_NAMES), sipMutations).map(([name, m]) => ({ name, mutations: m, torture: undefined })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...TORTURE), fc.option(sipMutations, { nil: null })).map(([s, m]) => ({ name: undefined, mutations: m, torture: s })) },
  );
  try {
    await fc.assert(fc.asyncProperty(input, ({ name, mutations, torture }) => udpRun(target, peer, (self) =>
      torture !== undefined ? (mutations === null ? torture.bytes : mutate(torture.bytes, mutations)) : mutatedSeed(self, name!, mutations))),
    fuzzParameters(120, PROPERTIES));
  } finally {
    await target.healthCheck(t, 'the mutated Mw UDP messages');
  }
});

t.test('issue 11 fuzz, Mw UDP: arbitrary datagrams never stop the listener', async (t) => {
  const peer = await UdpPeer.open();
  t.teardown(() => peer.socket.close());
  try {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 1400 }), (bytes) => udpRun(target, peer, () => Buffer.from(bytes))),
      fuzzParameters(60, PROPERTIES));
  } finally {
    await target.healthCheck(t, 'the arbitrary datagrams');
  }
});

t.test('issue 11 fuzz, Mw TCP: mutated messages on a stream never stop the listener', async (t) => {
  try {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...SEED_NAMES), fc.option(sipMutations, { nil: null }), (name, mutations) =>
      tcpRun(target, mutatedSeed({ host: '127.0.0.1', port: 5060, transport: 'TCP' }, name, mutations))),
    fuzzParameters(50, PROPERTIES));
  } finally {
    await target.healthCheck(t, 'the mutated Mw TCP messages');
  }
});
