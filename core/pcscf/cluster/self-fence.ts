/**
 * Fencing (issue #15 "Faults"): a node whose own heartbeat may have lapsed (its process was frozen
 * — SIGSTOP, a GC pause, a VM stall — or it lost the state backend for a death period) must learn
 * whether a survivor took it for dead and cleaned it up before it heartbeats again. If one did, its
 * calls were BYEd at the IMS and its dialogs and flow entries are gone: serving its WebSockets on
 * as if nothing happened would leave clients on a zombie (their calls dead, terminating requests
 * failing), so it closes them and the clients come back through the load balancer to a live node.
 *
 * Read with the NodeDirectory as it is (no extra contract):
 * - its record is still there: nothing lapsed;
 * - it is no longer among the dead (a lapsed record stays dead until forgotten, and only a
 *   survivor's cleanup or this node's own leave forgets it): a survivor cleaned it up;
 * - it is among the dead: it takes the cleanup claim on itself (SET NX, as the survivors do). Won:
 *   nobody is cleaning it up and nobody can start before it heartbeats again; lost: a survivor
 *   holds the claim and is releasing its calls now.
 */
import type { NodeDirectory } from '../../state/state-backend.js';

export type OwnRecordVerdict = 'live' | 'lapsed-unnoticed' | 'cleaned-up';

/** `claimTtlMs`: how long this node's claim on itself keeps survivors off (a death period). */
export async function ownRecordVerdict(nodes: NodeDirectory, nodeId: string, claimTtlMs: number): Promise<OwnRecordVerdict> {
  if (await nodes.get(nodeId) !== undefined) return 'live';
  if (!(await nodes.dead()).includes(nodeId)) return 'cleaned-up';
  return (await nodes.claimCleanup(nodeId, nodeId, claimTtlMs)) ? 'lapsed-unnoticed' : 'cleaned-up';
}
