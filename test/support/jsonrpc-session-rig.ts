/**
 * A JSON-RPC client against one JsonRpcWsSession over a fake W2Connection, with the fake UE
 * (test/support/fake-ua.ts) behind it. Every frame the plugin sends is parsed, and every result
 * and notification is checked against schemas/jsonrpc as it arrives (`violations`).
 */
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { EpcError } from '../../core/errors.js';
import { W2_CONTRACT_VERSION } from '../../core/contract/contract.js';
import type { W2Host, W2ObserverEvents } from '../../core/contract/host.js';
import { MemoryTtlStore } from '../../core/state/memory-ttl-store.js';
import type { TtlStore } from '../../core/state/state-backend.js';
import type { W2Connection, W2Frame } from '../../core/contract/session.js';
import type { SipMessage } from '../../core/sip/index.js';
import { ALL_METHODS, DEFAULT_JSONRPC_WS_OPTIONS, JsonRpcDispatcher, JsonRpcWsSession, ResumeStore, type JsonRpcWsOptions } from '../../plugins/jsonrpc-ws/index.js';
import { apiSchemaValidator } from '../../plugins/jsonrpc-ws/schema-validator.js';
import { FakeClock } from './fake-clock.js';
import { fakeUeFactory, type FakeUeScript, type FakeVirtualUe } from './fake-ua.js';
import { unattachedSipApi } from '../../core/plugin/unattached-sip-api.js';

export interface WireMessage {
  readonly jsonrpc?: string;
  readonly id?: string | number | null;
  readonly method?: string;
  readonly params?: Record<string, unknown>;
  readonly result?: Record<string, unknown>;
  readonly error?: { code: number; message: string; data?: Record<string, unknown> };
}

export class FakeConnection implements W2Connection {
  readonly id: string;
  readonly subprotocol = 'epcscf.jsonrpc.v1';
  readonly path = '/jsonrpc';
  readonly remote = { address: '127.0.0.1', port: 40000 };
  readonly origin = undefined;
  readonly secure = false;
  readonly frames: W2Frame[] = [];
  closed: { code: number | undefined; reason: string | undefined } | undefined;
  onSend: ((frame: W2Frame) => void) | undefined;

  constructor(id: string) {
    this.id = id;
  }

  send(frame: W2Frame): Promise<void> {
    if (this.closed) return Promise.reject(new EpcError('EPC_ERR_INVALID_STATE', 'closed'));
    this.frames.push(frame);
    this.onSend?.(frame);
    return Promise.resolve();
  }

  close(code?: number, reason?: string): void {
    this.closed ??= { code, reason };
  }
}

export function fakeHost(state: TtlStore = new MemoryTtlStore()): W2Host & { received: [string, SipMessage][] } {
  const received: [string, SipMessage][] = [];
  return {
    contract: W2_CONTRACT_VERSION,
    state,
    log: pino({ level: 'silent' }),
    observer: new EventEmitter<W2ObserverEvents>(),
    received,
    sip: { ...unattachedSipApi, fromClient: async (id, m) => { received.push([id, m]); } },
    ua: { create: () => { throw new Error('the rig makes its UEs with the fake factory'); } },
  };
}

/** Lets the session's un-awaited frame handling run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

let nextConnection = 1;

/** What the plugin's init builds once per server: shared by the sessions of one rig family. */
export interface RigShared {
  readonly host: ReturnType<typeof fakeHost>;
  /** host.state of the plugin (on the fake clock): what another node sharing it would see. */
  readonly state: MemoryTtlStore;
  readonly resume: ResumeStore;
  readonly clock: FakeClock;
  readonly dispatcher: JsonRpcDispatcher;
  readonly factory: ReturnType<typeof fakeUeFactory>;
  now: number;
}

export function rigShared(script: FakeUeScript = {}, state?: MemoryTtlStore, clock = new FakeClock(1_000_000)): RigShared {
  const store = state ?? new MemoryTtlStore(clock);
  const host = fakeHost(store);
  return {
    host, clock, state: store, resume: new ResumeStore(host.state), factory: fakeUeFactory(script), now: 0,
    dispatcher: new JsonRpcDispatcher(ALL_METHODS, apiSchemaValidator(), host.log),
  };
}

export class RpcRig {
  readonly conn = new FakeConnection(`jr${nextConnection++}`);
  readonly shared: RigShared;
  readonly session: JsonRpcWsSession;
  /** Results and notifications that do not match schemas/jsonrpc. */
  readonly violations: string[] = [];
  readonly #methodById = new Map<string, string>();
  #nextId = 1;

