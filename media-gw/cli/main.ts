/**
 * `epcscf-media-gw`: our media gateway as its own process behind the rtpengine ng protocol, so
 * epcscf nodes (or Kamailio's rtpengine module) drive it over UDP like a real rtpengine.
 * Prints one line `epcscf-media-gw ng listening on udp:HOST:PORT` when ready; SIGTERM/SIGINT
 * release every call and exit 0. Logs (pino JSON) go to stderr, so stdout stays that one line.
 */
import { readFile } from 'node:fs/promises';
import { pino, type Logger } from 'pino';
import YAML from 'yaml';
import { EpcError } from '../../core/errors.js';
import { createMediaGateway, parseMediaGatewayConfig, type MediaGateway } from '../gateway/index.js';
import { NgServer } from '../ng/ng-server.js';
import { parseListenAddress, parseMediaGwArgs, USAGE } from './cli-options.js';

const DEFAULT_NG_LISTEN = '127.0.0.1:2223';
const SHUTDOWN_DEADLINE_MS = 10_000;

interface Running {
  readonly gateway: MediaGateway;
  readonly server: NgServer;
  readonly log: Logger;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readConfig(file: string): Promise<{ gateway: unknown; ngListen?: string; logLevel?: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new EpcError('EPC_ERR_CONFIG_INVALID', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  let document: unknown;
  try {
    document = YAML.parse(text); // YAML 1.2 reads JSON too
  } catch (error) {
    throw new EpcError('EPC_ERR_CONFIG_INVALID', `${file} is not YAML/JSON: ${(error as Error).message}`, { cause: error });
  }
  const media = isRecord(document) ? document['media'] : undefined;
  if (!isRecord(media)) throw new EpcError('EPC_ERR_CONFIG_INVALID', `${file}: no media section`);
  const ngListen = media['ngListen'];
  if (ngListen !== undefined && typeof ngListen !== 'string') throw new EpcError('EPC_ERR_CONFIG_INVALID', 'media.ngListen must be "HOST:PORT"');
  const log = isRecord(document) ? document['log'] : undefined;
  const level = isRecord(log) && typeof log['level'] === 'string' ? log['level'] : undefined;
  return { gateway: media['gateway'], ...(ngListen !== undefined ? { ngListen } : {}), ...(level !== undefined ? { logLevel: level } : {}) };
}

async function start(args: readonly string[]): Promise<Running | number> {
  const options = parseMediaGwArgs(args);
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options.configFile === undefined) throw new EpcError('EPC_ERR_CONFIG_INVALID', `--config FILE is required\n${USAGE}`);
  const file = await readConfig(options.configFile);
  const config = parseMediaGatewayConfig(file.gateway);
  const listen = parseListenAddress(options.ngListen ?? file.ngListen ?? DEFAULT_NG_LISTEN);
  const log = pino({ name: 'epcscf-media-gw', level: file.logLevel ?? 'info' }, pino.destination(2));
  // Standalone, nobody in this process can release a call: say so and let the controller's own
  // timers (or its query) notice.
  const gateway = createMediaGateway(config, { onCallEvent: (event) => log.info(event, 'media-gw: call event') });
  const server = await NgServer.listen({ control: gateway, address: listen.address, port: listen.port, log });
  return { gateway, server, log };
}

export async function main(args: readonly string[]): Promise<number> {
  let running: Running;
  try {
    const started = await start(args);
    if (typeof started === 'number') return started;
    running = started;
  } catch (error) {
    process.stderr.write(`${describe(error)}\n`);
    return 1;
  }
  const { address, port } = running.server.address();
  const shown = address.includes(':') ? `[${address}]` : address;
  process.stdout.write(`epcscf-media-gw ng listening on udp:${shown}:${port}\n`);
  return waitForShutdown(running);
}

function waitForShutdown({ gateway, server, log }: Running): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    // The handler stays installed: a repeated signal (a supervisor signalling the process group
    // and then the pid) must not kill the gateway half-way through releasing its calls.
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'media-gw: shutting down');
      const deadline = setTimeout(() => resolve(1), SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      Promise.all([server.close(), gateway.closeAll()]).then(
        () => { clearTimeout(deadline); resolve(0); },
        (error: unknown) => { clearTimeout(deadline); process.stderr.write(`${describe(error)}\n`); resolve(1); },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function describe(error: unknown): string {
  if (error instanceof EpcError) return `epcscf-media-gw: ${error.code}: ${error.message}`;
  if (error instanceof Error) return `epcscf-media-gw: ${error.stack ?? error.message}`;
  return `epcscf-media-gw: ${String(error)}`;
}
