/**
 * Issue #15 "Faults": a JSON-RPC or XMPP client whose node died (SIGKILL) or left (SIGTERM)
 * resumes on another node and is registered again with no REGISTER on Mw. What the IMS knows is
 * unchanged: its registrar's Path still names the old flow's token (RFC 5626 §5.2), which every
 * node verifies (shared cluster.flowSecret). So the surviving node
 *   - keeps the virtual UE's bindings when their node goes, for cluster.adoptGraceSeconds
 *     (`keepForAdoption`: the dead-node sweep and a leaving node's flow release use it),
 *   - and on adoption (`adoptRegisteredFlow`) moves them onto the resuming connection's flow,
 *     claims the old flow key in the FlowDirectory (other nodes forward its requests here) and
 *     makes the old key an alias of the new flow (its token in Path/Record-Route reaches it).
 * A sip-ws client's own bindings are never kept: it registers again itself (RFC 5626 §4.4).
 */
import { EpcError } from '../../errors.js';
import { parseUri } from '../../sip/index.js';
import type { RegistrationBinding, RegistrationStore } from '../../state/registration-store.js';
import { bindingId } from '../register.js';
import type { W2Flow, W2Flows } from '../w2-flows.js';
import type { ClusterMembership } from './cluster-membership.js';

/**
 * Drops the bindings of `flowKey` but puts the virtual UE's ones (registeredBy 'epcscf') back with
 * an expiry of at most `graceMs` from now, for a client to adopt elsewhere. Returns the bindings
 * that went for good (the caller de-registers trusted-node ones as for any ended flow, R-REG-25).
 */
export async function keepForAdoption(registrations: RegistrationStore, flowKey: string, graceMs: number, now: number): Promise<RegistrationBinding[]> {
  const removed = await registrations.removeFlow(flowKey);
  if (graceMs <= 0) return removed;
  const gone: RegistrationBinding[] = [];
  for (const binding of removed) {
    if (binding.registeredBy !== 'epcscf' || binding.expiresAt <= now) {
      gone.push(binding);
      continue;
    }
    await registrations.put({ ...binding, expiresAt: Math.min(binding.expiresAt, now + graceMs) });
  }
  return gone;
}

export interface FlowAdoptionDeps {
  readonly registrations: RegistrationStore;
  readonly flows: W2Flows;
  readonly membership: ClusterMembership;
  readonly now: () => number;
}

/**
 * The open flow `flow` takes over the virtual-UE registration(s) whose Contact has the user and
 * host of `contactUri`. `expiresAt` (the UE's own record of the registrar's grant, epoch ms)
 * restores an expiry the grace shortened. Rejects with EPC_ERR_INVALID_STATE when no such binding
 * lives, when it sits on a flow a live node (this one included) still holds, or when its flow is
 * one of this node's own (the plugin then registers again).
 */
export async function adoptRegisteredFlow(deps: FlowAdoptionDeps, flow: W2Flow, contactUri: string, expiresAt?: number): Promise<void> {
  const wanted = userAndHost(contactUri);
  const bindings = (await Promise.all(contactCandidates(wanted).map((uri) => deps.registrations.byContactUri(uri))))
    .flat()
    .filter((b) => b.registeredBy === 'epcscf' && b.flowKey !== flow.key);
  if (bindings.length === 0) throw new EpcError('EPC_ERR_INVALID_STATE', `no registration of ${wanted} to take over`);
  const self = deps.membership.nodeId;
  const oldKeys = [...new Set(bindings.map((b) => b.flowKey))];
  for (const key of oldKeys) {
    if (key.slice(0, key.lastIndexOf('/')) === self) throw new EpcError('EPC_ERR_INVALID_STATE', `the registration of ${wanted} is on this node's own flow ${key}`);
    // A live holder still serves the flow (or has not released it yet): taking it would split it.
    if (await deps.membership.holderContact(key) !== undefined) throw new EpcError('EPC_ERR_INVALID_STATE', `the flow ${key} of ${wanted} is held by a live node`);
  }
  const now = deps.now();
  for (const key of oldKeys) {
    await deps.membership.flowAdopted(key);
    deps.flows.alias(flow, key);
  }
  for (const binding of bindings) {
    const restored = expiresAt !== undefined && expiresAt > binding.expiresAt && expiresAt > now ? expiresAt : binding.expiresAt;
    await deps.registrations.put({ ...binding, id: bindingId(flow.key, binding.aor, binding.contactUri), flowKey: flow.key, expiresAt: restored });
    await deps.registrations.remove(binding.id);
  }
}

/** `sip:user@host` of a URI (its params, port and scheme variants dropped). */
function userAndHost(contactUri: string): string {
  let uri;
  try {
    uri = parseUri(contactUri);
  } catch {
    throw new EpcError('EPC_ERR_INVALID_STATE', `not a SIP URI: ${contactUri}`);
  }
  if (uri.kind !== 'sip' || uri.user === undefined) throw new EpcError('EPC_ERR_INVALID_STATE', `not a SIP URI with a user part: ${contactUri}`);
  return `sip:${uri.user}@${uri.host}`;
}

/**
 * The Contact URIs a virtual UE registers for `sip:user@host` (core/ua/ua-local.ts: RFC 7118 §5.2
 * `transport=ws`, RFC 5626 §5.4 `ob`), and the bare one: the store is indexed by exact URI.
 */
function contactCandidates(base: string): string[] {
  return [`${base};transport=ws;ob`, `${base};transport=ws`, base];
}
