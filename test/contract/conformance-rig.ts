/**
 * The conformance bed: the whole runtime (W2 server, P-CSCF, the dev IMS core on loopback,
 * media off, or our media-gw in this process) with every plugin of the table loaded at once, each behind a spy that counts its
 * onClose calls per connection and injects a fault on FAULT_FRAME (the plugin's own hooks run
 * unchanged inside it).
 */
import { pino } from 'pino';
import type { SessionCloseReason, W2Plugin, W2Session } from '../../core/contract/index.js';
import { startRuntime, type EpcscfRuntime } from '../../core/cli/runtime.js';
import type { PluginImporter } from '../../core/cli/builtin-plugins.js';
import { resolveConfig } from '../../core/config/index.js';
import { allocatePorts, releasePort } from '../support/peers/ports.js';
import type { PluginRow } from './plugin-table.js';

/** A frame the spy turns into a throwing onFrame: a plugin fault (contract: 1011, this session only). */
export const FAULT_FRAME = 'conformance: fault now';

export interface ConformanceBed {
  readonly runtime: EpcscfRuntime;
  readonly base: string;
  /** onClose reasons the plugin got, per connection id. */
  readonly closes: Map<string, SessionCloseReason[]>;
  close(): Promise<void>;
}

/** Media ports of the in-process gateway of the media bed (37100-37199 belongs to it). */
const MEDIA_GW = {
  webrtc: { host: '127.0.0.1', ports: { min: 37100, max: 37149 } },
  ims: { host: '127.0.0.1', ports: { min: 37150, max: 37199 } },
};

export async function startConformanceBed(rows: readonly PluginRow[], options: { readonly media?: 'off' | 'in-process' } = {}): Promise<ConformanceBed> {
  const closes = new Map<string, SessionCloseReason[]>();
  const builtins = new Map<string, PluginImporter>(rows.map((row) => [row.name, async () => spied(await row.load(), closes)]));
  const [w2Port = 0, mwPort = 0] = await allocatePorts(2);
  const config = resolveConfig({
    w2: { listen: `127.0.0.1:${w2Port}`, pingIntervalSeconds: 0 },
    plugins: rows.map((row) => ({ name: row.name })),
    mw: { listen: [`udp:127.0.0.1:${mwPort}`] },
    media: options.media === 'in-process' ? { mode: 'in-process', auditIntervalSeconds: 0, gateway: MEDIA_GW } : { mode: 'off' },
  }, { configDir: process.cwd(), env: {}, source: 'conformance' });
  const runtime = await startRuntime(config, { logger: pino({ level: 'silent' }), devCorePort: 0, builtins });
  return {
    runtime, closes, base: `ws://127.0.0.1:${w2Port}`,
    async close() {
      await runtime.close();
      releasePort(w2Port);
      releasePort(mwPort);
    },
  };
}

function spied(plugin: W2Plugin, closes: Map<string, SessionCloseReason[]>): W2Plugin {
  return {
    meta: plugin.meta,
    bindings: plugin.bindings,
    ...(plugin.optionsSchema !== undefined ? { optionsSchema: plugin.optionsSchema } : {}),
    async init(host, options) {
      const instance = await plugin.init(host, options);
      return {
        ...(instance.close !== undefined ? { close: () => instance.close?.() } : {}),
        async openSession(conn) {
          const session = await instance.openSession(conn);
          const mine: SessionCloseReason[] = [];
          closes.set(conn.id, mine);
          const spy: W2Session = {
            onFrame: (frame) => {
              if (frame === FAULT_FRAME) throw new Error('conformance: injected fault');
              return session.onFrame(frame);
            },
            onClose: (reason) => {
              mine.push(reason);
              return session.onClose(reason);
            },
            ...(session.onSipRequest !== undefined ? { onSipRequest: session.onSipRequest.bind(session) } : {}),
            ...(session.onSipResponse !== undefined ? { onSipResponse: session.onSipResponse.bind(session) } : {}),
            ...(session.describe !== undefined ? { describe: session.describe.bind(session) } : {}),
          };
          return spy;
        },
      };
    },
  };
}
