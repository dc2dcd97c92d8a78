/**
 * Memory per registered WebSocket for bench/sip-ws: bench/lib/idle-memory.ts with sip-ws
 * sessions (raw RFC 7118 clients, each REGISTER → 401 → REGISTER+digest → 200 for real).
 */
import { measureIdleSessions, type IdleConnectionsResult, type MemoryTarget } from '../lib/idle-memory.js';
import { registerUsers } from '../lib/load-point.js';

export type { IdleConnectionsResult };

export interface SipWsIdleOptions {
  readonly target: MemoryTarget & { readonly url: string };
  readonly measure: 'process' | 'group';
  readonly count: number;
  readonly parallel: number;
  readonly idleSeconds: number;
  readonly warmupConnections: number;
  readonly userPrefix: string;
  readonly domain: string;
  readonly password: string;
}

export function measureIdleConnections(options: SipWsIdleOptions): Promise<IdleConnectionsResult> {
  const { target, domain, password } = options;
  return measureIdleSessions({
    ...options,
    openSessions: (userPrefix, count, parallel) => registerUsers({ url: target.url, domain, password, userPrefix, timeoutMs: 30_000 }, count, parallel),
  });
}
