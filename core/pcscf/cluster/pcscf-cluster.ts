/**
 * The cluster side of one P-CSCF node (issue #15), composed from its parts: membership (flow
 * claims, heartbeat, dead-node cleanup), routing (forwarding to the node holding a flow) and the
 * INVITE transactions found by the IMS's Via (a CANCEL or ACK that took another way).
 */
import { ClusterInvites } from './cluster-invites.js';
import { ClusterMembership, type ClusterMembershipOptions } from './cluster-membership.js';
import { ClusterRouting, type ClusterRoutingOptions } from './cluster-routing.js';

export interface PcscfCluster {
  readonly membership: ClusterMembership;
  readonly routing: ClusterRouting;
  readonly invites: ClusterInvites;
}

export type PcscfClusterOptions = ClusterMembershipOptions & Omit<ClusterRoutingOptions, 'membership'>;

/** Builds the parts; the caller starts `membership` once the node listens. */
export function composeCluster(options: PcscfClusterOptions): PcscfCluster {
  const membership = new ClusterMembership(options);
  return { membership, routing: new ClusterRouting({ ...options, membership }), invites: new ClusterInvites() };
}
