/** An in-memory AdminBackend for the admin API tests: fixed data, recorded terminations. */
import type { AdminBackend, AdminCall, AdminCounts, AdminReadiness, AdminRegistration, AdminSession } from '../../../core/admin/index.js';

export const REGISTRATION: AdminRegistration = {
  id: 'reg-1',
  impu: 'sip:alice@ims.test',
  contact: '<sip:alice@df7jal23ls0d.invalid;transport=ws>',
  instanceId: '<urn:uuid:00000000-0000-1000-8000-000a95a0e128>',
  regId: 1,
  flowId: 'flow-abc',
  connectionId: 'conn-1',
  plugin: 'sip-ws',
  expiresAt: '2026-11-21T10:00:00.000Z',
  associatedUris: ['sip:alice@ims.test', 'tel:+15551234567'],
};

export const CALL: AdminCall = {
  id: 'dlg-1',
  callId: 'a84b4c76e66710@pc33.ims.test',
  from: 'sip:alice@ims.test',
  to: 'sip:bob@ims.test',
  state: 'confirmed',
  direction: 'originating',
  startedAt: '2026-11-21T09:30:00.000Z',
  connectionId: 'conn-1',
  plugin: 'sip-ws',
  mediaLegs: [{ id: 'leg-1', media: 'audio', state: 'active', wic: '192.0.2.10:50000', ims: '198.51.100.5:40000' }],
};

export const SESSION: AdminSession = {
  connectionId: 'conn-1',
  plugin: 'sip-ws',
  subprotocol: 'sip',
  path: '/sip',
  remote: { address: '127.0.0.1', port: 51234 },
  origin: 'https://wwsf.test',
  openedAt: '2026-11-21T09:29:00.000Z',
  description: { impu: 'sip:alice@ims.test', frames: 12, nested: { ok: true } },
};

export interface FakeBackend extends AdminBackend {
  readonly terminated: Array<{ kind: 'registration' | 'call' | 'session'; id: string; reason?: string }>;
  readinessAnswer: AdminReadiness | (() => Promise<AdminReadiness>);
  countsAnswer: AdminCounts;
  countsReads: number;
}

export function fakeBackend(): FakeBackend {
  const registrations = new Map([[REGISTRATION.id, REGISTRATION], ['reg-2', { ...REGISTRATION, id: 'reg-2', impu: 'sip:bob@ims.test' }]]);
  const calls = new Map([[CALL.id, CALL]]);
  const sessions = new Map([[SESSION.connectionId, SESSION]]);
  const backend: FakeBackend = {
    terminated: [],
    readinessAnswer: { ready: true, checks: { mw: { ok: true }, mediaGateway: { ok: true, detail: 'ng pong in 2 ms' } } },
    countsAnswer: { registrations: 2, calls: 1, mediaLegs: 1 },
    countsReads: 0,
    registrations: () => [...registrations.values()],
    registration: (id) => registrations.get(id),
    terminateRegistration: (id) => {
      if (!registrations.delete(id)) return false;
      backend.terminated.push({ kind: 'registration', id });
      return true;
    },
    calls: async () => [...calls.values()],
    call: async (id) => calls.get(id),
    terminateCall: async (id, reason) => {
      if (!calls.has(id)) return false;
      backend.terminated.push({ kind: 'call', id, ...(reason !== undefined ? { reason } : {}) });
      return true;
    },
    sessions: () => [...sessions.values()],
    session: (id) => sessions.get(id),
    terminateSession: (id) => {
      if (!sessions.has(id)) return false;
      backend.terminated.push({ kind: 'session', id });
      return true;
    },
    readiness: () => (typeof backend.readinessAnswer === 'function' ? backend.readinessAnswer() : backend.readinessAnswer),
    counts: () => {
      backend.countsReads += 1;
      return backend.countsAnswer;
    },
  };
  return backend;
}
