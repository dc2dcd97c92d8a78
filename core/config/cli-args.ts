import { EpcError } from '../errors.js';

/**
 * `epcscf --config FILE` / `--config=FILE` / `-c FILE`. Returns undefined when no config is given
 * (the CLI then runs on defaults), throws EPC_ERR_CONFIG_INVALID when the flag has no value.
 */
export function configPathFromArgs(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg.startsWith('--config=')) return nonEmpty(arg.slice('--config='.length));
    if (arg === '--config' || arg === '-c') return nonEmpty(args[i + 1]);
  }
  return undefined;
}

function nonEmpty(value: string | undefined): string {
  if (value === undefined || value === '' || value.startsWith('-')) {
    throw new EpcError('EPC_ERR_CONFIG_INVALID', '--config needs a file name: epcscf --config FILE');
  }
  return value;
}
