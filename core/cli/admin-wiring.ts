/**
 * Puts the REST admin API, /health, /ready, /openrpc.json and /metrics (core/admin) on the W2
 * server of a running epcscf, before it listens: the backend reads the P-CSCF and the W2
 * server; the metrics follow the W2 observer (connections, plugin faults) and the P-CSCF's
 * `response` tap (SIP responses by class on each side: a status, no event object per message)
 * its `guard` events (routing guards that refused or dropped a message, issue 11), its
 * `refused` events (INVITEs beyond a call cap), the media-leg audit's orphans and web-token
 * outcomes (refusals by reason, trusted-node de-registrations).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createEpcscfMetrics, observePcscfMedia, observeW2Sessions, observeWebAuth, registerAdminApi, type EpcscfMetrics } from '../admin/index.js';
import type { EpcscfConfig } from '../config/config-types.js';
import type { MediaControl } from '../pcscf/alg/media-control.js';
import type { Pcscf, PcscfEvents } from '../pcscf/index.js';
import type { EpcscfServer } from '../server/epcscf-server.js';
import type { StateBackend } from '../state/state-backend.js';
import { createAdminBackend } from './admin-backend.js';
import { registerNextHopMetrics } from '../admin/next-hop-metrics.js';
import { registerMwTransportMetrics } from '../admin/mw-transport-metrics.js';
import { registerMediaPoolMetrics } from '../admin/media-pool-metrics.js';
import { packageRoot } from './package-root.js';

export interface AdminWiring {
  readonly metrics: EpcscfMetrics;
  /** Stops feeding the metrics (the server and the P-CSCF keep running). */
  detach(): void;
}

export async function attachAdmin(
  server: EpcscfServer, pcscf: Pcscf, config: EpcscfConfig, options: { log: Logger; media?: MediaControl; state?: StateBackend },
): Promise<AdminWiring> {
  const metrics = createEpcscfMetrics();
  const root = packageRoot();
  const openrpcPath = join(root, 'schemas', 'openrpc.json');
  const openrpcDocument = existsSync(openrpcPath) ? (JSON.parse(readFileSync(openrpcPath, 'utf8')) as object) : undefined;
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  await registerAdminApi(server.w2.app, {
    bearerKey: config.admin.bearerKey,
    backend: createAdminBackend({ pcscf, w2: server.w2, ...(options.media ? { media: options.media } : {}), ...(options.state ? { state: options.state } : {}) }),
    metrics, version,
    ...(openrpcDocument ? { openrpcDocument } : {}),
  });
  registerNextHopMetrics(metrics.registry, pcscf.nextHops);
  registerMwTransportMetrics(metrics.registry, pcscf);
  // Issue #15: a pool of ng media gateways reports each gateway.
  const pool = options.media?.gateways?.bind(options.media);
  if (pool !== undefined) registerMediaPoolMetrics(metrics.registry, { gateways: pool });
  const unobserve = observeW2Sessions(server.observer, metrics);
  const onResponse = (...[side, direction, status]: PcscfEvents['response']): void => metrics.sipResponse(side, direction, status);
  pcscf.observer.on('response', onResponse);
  const onGuard = (...[guard]: PcscfEvents['guard']): void => metrics.relayGuard(guard);
  pcscf.observer.on('guard', onGuard);
  const unobserveMedia = observePcscfMedia(pcscf.observer, metrics);
  const unobserveWebAuth = observeWebAuth(pcscf.observer, metrics.registry);
  const onRefused = (...[reason]: PcscfEvents['refused']): void => metrics.refused(reason);
  pcscf.observer.on('refused', onRefused);
  if (config.admin.bearerKey === undefined) options.log.info('admin API and /metrics off: set admin.bearerKey (or EPCSCF_ADMIN_KEY) to serve them');
  return {
    metrics,
    detach() {
      unobserve();
      pcscf.observer.off('response', onResponse);
      pcscf.observer.off('guard', onGuard);
      unobserveMedia();
      unobserveWebAuth();
      pcscf.observer.off('refused', onRefused);
    },
  };
}
