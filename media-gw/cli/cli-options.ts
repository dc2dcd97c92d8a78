/**
 * `epcscf-media-gw` command line: `--config FILE` (YAML or JSON with `media.gateway` and
 * `media.ngListen`), `--ng-listen HOST:PORT` (overrides the file), `--help`.
 */
import { isIP } from 'node:net';
import { EpcError } from '../../core/errors.js';

export const USAGE = `usage: epcscf-media-gw --config FILE [--ng-listen HOST:PORT]

  --config FILE          YAML or JSON: { media: { gateway: { webrtc: { host, advertisedAddress?, ports: { min, max } },
                         ims: { ... }, maxCalls?, idleTimeoutSeconds?, consentTimeoutSeconds? }, ngListen: "127.0.0.1:2223" } }
  --ng-listen HOST:PORT  where the rtpengine ng control protocol listens (UDP); default 127.0.0.1:2223`;

export interface MediaGwCliOptions {
  readonly help: boolean;
  readonly configFile?: string;
  readonly ngListen?: string;
}

export function parseMediaGwArgs(args: readonly string[]): MediaGwCliOptions {
  let configFile: string | undefined;
  let ngListen: string | undefined;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const next = inline ?? args[++i];
      if (next === undefined || next === '') throw new EpcError('EPC_ERR_CONFIG_INVALID', `${name} needs a value`);
      return next;
    };
    if (name === '--help' || name === '-h') help = true;
    else if (name === '--config' || name === '-c') configFile = value();
    else if (name === '--ng-listen') ngListen = value();
    else throw new EpcError('EPC_ERR_CONFIG_INVALID', `unknown option ${arg}\n${USAGE}`);
  }
  return { help, ...(configFile !== undefined ? { configFile } : {}), ...(ngListen !== undefined ? { ngListen } : {}) };
}

/** `127.0.0.1:2223`, `[::1]:2223`. */
export function parseListenAddress(text: string): { address: string; port: number } {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const address = match?.[1];
  const port = Number(match?.[2]);
  if (address === undefined || isIP(address) === 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new EpcError('EPC_ERR_CONFIG_INVALID', `ng listen address "${text}" is not HOST:PORT with an IP address`);
  }
  return { address, port };
}
