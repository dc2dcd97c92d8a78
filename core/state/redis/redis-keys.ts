/**
 * The key layout of the Redis state backend, in one place. Every key starts with the configured
 * prefix; keys that one script or command touches together share a hash tag (the `{...}` part,
 * Redis Cluster spec: only it is hashed), so they live in the same slot:
 *
 *   {f:<flowKey>}:reg:<bindingId>   a registration binding (JSON), PXAT its expiresAt
 *   {f:<flowKey>}:regs              ZSET binding id → expiresAt (the flow's bindings)
 *   {f:<flowKey>}:dlgs              SET dialog ids of the flow
 *   {f:<flowKey>}:holder            the node holding the flow (FlowDirectory), PX its claim
 *   {c:<contactUri>}:regs           ZSET binding id → expiresAt (lookup by Request-URI)
 *   {d:<callId>}:dlg:<dialogId>     a dialog (JSON)
 *   {d:<callId>}:dlgs               SET dialog ids of the Call-ID
 *   {n:<nodeId>}:node               the node's record (JSON), PX its heartbeat
 *   {n:<nodeId>}:flows | :legs      SETs of the flows / media legs the node claimed
 *   {n:<nodeId>}:seen               the node heartbeated once (until forgotten)
 *   {n:<nodeId>}:cleanup            who cleans up after the dead node (SET NX PX)
 *   {nodes}:known                   SET of node ids that heartbeated or held something, not forgotten
 *   {m:<ngCallId>}:leg              a media leg (JSON)
 *   {g:<gateway>}:legs              SET of the gateway's media legs
 *   ns:<namespace>:<key>            a plugin's TtlStore entry (single-key operations only: no tag)
 *
 * Lookups that cross tags (a flow's dialogs, a contact's bindings) read the index in one slot,
 * then each record by its own key: never a multi-key command across slots.
 */
import { EpcError } from '../../errors.js';

export class RedisKeys {
  readonly prefix: string;

  constructor(prefix: string) {
    // A brace in the prefix would become the hash tag of every key (one slot for everything).
    if (/[{}]/.test(prefix)) throw new EpcError('EPC_ERR_CONFIG_INVALID', `cluster.redis.keyPrefix must not contain { or } (got ${JSON.stringify(prefix)})`);
    this.prefix = prefix;
  }

  binding(flowKey: string, id: string): string { return `${this.prefix}{f:${flowKey}}:reg:${id}`; }
  flowBindings(flowKey: string): string { return `${this.prefix}{f:${flowKey}}:regs`; }
  flowDialogs(flowKey: string): string { return `${this.prefix}{f:${flowKey}}:dlgs`; }
  flowHolder(flowKey: string): string { return `${this.prefix}{f:${flowKey}}:holder`; }
  contactBindings(contactUri: string): string { return `${this.prefix}{c:${contactUri}}:regs`; }
  dialog(callId: string, id: string): string { return `${this.prefix}{d:${callId}}:dlg:${id}`; }
  callDialogs(callId: string): string { return `${this.prefix}{d:${callId}}:dlgs`; }
  node(nodeId: string): string { return `${this.prefix}{n:${nodeId}}:node`; }
  nodeFlows(nodeId: string): string { return `${this.prefix}{n:${nodeId}}:flows`; }
  nodeLegs(nodeId: string): string { return `${this.prefix}{n:${nodeId}}:legs`; }
  nodeSeen(nodeId: string): string { return `${this.prefix}{n:${nodeId}}:seen`; }
  nodeCleanup(nodeId: string): string { return `${this.prefix}{n:${nodeId}}:cleanup`; }
  knownNodes(): string { return `${this.prefix}{nodes}:known`; }
  mediaLeg(ngCallId: string): string { return `${this.prefix}{m:${ngCallId}}:leg`; }
  gatewayLegs(gateway: string): string { return `${this.prefix}{g:${gateway}}:legs`; }
  /** The namespace is URI-encoded so `a:b`/`c` and `a`/`b:c` never meet. */
  ttlEntry(namespace: string, key: string): string { return `${this.prefix}ns:${encodeURIComponent(namespace)}:${key}`; }

  /** SCAN patterns of every binding / dialog (admin listings). */
  allBindingsPattern(): string { return `${globEscape(this.prefix)}{f:*}:reg:*`; }
  allDialogsPattern(): string { return `${globEscape(this.prefix)}{d:*}:dlg:*`; }
}

/** `flowKey` of a binding id (`${flowKey} ${aor} ${contactUri}`, registration-store.ts). */
export function flowKeyOfBindingId(id: string): string {
  const space = id.indexOf(' ');
  return space < 0 ? id : id.slice(0, space);
}

/** `callId` of a dialog id (`${callId} ${wicTag}`, dialog-store.ts; a tag is a token, without spaces). */
export function callIdOfDialogId(id: string): string {
  const space = id.lastIndexOf(' ');
  return space < 0 ? id : id.slice(0, space);
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
