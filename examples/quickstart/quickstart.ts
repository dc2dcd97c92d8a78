/**
 * `npm start`: the whole demo in one process, on loopback —
 *   the demo WWSF (examples/wwsf) serving the browser WIC and its web login on :8080, then
 *   epcscf (core/cli/runtime.ts: dev IMS core, in-process media gateway, P-CSCF, the sip-ws,
 *   jsonrpc-ws and xmpp-ws plugins on :8081) with webAuth trusting that WWSF (its JWKS URL, its
 *   page origin), then the WWSF learns the W2 URLs it hands the WIC in /config.json.
 * The WWSF starts first because epcscf's config names it (its origin and JWKS URL depend on the
 * port it got); it stops last.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import { resolveConfig } from '../../core/config/index.js';
import type { EpcscfConfig } from '../../core/config/index.js';
import { EpcError } from '../../core/errors.js';
import { packageRoot } from '../../core/cli/package-root.js';
import { startRuntime } from '../../core/cli/runtime.js';
import type { EpcscfRuntime } from '../../core/cli/runtime.js';
import { startWwsf } from '../wwsf/index.js';
import type { WicClientConfig, Wwsf } from '../wwsf/index.js';
import type { QuickstartPorts } from './quickstart-options.js';

export interface QuickstartOptions extends Partial<QuickstartPorts> {
  readonly logger: Logger;
  /** Serve this built WIC instead of building examples/wic-web at start-up. */
  readonly wicDir?: string;
}

export interface Quickstart {
  readonly wwsf: Wwsf;
  readonly runtime: EpcscfRuntime;
  /** What the WIC reads from /config.json. */
  readonly clientConfig: WicClientConfig;
  /** Idempotent: epcscf first (de-registers, closes sockets), then the WWSF. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

export async function startQuickstart(options: QuickstartOptions): Promise<Quickstart> {
  const wwsf = await startWwsf({
    host: HOST, port: options.httpPort ?? 8080, logger: options.logger.child({ component: 'wwsf' }),
    ...(options.wicDir !== undefined ? { wicDir: options.wicDir } : {}),
  });
  let runtime: EpcscfRuntime;
  try {
    const config = await quickstartConfig(wwsf, options);
    runtime = await startRuntime(config, { logger: options.logger, ...(options.devCorePort !== undefined ? { devCorePort: options.devCorePort } : {}) });
  } catch (error) {
    await wwsf.close();
    throw error;
  }
  const clientConfig = clientConfigOf(runtime);
  wwsf.setClientConfig(clientConfig);
  let closing: Promise<void> | undefined;
  return {
    wwsf, runtime, clientConfig,
    close: () => (closing ??= runtime.close().finally(() => wwsf.close())),
  };
}

/** examples/quickstart/epcscf.yaml plus what depends on the ports and on the WWSF. */
async function quickstartConfig(wwsf: Wwsf, options: QuickstartOptions): Promise<EpcscfConfig> {
  const file = join(packageRoot(), 'examples', 'quickstart', 'epcscf.yaml');
  const raw = parseYaml(await readFile(file, 'utf8')) as Record<string, Record<string, unknown>>;
  if (raw['mw']?.['domain'] !== wwsf.domain) {
    throw new EpcError('EPC_ERR_CONFIG_INVALID', `${file}: mw.domain must be the WWSF users' domain (${wwsf.domain})`);
  }
  // A W2 port is written into Record-Route and Path before the server listens: pick it now.
  const w2Port = options.w2Port === 0 ? await freeTcpPort() : options.w2Port ?? 8081;
  // The page may be opened as 127.0.0.1 or as localhost: both are this WWSF's origin.
  const origins = [wwsf.origin, wwsf.origin.replace(`//${HOST}:`, '//localhost:')];
  const issuer = { audience: wwsf.audience, jwks: { url: wwsf.jwksUrl }, origins };
  return resolveConfig({
    ...raw,
    w2: { ...raw['w2'], listen: `${HOST}:${w2Port}`, allowedOrigins: origins },
    mw: { ...raw['mw'], listen: [`udp:${HOST}:${options.mwPort ?? 5060}`] },
    // Flow tokens need not survive a restart of a demo: a fresh key each start, no warning.
    cluster: { flowSecret: randomBytes(32).toString('base64url'), ...raw['cluster'] },
    // The admin API and /metrics on, with a key for this run only (the banner prints it).
    admin: { bearerKey: randomBytes(24).toString('base64url'), ...raw['admin'] },
    webAuth: {
      ...raw['webAuth'],
      issuers: [
        // Scenario 2: the WWSF's own users (alice, bob, carol), each with their own IMPU.
        { issuer: wwsf.issuer, ...issuer },
        // Scenario 3: guests, only ever with an IMPU of the WWSF's pool (R-REG-10).
        { issuer: wwsf.guestIssuer, ...issuer, impuPool: wwsf.guestPool },
      ],
    },
  }, { configDir: join(packageRoot(), 'examples', 'quickstart'), source: file });
}

/** /config.json: the W2 URL of each plugin, as bound. */
function clientConfigOf(runtime: EpcscfRuntime): WicClientConfig {
  const scheme = runtime.server.w2.secure ? 'wss' : 'ws';
  const host = runtime.w2.host.includes(':') ? `[${runtime.w2.host}]` : runtime.w2.host;
  const endpoints: Record<string, string> = {};
  for (const route of runtime.server.plugins.routes) endpoints[route.plugin.name] ??= `${scheme}://${host}:${runtime.w2.port}${route.path}`;
  return { domain: runtime.config.mw.domain, endpoints, authModes: ['web', 'digest'] };
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
