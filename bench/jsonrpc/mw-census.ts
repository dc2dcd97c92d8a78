/**
 * What one bench operation costs on Mw, counted once rather than assumed: a few operations run
 * one at a time through an epcscf in this process (test/support/epcscf-harness: same P-CSCF
 * core and plugins, from source, media off) into the IMS core stand-in, and two independent
 * counts are taken per operation:
 *   - epcscf's own tap (`pcscf.observer`): every SIP message it sent and received on Mw, and
 *     the SIP between the client side and the core (W2: the virtual UE's SIP for JSON-RPC,
 *     the WebSocket SIP for sip-ws);
 *   - Kamailio's log: the ims-core-standin.cfg logs each request it receives (`REQ <method>`,
 *     debug=2 as shipped), i.e. what the IMS core saw.
 * The same count is taken for bench/sip-ws's operations (bench/lib BenchUser), so the two
 * benches' figures can be set side by side per SIP transaction.
 */
import { cseq, type SipMessage } from '../../core/sip/index.js';
import { startEpcscf, startImsCore, type CapturedSip, type EpcscfUnderTest, type ImsCoreStandIn } from '../../test/support/epcscf-harness.js';
import { BenchUser } from '../lib/ws-sip-user.js';
import { RAISED_FLOOD } from './epcscf-target.js';
import { RpcUser } from './rpc-user.js';

export interface OperationCensus {
  readonly operations: number;
  /** Mw, per operation: requests epcscf sent toward the IMS core, by method. */
  readonly mwRequestsOut: Readonly<Record<string, number>>;
  /** Mw, per operation: requests epcscf received from the IMS core (terminating side), by method. */
  readonly mwRequestsIn: Readonly<Record<string, number>>;
  /** Mw, per operation: responses by `<status> <CSeq method>`, both directions. */
  readonly mwResponses: Readonly<Record<string, number>>;
  /** Mw, per operation: SIP messages in both directions. */
  readonly mwMessages: number;
  /** Mw, per operation: SIP transactions (requests other than ACK, either direction). */
  readonly mwTransactions: number;
  /** Requests Kamailio logged as received, per operation, by method. */
  readonly kamailioRequests: Readonly<Record<string, number>>;
  /** SIP messages between the client side and the core (virtual UE or WebSocket), per operation. */
  readonly w2Messages: number;
}

export interface MwCensus {
  readonly jsonrpc: { readonly register: OperationCensus; readonly call: OperationCensus };
  readonly sipWs: { readonly register: OperationCensus; readonly call: OperationCensus };
  readonly method: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Long enough for the last message of an operation (a 200 to BYE on the far side, Kamailio's log line) to land. */
const SETTLE_MS = 300;

function perOperation(counts: Map<string, number>, operations: number): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => [key, Math.round((n / operations) * 100) / 100]));
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function kamailioRequestLines(core: ImsCoreStandIn): string[] {
  return [...core.output().matchAll(/REQ (\w+) /g)].map((m) => m[1] ?? '');
}

/** Runs `operation` `count` times one after another and counts what it cost. */
async function census(epcscf: EpcscfUnderTest, core: ImsCoreStandIn, count: number, operation: () => Promise<void>): Promise<OperationCensus> {
  await sleep(SETTLE_MS);
  const fromEntry = epcscf.capture.entries.length;
  const fromKamailio = kamailioRequestLines(core).length;
  for (let i = 0; i < count; i++) await operation();
  await sleep(SETTLE_MS);
  const entries: CapturedSip[] = epcscf.capture.entries.slice(fromEntry);
  const requestsOut = new Map<string, number>();
  const requestsIn = new Map<string, number>();
  const responses = new Map<string, number>();
  let mwMessages = 0;
  let mwTransactions = 0;
  let w2Messages = 0;
  for (const entry of entries) {
    if (entry.side === 'w2') { w2Messages++; continue; }
    mwMessages++;
    const message: SipMessage = entry.message;
    if (message.kind === 'request') {
      bump(entry.direction === 'out' ? requestsOut : requestsIn, message.method);
      if (message.method !== 'ACK') mwTransactions++;
    } else {
      bump(responses, `${message.status} ${cseq(message).method}`);
    }
  }
  const kamailio = new Map<string, number>();
  for (const method of kamailioRequestLines(core).slice(fromKamailio)) bump(kamailio, method);
  return {
    operations: count,
    mwRequestsOut: perOperation(requestsOut, count),
    mwRequestsIn: perOperation(requestsIn, count),
    mwResponses: perOperation(responses, count),
    mwMessages: Math.round((mwMessages / count) * 100) / 100,
    mwTransactions: Math.round((mwTransactions / count) * 100) / 100,
    kamailioRequests: perOperation(kamailio, count),
    w2Messages: Math.round((w2Messages / count) * 100) / 100,
  };
}

export async function takeMwCensus(operations = 5): Promise<MwCensus> {
  const core = await startImsCore();
  let epcscf: EpcscfUnderTest | undefined;
  const closers: (() => void)[] = [];
  try {
    epcscf = await startEpcscf({
      nextHop: core.uri('udp'), sipWsOptions: { ...RAISED_FLOOD },
      extraPlugins: [{ name: 'jsonrpc-ws', options: { ...RAISED_FLOOD } }],
    });
    const rpcUser = async (name: string): Promise<RpcUser> => {
      const user = await RpcUser.connect({ url: `${(epcscf as EpcscfUnderTest).baseUrl}/jsonrpc`, impu: `sip:${name}@ims.test`, password: 'secret', timeoutMs: 5000 });
      closers.push(() => user.close());
      return user;
    };
    const sipUser = async (name: string): Promise<BenchUser> => {
      const user = await BenchUser.connect({ url: (epcscf as EpcscfUnderTest).wsUrl, user: name, password: 'secret', domain: 'ims.test', timeoutMs: 5000 });
      closers.push(() => user.close());
      return user;
    };
    const jr = await rpcUser('censusreg');
    const jsonrpcRegister = await census(epcscf, core, operations, async () => { await jr.register(); await jr.unregister(); });
    const caller = await rpcUser('censuscaller');
    const callee = await rpcUser('censuscallee');
    await caller.register();
    await callee.register();
    const jsonrpcCall = await census(epcscf, core, operations, () => caller.call(callee));
    const sr = await sipUser('censussipreg');
    const sipWsRegister = await census(epcscf, core, operations, () => sr.register());
    const sipCaller = await sipUser('censussipcaller');
    const sipCallee = await sipUser('censussipcallee');
    await sipCaller.register();
    await sipCallee.register();
    const sipWsCall = await census(epcscf, core, operations, () => sipCaller.call(sipCallee.aor));
    return {
      jsonrpc: { register: jsonrpcRegister, call: jsonrpcCall },
      sipWs: { register: sipWsRegister, call: sipWsCall },
      method: `${operations} operations of each kind, one at a time, through an in-process epcscf (test/support/epcscf-harness, source, media off, UDP Mw) into the IMS core stand-in; counted by epcscf's Mw tap and by Kamailio's own "REQ <method>" log lines`,
    };
  } finally {
    for (const close of closers) close();
    await epcscf?.close();
    await core.stop();
  }
}
