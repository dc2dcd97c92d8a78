/**
 * The admin API's view of a running epcscf (core/admin AdminBackend): registrations and calls
 * from the P-CSCF's stores, plugin sessions from the W2 server, readiness from Mw, the W2 server,
 * the shared state and the media gateway. Ids in URLs are short digests of the store ids (which hold Call-IDs,
 * tags and URIs, too long and too odd for a path segment).
 */
import { createHash } from 'node:crypto';
import type { AdminBackend, AdminCall, AdminReadiness, AdminRegistration, AdminSession } from '../admin/index.js';
import { EpcError } from '../errors.js';
import type { MediaControl } from '../pcscf/alg/media-control.js';
import type { Pcscf } from '../pcscf/index.js';
import type { W2Server, W2SessionInfo } from '../server/w2-server.js';
import type { DialogRecord } from '../state/dialog-store.js';
import type { StateBackend } from '../state/state-backend.js';
import type { RegistrationBinding } from '../state/registration-store.js';

/** 128 bits of SHA-256, base64url: stable, URL-safe, 22 characters. */
function adminId(storeId: string): string {
  return createHash('sha256').update(storeId).digest('base64url').slice(0, 22);
}

export interface AdminBackendParts {
  readonly pcscf: Pcscf;
  readonly w2: W2Server;
  readonly media?: MediaControl;
  /** How long the media gateway may take to answer the readiness ping. */
  readonly mediaPingTimeoutMs?: number;
  /** The shared state home (issue #15); absent: the P-CSCF's own memory stores. */
  readonly state?: Pick<StateBackend, 'kind' | 'health'>;
}

const uriOf = (nameAddr: string): string => /<([^>]*)>/.exec(nameAddr)?.[1] ?? nameAddr.split(';')[0]?.trim() ?? nameAddr;

export function createAdminBackend(parts: AdminBackendParts): AdminBackend {
  const { pcscf, w2 } = parts;
  const connectionOfFlow = (): Map<string, { connectionId: string; plugin: string }> => {
    // One sessions() read per view, not one per flow (it runs every plugin's describe()).
    const pluginOfSession = new Map(w2.sessions().map((s) => [s.id, s.plugin]));
    return new Map(pcscf.flows().map((f) => [f.flow, { connectionId: f.connectionId, plugin: pluginOfSession.get(f.connectionId) ?? f.plugin }]));
  };

  const registrationView = (binding: RegistrationBinding, flows: ReturnType<typeof connectionOfFlow>): AdminRegistration => {
    const flow = flows.get(binding.flowKey);
    return {
      id: adminId(binding.id), impu: binding.aor, contact: binding.contactUri, flowId: binding.flowKey,
      ...(binding.instanceId !== undefined ? { instanceId: binding.instanceId } : {}),
      ...(binding.regId !== undefined ? { regId: binding.regId } : {}),
      ...(flow ? { connectionId: flow.connectionId, plugin: flow.plugin } : {}),
      expiresAt: new Date(binding.expiresAt).toISOString(), associatedUris: binding.associatedUris,
    };
  };

  const callView = (dialog: DialogRecord, flows: ReturnType<typeof connectionOfFlow>): AdminCall => {
    const flow = flows.get(dialog.flowKey);
    const leg = pcscf.mediaLegOf(dialog);
    const [caller, callee] = dialog.direction === 'originating' ? [dialog.wicNameAddr, dialog.remoteNameAddr] : [dialog.remoteNameAddr, dialog.wicNameAddr];
    return {
      id: adminId(dialog.id), callId: dialog.callId, from: uriOf(caller), to: uriOf(callee), state: dialog.state,
      direction: dialog.direction, startedAt: new Date(dialog.createdAt).toISOString(),
      ...(flow ? { connectionId: flow.connectionId, plugin: flow.plugin } : {}),
      mediaLegs: leg === undefined ? [] : [{ id: leg, media: 'session', state: 'active' }],
    };
  };

  const findBinding = async (id: string): Promise<RegistrationBinding | undefined> =>
    (await pcscf.registrations.all()).find((b) => adminId(b.id) === id);
  const findDialog = async (id: string): Promise<DialogRecord | undefined> =>
    (await pcscf.dialogs.all()).find((d) => d.method === 'INVITE' && adminId(d.id) === id);

  return {
    async registrations() {
      const flows = connectionOfFlow();
      return (await pcscf.registrations.all()).map((b) => registrationView(b, flows));
    },
    async registration(id) {
      const binding = await findBinding(id);
      return binding ? registrationView(binding, connectionOfFlow()) : undefined;
    },
    /**
     * The P-CSCF is not the registering party of a client's own REGISTER (scenario 1), so it
     * cannot de-register at the S-CSCF on the client's behalf: it drops the binding and closes
     * the WebSocket that carries it (1008), which releases the calls of that flow (R-ORIG-9).
     * A trusted-node binding (web authentication) is epcscf's own: it stays until the flow's
     * release, which de-registers it on Mw (R-REG-25).
     */
    async terminateRegistration(id) {
      const binding = await findBinding(id);
      if (binding === undefined) return false;
      const flow = connectionOfFlow().get(binding.flowKey);
      if (binding.trustedNode === undefined || flow === undefined) await pcscf.registrations.remove(binding.id);
      if (flow) w2.closeSession(flow.connectionId, 1008, 'registration terminated by operator');
      return true;
    },
    async calls() {
      const flows = connectionOfFlow();
      return (await pcscf.dialogs.all()).filter((d) => d.method === 'INVITE').map((d) => callView(d, flows));
    },
    async call(id) {
      const dialog = await findDialog(id);
      return dialog ? callView(dialog, connectionOfFlow()) : undefined;
    },
    async terminateCall(id, reason) {
      const dialog = await findDialog(id);
      if (dialog === undefined) return false;
      return pcscf.terminateDialog(dialog.id, reason);
    },
    sessions: () => w2.sessions().map(sessionView),
    session(connectionId) {
      const info = w2.sessions().find((s) => s.id === connectionId);
      return info ? sessionView(info) : undefined;
    },
    terminateSession: (connectionId) => w2.closeSession(connectionId, 1000, 'closed by operator'),
    readiness: () => readiness(parts),
    async counts() {
      return { registrations: (await pcscf.registrations.all()).length, calls: (await pcscf.dialogs.all()).filter((d) => d.method === 'INVITE').length, mediaLegs: pcscf.mediaLegCount };
    },
  };
}

