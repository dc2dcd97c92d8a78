/**
 * core/admin: the REST admin API (OpenAPI at /docs), /health and /ready, /openrpc.json and
 * Prometheus /metrics. The runtime implements AdminBackend and calls registerAdminApi on the
 * W2 fastify instance before listen().
 */
export { registerAdminApi } from './admin-api.js';
export type { AdminApiOptions } from './admin-api.js';
export { createEpcscfMetrics } from './metrics.js';
export type { EpcscfMetrics, SipDirection, SipSide } from './metrics.js';
export { observeW2Sessions } from './observe-w2.js';
export { observePcscfMedia } from './observe-pcscf-media.js';
export { observeWebAuth } from './web-auth-metrics.js';
export type { AdminErrorBody } from './admin-error.js';
export type {
  AdminBackend,
  AdminCall,
  AdminCallState,
  AdminCounts,
  AdminMediaLeg,
  AdminReadiness,
  AdminReadinessCheck,
  AdminRegistration,
  AdminSession,
  Awaitable,
} from './backend.js';
