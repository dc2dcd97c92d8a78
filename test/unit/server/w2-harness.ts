/** Starts a real epcscf W2 server on 127.0.0.1:0 and talks to it with real `ws` clients. */
import type { Test } from 'tap';
import { pino } from 'pino';
import WebSocket from 'ws';
import type { ClientOptions, RawData } from 'ws';
import { resolveConfig } from '../../../core/config/index.js';
import { extendBuiltinPlugins } from '../../../core/cli/builtin-plugins.js';
import type { W2Plugin } from '../../../core/contract/contract.js';
import type { W2Observer } from '../../../core/contract/host.js';
import { createEpcscfServer } from '../../../core/server/epcscf-server.js';
import type { EpcscfServer } from '../../../core/server/epcscf-server.js';

export interface Harness {
  readonly server: EpcscfServer;
  readonly base: string;
}

/**
 * `plugins` are offered as built-ins under their meta.name; `config` is the raw config
 * (w2.listen defaults to 127.0.0.1:0; plugins default to every given plugin by name).
 */
export async function startServer(t: Test, options: {
  plugins?: readonly W2Plugin<never>[];
  config?: Record<string, unknown>;
  configDir?: string;
  shutdownGraceMs?: number;
  observer?: W2Observer;
}): Promise<Harness> {
  const plugins = options.plugins ?? [];
  const raw = options.config ?? {};
  const w2 = { listen: '127.0.0.1:0', ...(raw['w2'] as Record<string, unknown> | undefined) };
  const config = resolveConfig(
    { plugins: plugins.map((p) => ({ name: p.meta.name })), ...raw, w2 },
    { configDir: options.configDir ?? process.cwd(), env: {} },
  );
  const server = await createEpcscfServer(config, {
    builtins: extendBuiltinPlugins(plugins.map((p) => [p.meta.name, async () => p] as const)),
    logger: pino({ level: 'silent' }),
    shutdownGraceMs: options.shutdownGraceMs ?? 300,
    ...(options.observer ? { observer: options.observer } : {}),
  });
  const address = await server.listen();
  t.teardown(() => server.close());
  return { server, base: `${server.w2.secure ? 'wss' : 'ws'}://127.0.0.1:${address.port}` };
}

/** Opens a client; resolves once open, rejects with the HTTP status when the upgrade is refused. */
export function connect(t: Test, url: string, protocols: string | string[], options: ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    t.teardown(() => ws.terminate());
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`refused with ${res.statusCode}`), { status: res.statusCode }));
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

/** The HTTP status a refused upgrade got (rejects if the upgrade succeeded). */
export async function refusedStatus(t: Test, url: string, protocols: string | string[], options: ClientOptions = {}): Promise<number> {
  try {
    const ws = await connect(t, url, protocols, options);
    ws.terminate();
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status !== undefined) return status;
    throw error;
  }
  throw new Error('the upgrade was accepted');
}

export function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data: RawData, isBinary: boolean) => resolve({ data: data as Buffer, isBinary })));
}

export function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === ws.CLOSED) return Promise.reject(new Error('already closed'));
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
}

export function waitFor(predicate: () => boolean, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (predicate()) resolve();
      else if (Date.now() > deadline) reject(new Error('condition not reached in time'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}
