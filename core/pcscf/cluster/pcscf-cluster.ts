/**
 * The cluster side of one P-CSCF node (issue #15), composed from its parts: membership (flow
 * claims, heartbeat, dead-node cleanup) and routing (forwarding to the node holding a flow).
 */
import { ClusterMembership, type ClusterMembershipOptions } from './cluster-membership.js';
import { ClusterRouting, type ClusterRoutingOptions } from './cluster-routing.js';

export interface PcscfCluster {
  readonly membership: ClusterMembership;
  readonly routing: ClusterRouting;
}

export type PcscfClusterOptions = ClusterMembershipOptions & Omit<ClusterRoutingOptions, 'membership'>;

/** Builds the parts; the caller starts `membership` once the node listens. */
export function composeCluster(options: PcscfClusterOptions): PcscfCluster {
  const membership = new ClusterMembership(options);
  return { membership, routing: new ClusterRouting({ ...options, membership }) };
}
