/**
 * Shared fakes for the transaction tests (not a test file itself): a SipSender that records
 * what was sent and when, message builders, and a peered fake network that wires two layers
 * back to back through the real serializer and parser.
 */
import { createRequest, createResponse, generateBranch, parseMessage, serializeMessage } from '../../core/sip/index.js';
import type { SipMessage, SipRequest, SipResponse } from '../../core/sip/index.js';
import type { SipSender, SipSource, SipTarget, TransportProtocol } from '../../core/sip/transport/types.js';
import { TransactionLayer, type TransactionLayerOptions } from '../../core/sip/transaction/index.js';
import { FakeClock } from './fake-clock.js';

export interface SentRecord {
  readonly message: SipMessage;
  readonly target: SipTarget;
  /** Fake-clock time of the send. */
  readonly at: number;
}

/** Records every send; `failing = true` makes sends reject like a dead socket. */
export class RecordingSender implements SipSender {
  readonly sent: SentRecord[] = [];
  failing = false;
  readonly #clock: FakeClock;

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  send(message: SipMessage, target: SipTarget): Promise<void> {
    this.sent.push({ message, target, at: this.#clock.now() });
    return this.failing ? Promise.reject(new Error('connect ECONNREFUSED')) : Promise.resolve();
  }

  requests(method?: string): SentRecord[] {
    return this.sent.filter((r) => r.message.kind === 'request' && (method === undefined || r.message.method === method));
  }

  responses(status?: number): SentRecord[] {
    return this.sent.filter((r) => r.message.kind === 'response' && (status === undefined || r.message.status === status));
  }

  /** Send times of the records, for timer checks. */
  static times(records: readonly SentRecord[]): number[] {
    return records.map((r) => r.at);
  }
}

export function udpTarget(port = 5080): SipTarget {
  return { transport: 'udp', host: '127.0.0.1', port };
}

export function tcpTarget(port = 5080): SipTarget {
  return { transport: 'tcp', host: '127.0.0.1', port, connectionId: 'conn-1' };
}

export function sourceFrom(transport: TransportProtocol, remotePort = 5070): SipSource {
  const base = { transport, remoteAddress: '127.0.0.1', remotePort, localAddress: '127.0.0.1', localPort: 5080 };
  return transport === 'udp' ? base : { ...base, connectionId: 'conn-in-1' };
}

export interface RequestSpec {
  readonly branch?: string;
  /** Via transport token, e.g. UDP or TCP. */
  readonly viaTransport?: string;
  readonly sentBy?: string;
  readonly viaParams?: string;
  readonly seq?: number;
  readonly callId?: string;
  readonly toTag?: string;
  readonly extraHeaders?: readonly [string, string][];
}

/** A request from alice (sent-by 127.0.0.1:5070) to bob, with a fresh branch unless given. */
export function buildRequest(method: string, spec: RequestSpec = {}): SipRequest {
  const branch = spec.branch ?? generateBranch();
  const via = `SIP/2.0/${spec.viaTransport ?? 'UDP'} ${spec.sentBy ?? '127.0.0.1:5070'};branch=${branch}${spec.viaParams ?? ''}`;
  const to = spec.toTag === undefined ? '<sip:bob@example.com>' : `<sip:bob@example.com>;tag=${spec.toTag}`;
  return createRequest({
    method,
    uri: 'sip:bob@127.0.0.1:5080',
    headers: [
      ['Via', via],
      ['Max-Forwards', '70'],
      ['From', '"Alice" <sip:alice@example.com>;tag=a-tag-1'],
      ['To', to],
      ['Call-ID', spec.callId ?? 'call-1@example.com'],
      ['CSeq', `${spec.seq ?? 1} ${method}`],
      ['Contact', '<sip:alice@127.0.0.1:5070>'],
      ...(spec.extraHeaders ?? []),
    ],
  });
}

export function respond(request: SipRequest, status: number, toTag = 'b-tag-1'): SipResponse {
  return createResponse(request, status, undefined, status === 100 ? {} : { toTag });
}

/** Let rejected sends and queued deliveries run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

type LayerHooks = Omit<TransactionLayerOptions, 'sender' | 'clock'>;

/** One layer on a fake clock with a recording sender. */
export function layerUnderTest(hooks: Partial<LayerHooks> = {}): {
  layer: TransactionLayer;
  clock: FakeClock;
  sender: RecordingSender;
} {
  const clock = new FakeClock();
  const sender = new RecordingSender(clock);
  const layer = new TransactionLayer({ onRequest: () => {}, ...hooks, sender, clock });
  return { layer, clock, sender };
}

/**
 * Two endpoints on one fake UDP network. Each send is serialized, parsed back (datagram
 * mode) and delivered on a microtask to the layer listening on the target port; `dropNext`
 * loses datagrams to exercise retransmission.
 */
export class PeeredNetwork {
  readonly clock = new FakeClock();
  readonly #layers = new Map<number, TransactionLayer>();
  readonly log: { from: number; to: number; message: SipMessage }[] = [];
  #drops = 0;

  dropNext(count = 1): void {
    this.#drops += count;
  }

  /** The sender for an endpoint bound at 127.0.0.1:`port`. */
  senderFor(port: number): SipSender {
    return {
      send: (message, target) => {
        const wire = serializeMessage(message);
        this.log.push({ from: port, to: target.port, message });
        if (this.#drops > 0) {
          this.#drops--;
          return Promise.resolve();
        }
        const source: SipSource = {
          transport: 'udp', remoteAddress: '127.0.0.1', remotePort: port, localAddress: '127.0.0.1', localPort: target.port,
        };
        queueMicrotask(() => this.#layers.get(target.port)?.receive({ message: parseMessage(wire, { datagram: true }), source }));
        return Promise.resolve();
      },
    };
  }

  attach(port: number, layer: TransactionLayer): void {
    this.#layers.set(port, layer);
  }
}