function sessionView(info: W2SessionInfo): AdminSession {
  return {
    connectionId: info.id, plugin: info.plugin, subprotocol: info.subprotocol, path: info.path, remote: info.remote,
    ...(info.origin !== undefined ? { origin: info.origin } : {}),
    openedAt: new Date(info.openedAt).toISOString(),
    ...(info.description !== undefined ? { description: info.description } : {}),
  };
}

async function readiness(parts: AdminBackendParts): Promise<AdminReadiness> {
  const checks: Record<string, { ok: boolean; detail?: string }> = {
    mw: parts.pcscf.mwAddresses.length > 0 ? { ok: true, detail: parts.pcscf.mwAddresses.map((a) => `${a.transport}:${a.host}:${a.port}`).join(', ') } : { ok: false, detail: 'no Mw transport bound' },
    mwNextHop: nextHopCheck(parts.pcscf),
    w2: parts.w2.stats().accepting ? { ok: true } : { ok: false, detail: 'shutting down: not accepting WebSocket upgrades' },
    state: stateCheck(parts.state),
  };
  if (parts.media) checks['mediaGateway'] = await pingMedia(parts.media, parts.mediaPingTimeoutMs ?? 1_000);
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}

/** Issue #15: not ready while the shared state (Redis) cannot be reached: requests that need it get 503. */
function stateCheck(state: AdminBackendParts['state']): { ok: boolean; detail?: string } {
  if (state === undefined) return { ok: true, detail: 'memory' };
  const health = state.health();
  return health.ok ? { ok: true, detail: state.kind } : { ok: false, detail: `${state.kind}: ${health.detail}` };
}

/** Issue 11 #10: not ready while an Mw next hop is down (requests toward it get 503). */
function nextHopCheck(pcscf: AdminBackendParts['pcscf']): { ok: boolean; detail?: string } {
  const down = pcscf.nextHops.status().filter((s) => !s.up);
  if (down.length === 0) return { ok: true };
  return { ok: false, detail: `Mw next hop down: ${down.map((s) => `${s.target} (${s.reason ?? 'unresponsive'})`).join(', ')}` };
}

async function pingMedia(media: MediaControl, timeoutMs: number): Promise<{ ok: boolean; detail?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([media.ping(), new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EpcError('EPC_ERR_MEDIA', `no answer to ping within ${timeoutMs} ms`)), timeoutMs);
    })]);
    // Issue #15: a pool is ready while one gateway is up; the detail names those out of it.
    const out = media.gateways?.().filter((g) => !g.up).map((g) => g.name) ?? [];
    return out.length === 0 ? { ok: true } : { ok: true, detail: `out of the pool: ${out.join(', ')}` };
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
