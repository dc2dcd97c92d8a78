/**
 * `epcscf [--config FILE]`: load the config, start the runtime, print where to connect, and
 * shut down gracefully on SIGINT/SIGTERM. Returns the process exit code (the launcher exits
 * with it): 0 after a clean shutdown, 1 when boot fails (the coded error is printed) or the
 * shutdown does not finish in time.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { configPathFromArgs, loadConfigFile } from '../config/index.js';
import { readyBanner } from './banner.js';
import { parseCliOptions, USAGE } from './cli-options.js';
import { packageRoot } from './package-root.js';
import { startRuntime } from './runtime.js';
import { describeError, waitForShutdown } from './shutdown.js';
import type { EpcscfRuntime } from './runtime.js';

export async function main(args: readonly string[]): Promise<number> {
  let runtime: EpcscfRuntime;
  try {
    const flags = parseCliOptions(args);
    if (flags.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const configFile = configPathFromArgs(args) ?? join(packageRoot(), 'examples', 'config', 'default.yaml');
    const config = await loadConfigFile(configFile);
    const logger = pino({ level: config.log.level, name: 'epcscf' });
    runtime = await startRuntime(config, { logger, ...(flags.devCorePort !== undefined ? { devCorePort: flags.devCorePort } : {}) });
  } catch (error) {
    process.stderr.write(`${describeError(error)}\n`);
    return 1;
  }
  process.stdout.write(`${readyBanner(runtime)}\n`);
  return waitForShutdown(runtime);
}
