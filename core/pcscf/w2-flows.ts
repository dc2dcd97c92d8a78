import { EpcError } from '../errors.js';
import type { W2Connection, W2Session } from '../contract/session.js';
import type { SipMessage } from '../sip/index.js';
import type { SipSender, SipSource, SipTarget } from '../sip/transport/types.js';
import type { FlowRef } from './flow-token.js';
import type { FlowWebGrant } from './web-auth-gate.js';

/** One W2 connection seen as an RFC 5626 flow. */
export interface W2Flow {
  readonly ref: FlowRef;
  /** `nodeId/flow`, the key registrations and dialogs are stored under. */
  readonly key: string;
  /** The flow token naming it in Path, Record-Route and our Via (RFC 5626 §5.2). */
  readonly token: string;
  /** The connection carrying the flow now (another one after adoptFlow). */
  connection: W2Connection;
  session: W2Session;
  alive: boolean;
  /** Every connection id that names this flow: the first one, then each adopting one. */
  readonly connectionIds: string[];
  /** Set while the flow outlives its closed connection (keepFlow, issue #12). */
  keep: { readonly graceMs: number; timer: NodeJS.Timeout | undefined } | undefined;
  /** Web-token grants per registered AOR (TS 24.371 scenarios 2/3); undefined: none yet. */
  webAuth: Map<string, FlowWebGrant> | undefined;
  /**
   * Issue #15: keys of other nodes' flows this flow adopted (cluster/flow-adoption.ts): their
   * tokens, in the registrar's Path and old Record-Routes, now reach this flow. Undefined: none.
   */
  aliases: string[] | undefined;
}

const NO_FLOWS: ReadonlySet<W2Flow> = new Set();

export function flowKey(ref: FlowRef): string {
  return `${ref.nodeId}/${ref.flow}`;
}

/**
 * The W2 side as a SIP transport: every open W2 session is a flow, and sending to a flow
 * means calling the session's onSipRequest/onSipResponse hook. The W2 transaction layer uses
 * this as its SipSender (targets name the flow by `connectionId`).
 */
export class W2Flows implements SipSender {
  readonly #nodeId: string;
  readonly #byConnection = new Map<string, W2Flow>();
  readonly #byNumber = new Map<number, W2Flow>();
  /** Live flows per source IP (w2.limits.maxRegistrationsPerIp counts the bindings of these). */
  readonly #byAddress = new Map<string, Set<W2Flow>>();
  /** Issue #15: other nodes' flow keys adopted by a flow of this node (empty on a single node). */
  readonly #aliases = new Map<string, W2Flow>();
  #next = 1;

  readonly #encode: (ref: FlowRef) => string;

  constructor(nodeId: string, encode: (ref: FlowRef) => string) {
    this.#nodeId = nodeId;
    this.#encode = encode;
  }

