/** Command-line flags of `epcscf` beyond `--config` (which core/config parses). */
import { EpcError } from '../errors.js';

export interface CliOptions {
  /** `--config FILE`; undefined: the default config (examples/config/default.yaml). */
  readonly configFile: string | undefined;
  /** `--dev-core-port N`: where the embedded dev IMS core listens (default 5070 or the next free port; 0 = any). */
  readonly devCorePort: number | undefined;
  readonly help: boolean;
}

export const USAGE = `usage: epcscf [--config FILE] [--dev-core-port N]

  --config, -c FILE     YAML or JSON config (schemas/config.schema.json); default examples/config/default.yaml
  --dev-core-port N     port of the embedded dev IMS core when mw.nextHop is not set (default 5070, 0 = any)
  --help, -h            this text

Environment variables override config keys (see core/config/env-overrides.ts).`;

export function parseCliOptions(args: readonly string[]): Omit<CliOptions, 'configFile'> {
  let devCorePort: number | undefined;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--dev-core-port' || arg.startsWith('--dev-core-port=')) {
      const raw = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[++i];
      const port = Number(raw);
      if (raw === undefined || !/^\d{1,5}$/.test(raw) || port > 65535) {
        throw new EpcError('EPC_ERR_CONFIG_INVALID', `--dev-core-port: expected a port 0..65535 (got ${JSON.stringify(raw ?? '')})`);
      }
      devCorePort = port;
    } else if (arg === '--config' || arg === '-c') i++;
    else if (!arg.startsWith('--config=')) {
      throw new EpcError('EPC_ERR_CONFIG_INVALID', `unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    }
  }
  return { devCorePort, help };
}
