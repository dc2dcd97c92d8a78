/** A bare fastify app with the admin API registered on a fake backend, for inject() tests. */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { Test } from 'tap';
import { createEpcscfMetrics, registerAdminApi } from '../../../core/admin/index.js';
import type { AdminApiOptions, EpcscfMetrics } from '../../../core/admin/index.js';
import { fakeBackend } from './fake-backend.js';
import type { FakeBackend } from './fake-backend.js';

export const KEY = 'test-admin-key-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${KEY}` };

export interface AdminRig {
  readonly app: FastifyInstance;
  readonly backend: FakeBackend;
  readonly metrics: EpcscfMetrics;
  /** Log lines at warn level and above. */
  readonly warnings: string[];
}

export async function adminApp(t: Test, options: Partial<AdminApiOptions> = {}, prepare?: (app: FastifyInstance) => void | Promise<void>): Promise<AdminRig> {
  const warnings: string[] = [];
  const app = Fastify({
    logger: {
      level: 'warn',
      stream: { write: (line: string) => { warnings.push((JSON.parse(line) as { msg: string }).msg); } },
    },
  });
  t.teardown(() => app.close());
  await prepare?.(app);
  const backend = fakeBackend();
  const metrics = createEpcscfMetrics();
  await registerAdminApi(app, { bearerKey: KEY, backend, metrics, version: '9.8.7', ...options });
  await app.ready();
  return { app, backend, metrics, warnings };
}