  constructor(options: Partial<JsonRpcWsOptions> = {}, shared: RigShared = rigShared()) {
    this.shared = shared;
    this.session = new JsonRpcWsSession(this.conn, shared.host, { ...DEFAULT_JSONRPC_WS_OPTIONS, ...options }, {
      // What host.ua.create does, with the fake UE: SIP to host.sip as this connection's.
      createUe: (conn, { onSent, ...options }) => {
        const send = async (message: SipMessage): Promise<void> => {
          try {
            await shared.host.sip.fromClient(conn.id, message);
          } finally {
            onSent?.(message);
          }
        };
        const ue = shared.factory.create({ ...options, secure: conn.secure, transport: { send } });
        this.ues.push(ue);
        return ue;
      },
      resume: shared.resume, dispatcher: shared.dispatcher, now: () => shared.now,
    });
    this.conn.onSend = (frame) => this.#check(frame);
  }

  /** The UEs this session made, the newest last. */
  readonly ues: FakeVirtualUe[] = [];

  get ue(): FakeVirtualUe {
    const ue = this.ues.at(-1);
    if (ue === undefined) throw new Error('no UE made yet');
    return ue;
  }

  /** Every parsed frame the plugin sent (arrays for batch answers). */
  get messages(): (WireMessage | WireMessage[])[] {
    return this.conn.frames.map((f) => JSON.parse(String(f)) as WireMessage | WireMessage[]);
  }

  notifications(method?: string): WireMessage[] {
    return this.messages.flat().filter((m) => m.id === undefined && m.method !== undefined && (method === undefined || m.method === method));
  }

  responses(): WireMessage[] {
    return this.messages.flat().filter((m) => m.method === undefined);
  }

  /** Sends a raw text (or binary) frame and lets it be handled. */
  async frame(frame: W2Frame): Promise<void> {
    this.session.onFrame(frame);
    await settle();
  }

  /** One request; resolves with its answer (fails the test if none comes). */
  async call(method: string, params?: unknown, id: string | number = this.#nextId++): Promise<WireMessage> {
    this.#methodById.set(JSON.stringify(id), method);
    const before = this.conn.frames.length;
    this.session.onFrame(JSON.stringify({ jsonrpc: '2.0', method, ...(params !== undefined ? { params } : {}), id }));
    for (let i = 0; i < 50; i += 1) {
      await settle(1);
      const answer = this.conn.frames.slice(before).map((f) => JSON.parse(String(f)) as WireMessage | WireMessage[])
        .find((m): m is WireMessage => !Array.isArray(m) && m.id === id && m.method === undefined);
      if (answer) return answer;
    }
    throw new Error(`no answer to ${method} (id ${JSON.stringify(id)})`);
  }

  /** A request expected to succeed: returns its result. */
  async ok(method: string, params?: unknown): Promise<Record<string, unknown>> {
    const answer = await this.call(method, params);
    if (answer.error) throw new Error(`${method} failed: ${JSON.stringify(answer.error)}`);
    return answer.result ?? {};
  }

  async register(params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.ok('session.register', { impu: 'sip:alice@ims.test', password: 'alicepw', ...params });
  }

  /** Remembers which method an id belongs to (for result checks of hand-written frames). */
  expect(id: string | number, method: string): void {
    this.#methodById.set(JSON.stringify(id), method);
  }

  #check(frame: W2Frame): void {
    const parsed = JSON.parse(String(frame)) as WireMessage | WireMessage[];
    for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
      if (message.jsonrpc !== '2.0') this.violations.push(`no jsonrpc 2.0 in ${JSON.stringify(message)}`);
      if (message.method !== undefined) {
        const problems = apiSchemaValidator().check('notification', message.method, message.params);
        if (problems === undefined) this.violations.push(`unknown notification ${message.method}`);
        else if (problems.length > 0) this.violations.push(`${message.method}: ${JSON.stringify(problems)} in ${JSON.stringify(message.params)}`);
        continue;
      }
      if (message.error !== undefined) {
        if (typeof message.error.code !== 'number' || typeof message.error.message !== 'string' || typeof message.error.data !== 'object') {
          this.violations.push(`error without code/message/data: ${JSON.stringify(message)}`);
        }
        continue;
      }
      const method = this.#methodById.get(JSON.stringify(message.id));
      if (method === undefined) continue;
      const problems = apiSchemaValidator().check('result', method, message.result);
      if (problems !== undefined && problems.length > 0) this.violations.push(`${method} result: ${JSON.stringify(problems)} in ${JSON.stringify(message.result)}`);
    }
  }
}
