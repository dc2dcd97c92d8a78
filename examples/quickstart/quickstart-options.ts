/** Command-line flags of `npm start` (examples/quickstart): the ports, so tests can run it beside others. */
import { EpcError } from '../../core/errors.js';

export interface QuickstartPorts {
  /** `--http-port`: the WWSF serving the WIC; default 8080. */
  readonly httpPort: number;
  /** `--w2-port`: epcscf's WebSocket server; default 8081. */
  readonly w2Port: number;
  /** `--mw-port`: epcscf's Mw (UDP); default 5060. */
  readonly mwPort: number;
  /** `--dev-core-port`: the dev IMS core; default 5070 or the next free port up to 5079. */
  readonly devCorePort: number | undefined;
}

export interface QuickstartFlags extends QuickstartPorts {
  readonly help: boolean;
}

export const QUICKSTART_USAGE = `usage: npm start [-- --http-port N] [--w2-port N] [--mw-port N] [--dev-core-port N]

Runs the demo: epcscf (sip-ws, jsonrpc-ws, xmpp-ws; media gateway in process), the embedded dev
IMS core, and the demo WWSF serving the browser WIC with web login. Every port is on 127.0.0.1;
0 picks a free one (the banner prints the URLs actually used).

  --http-port N       the WWSF and the WIC (default 8080)
  --w2-port N         epcscf's W2 WebSocket server (default 8081)
  --mw-port N         epcscf's Mw, UDP (default 5060)
  --dev-core-port N   the dev IMS core (default 5070, or the next free port up to 5079)
  --help, -h          this text

For epcscf alone with your own configuration: npx epcscf --config FILE`;

const PORT_FLAGS = {
  '--http-port': 'httpPort',
  '--w2-port': 'w2Port',
  '--mw-port': 'mwPort',
  '--dev-core-port': 'devCorePort',
} as const satisfies Record<string, keyof QuickstartPorts>;

export function parseQuickstartFlags(args: readonly string[]): QuickstartFlags {
  const ports: { -readonly [K in keyof QuickstartPorts]: QuickstartPorts[K] } = { httpPort: 8080, w2Port: 8081, mwPort: 5060, devCorePort: undefined };
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (!(name in PORT_FLAGS)) throw new EpcError('EPC_ERR_CONFIG_INVALID', `unknown argument ${JSON.stringify(arg)}\n${QUICKSTART_USAGE}`);
    const raw = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[++i];
    if (raw === undefined || !/^\d{1,5}$/.test(raw) || Number(raw) > 65535) {
      throw new EpcError('EPC_ERR_CONFIG_INVALID', `${name}: expected a port 0..65535 (got ${JSON.stringify(raw ?? '')})`);
    }
    ports[PORT_FLAGS[name as keyof typeof PORT_FLAGS]] = Number(raw);
  }
  return { ...ports, help };
}