  open(connection: W2Connection, session: W2Session): W2Flow {
    const ref = { nodeId: this.#nodeId, flow: this.#next++ };
    const flow: W2Flow = { ref, key: flowKey(ref), token: this.#encode(ref), connection, session, alive: true, connectionIds: [connection.id], keep: undefined, webAuth: undefined, aliases: undefined };
    this.#byConnection.set(connection.id, flow);
    this.#byNumber.set(ref.flow, flow);
    const address = connection.remote.address;
    const fromAddress = this.#byAddress.get(address);
    if (fromAddress === undefined) this.#byAddress.set(address, new Set([flow]));
    else fromAddress.add(flow);
    return flow;
  }

  /** Marks the flow dead and forgets it (RFC 5626 §5.3: later requests for it get 430). */
  close(connectionId: string): W2Flow | undefined {
    const flow = this.#byConnection.get(connectionId);
    if (flow === undefined) return undefined;
    flow.alive = false;
    if (flow.keep?.timer !== undefined) clearTimeout(flow.keep.timer);
    flow.keep = undefined;
    for (const id of flow.connectionIds) this.#byConnection.delete(id);
    this.#byNumber.delete(flow.ref.flow);
    this.#forgetAddress(flow);
    for (const key of flow.aliases ?? []) this.#aliases.delete(key);
    return flow;
  }

  /**
   * Issue #15: `flow` answers for `foreignKey` too, another node's flow whose registration it
   * adopted: byRef/byKey of that key find it until it closes.
   */
  alias(flow: W2Flow, foreignKey: string): void {
    if (!flow.alive) throw new EpcError('EPC_ERR_INVALID_STATE', `W2 flow ${flow.key} is closed`);
    const previous = this.#aliases.get(foreignKey);
    if (previous === flow) return;
    if (previous?.aliases !== undefined) previous.aliases = previous.aliases.filter((key) => key !== foreignKey);
    this.#aliases.set(foreignKey, flow);
    (flow.aliases ??= []).push(foreignKey);
  }

  /**
   * `connection` (whose own, still unused flow is dropped) takes over `flow`: same key and
   * token, SIP now delivered to `session`; the old connection ids keep naming the flow.
   */
  adopt(flow: W2Flow, connection: W2Connection, session: W2Session): void {
    const fresh = this.#byConnection.get(connection.id);
    if (fresh !== undefined && fresh !== flow) {
      fresh.alive = false;
      this.#byNumber.delete(fresh.ref.flow);
      this.#forgetAddress(fresh);
    }
    this.#forgetAddress(flow);
    flow.connection = connection;
    flow.session = session;
    flow.connectionIds.push(connection.id);
    this.#byConnection.set(connection.id, flow);
    const fromAddress = this.#byAddress.get(connection.remote.address);
    if (fromAddress === undefined) this.#byAddress.set(connection.remote.address, new Set([flow]));
    else fromAddress.add(flow);
  }

  #forgetAddress(flow: W2Flow): void {
    const fromAddress = this.#byAddress.get(flow.connection.remote.address);
    fromAddress?.delete(flow);
    if (fromAddress?.size === 0) this.#byAddress.delete(flow.connection.remote.address);
  }

  /** The live flows whose connection comes from source IP `address`. */
  fromAddress(address: string): ReadonlySet<W2Flow> {
    return this.#byAddress.get(address) ?? NO_FLOWS;
  }

  byConnection(connectionId: string): W2Flow | undefined {
    return this.#byConnection.get(connectionId);
  }

  /** The live flow a token names, if it is one of this node's (or another node's this node adopted). */
  byRef(ref: FlowRef): W2Flow | undefined {
    if (ref.nodeId !== this.#nodeId) return this.#aliases.size === 0 ? undefined : this.#aliases.get(flowKey(ref));
    return this.#byNumber.get(ref.flow);
  }

  /** The live flow stored under `key` (registrations and dialogs refer to flows by key). */
  byKey(key: string): W2Flow | undefined {
    const slash = key.lastIndexOf('/');
    if (key.slice(0, slash) !== this.#nodeId) return this.#aliases.size === 0 ? undefined : this.#aliases.get(key);
    return this.#byNumber.get(Number(key.slice(slash + 1)));
  }

  all(): W2Flow[] {
    return [...this.#byNumber.values()];
  }

  get size(): number {
    return this.#byNumber.size;
  }

  /** Where a message from this flow came from, for the W2 transaction layer. */
  sourceOf(flow: W2Flow): SipSource {
    return {
      transport: flow.connection.secure ? 'wss' : 'ws',
      remoteAddress: flow.connection.remote.address,
      remotePort: flow.connection.remote.port,
      localAddress: '',
      localPort: 0,
      connectionId: flow.connection.id,
    };
  }

  targetOf(flow: W2Flow): SipTarget {
    return { transport: flow.connection.secure ? 'wss' : 'ws', host: flow.connection.remote.address, port: flow.connection.remote.port, connectionId: flow.connection.id };
  }

  async send(message: SipMessage, target: SipTarget): Promise<void> {
    const flow = target.connectionId === undefined ? undefined : this.#byConnection.get(target.connectionId);
    if (flow === undefined || !flow.alive) {
      // RFC 5626 §5.3 / R-OB-4: the flow is gone; the transaction reports a transport error.
      throw new EpcError('EPC_ERR_SIP_TRANSPORT', `W2 flow ${target.connectionId ?? '?'} is closed`);
    }
    try {
      if (message.kind === 'request') {
        if (!flow.session.onSipRequest) throw new EpcError('EPC_ERR_SIP_TRANSPORT', 'the W2 session takes no SIP requests');
        await flow.session.onSipRequest(message);
      } else {
        await flow.session.onSipResponse?.(message);
      }
    } catch (error) {
      if (error instanceof EpcError) throw error;
      throw new EpcError('EPC_ERR_SIP_TRANSPORT', `W2 delivery failed: ${(error as Error).message}`, { cause: error });
    }
  }
}
