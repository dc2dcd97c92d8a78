/**
 * Redis state-backend test helpers: `cluster.redis` as the config loader makes it (defaults
 * filled, rules checked), and how an operation on the backend settled (its EpcError code, how long).
 */
import { resolveConfig } from '../../core/config/index.js';
import type { RedisConfig } from '../../core/config/config-types.js';
import { EpcError } from '../../core/errors.js';

/** `cluster.redis` resolved from `redis` (url | sentinels + name | clusterNodes, and any other key) and `env`. */
export function resolvedRedisConfig(redis: Record<string, unknown>, env: Record<string, string> = {}): RedisConfig {
  const config = resolveConfig({ cluster: { redis } }, { configDir: process.cwd(), env });
  if (config.cluster.redis === undefined) throw new Error('cluster.redis missing from the resolved config');
  return config.cluster.redis;
}

/** How long `operation` took to settle, and its error code (undefined: it succeeded). */
export async function settled(operation: Promise<unknown>): Promise<{ code: string | undefined; ms: number }> {
  const started = Date.now();
  try {
    await operation;
    return { code: undefined, ms: Date.now() - started };
  } catch (error) {
    return { code: error instanceof EpcError ? error.code : String(error), ms: Date.now() - started };
  }
}
