/**
 * Cluster routing on Mw (issue #15 "Several nodes"): a terminating or in-dialog request (or the ACK
 * of a 2xx) whose flow this node does not hold goes to the node that does, looked up in the shared
 * flow directory, as a proxied request (our Via on it, responses back the same way, RFC 3261
 * §16.6-16.7). Called only after the local lookup found no flow, so a single node, and every
 * request for a flow held here, never comes this way.
 */
import type { Logger } from 'pino';
import { formatUri, type SipRequest } from '../../sip/index.js';
import type { ServerTransaction } from '../../sip/transaction/index.js';
import type { SipTarget } from '../../sip/transport/types.js';
import type { RegistrationStore } from '../../state/registration-store.js';
import type { FlowRef } from '../flow-token.js';
import type { Forwarder } from '../forwarder.js';
import type { OwnUris } from '../own-uris.js';
import { mwTargets, type MwRouting, type PoppedRoutes } from '../routing.js';
import { flowKey } from '../w2-flows.js';
import { towardHolder } from './cluster-hop.js';
import type { ClusterMembership } from './cluster-membership.js';

export interface ClusterRoutingOptions {
  readonly membership: ClusterMembership;
  readonly uris: OwnUris;
  readonly registrations: RegistrationStore;
  readonly forwarder: Forwarder;
  readonly routing: () => MwRouting;
  /** Sends a request without a transaction of ours (the ACK of a 2xx), adding our Via. */
  readonly sendStateless: (request: SipRequest, target: SipTarget) => Promise<void>;
  readonly log: Logger;
}

export class ClusterRouting {
  readonly #options: ClusterRoutingOptions;

  constructor(options: ClusterRoutingOptions) {
    this.#options = options;
  }

  /**
   * Forwards `popped` (a request from Mw whose flow is not here) to the node holding its flow.
   * True when forwarded; false when no other live node holds it, or the request already crossed
   * a cluster hop (loop safety): the caller answers 430/480 as for a dead flow (RFC 5626 §5.3).
   * `failureStatus`: the answer when the holder does not answer at all (default 430/480).
   */
  async forwardRequest(popped: PoppedRoutes, tx: ServerTransaction, failureStatus?: number): Promise<boolean> {
    const hop = await this.#hop(popped);
    if (hop === undefined) return false;
    this.#options.forwarder.forward({
      serverTx: tx, toward: 'mw', request: hop.request, targets: hop.targets,
      // The holder did not answer at all: for the client, the flow is as good as failed.
      failureStatus: failureStatus ?? (popped.outbound ? 430 : 480),
    });
    return true;
  }

  /** The ACK of a 2xx for a flow held by another node (RFC 3261 §16.7: hop by hop, no transaction). */
  async forwardAck(popped: PoppedRoutes): Promise<boolean> {
    const hop = await this.#hop(popped);
    const target = hop?.targets[0];
    if (hop === undefined || target === undefined) return false;
    await this.#options.sendStateless(hop.request, target);
    return true;
  }

  async #hop(popped: PoppedRoutes): Promise<{ request: SipRequest; targets: SipTarget[] } | undefined> {
    if (popped.clusterHop) return undefined;
    const ref = popped.flow ?? await this.#flowOfContact(popped.request);
    if (ref === undefined || ref.nodeId === this.#options.membership.nodeId && popped.flow !== undefined) return undefined;
    const contact = await this.#options.membership.holderContact(flowKey(ref));
    if (contact === undefined) return undefined;
    const request = towardHolder(popped.request, contact, this.#options.uris.token(ref), popped.outbound);
    if (request === undefined) return undefined;
    const targets = await mwTargets(request, this.#options.routing()).catch(() => []);
    if (targets.length === 0) return undefined;
    this.#options.log.debug({ flow: flowKey(ref), holder: contact, method: request.method }, 'request for a flow another node holds: forwarded to it');
    return { request, targets };
  }

  /** No token in Route (a registrar without Path): the flow of a binding whose contact is the Request-URI. */
  async #flowOfContact(request: SipRequest): Promise<FlowRef | undefined> {
    const bindings = await this.#options.registrations.byContactUri(formatUri(request.uri));
    const self = this.#options.membership.nodeId;
    for (const binding of bindings) {
      const slash = binding.flowKey.lastIndexOf('/');
      const nodeId = binding.flowKey.slice(0, slash);
      const flow = Number(binding.flowKey.slice(slash + 1));
      if (nodeId !== self && Number.isInteger(flow)) return { nodeId, flow };
    }
    return undefined;
  }
}
