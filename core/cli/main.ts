/**
 * `epcscf [--config FILE]`: load the config, start the runtime, print where to connect, and
 * shut down gracefully on SIGINT/SIGTERM. Returns the process exit code (the launcher exits
 * with it): 0 after a clean shutdown, 1 when boot fails (the coded error is printed) or the
 * shutdown does not finish in time.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { configPathFromArgs, loadConfigFile } from '../config/index.js';
import { EpcError } from '../errors.js';
import { readyBanner } from './banner.js';
import { parseCliOptions, USAGE } from './cli-options.js';
import { packageRoot } from './package-root.js';
import { startRuntime } from './runtime.js';
import type { EpcscfRuntime } from './runtime.js';

/** A stuck shutdown (a peer that never answers) must not keep Ctrl-C from working. */
const SHUTDOWN_DEADLINE_MS = 10_000;

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
    process.stderr.write(`${describeBootError(error)}\n`);
    return 1;
  }
  process.stdout.write(`${readyBanner(runtime)}\n`);
  return waitForShutdown(runtime);
}

function waitForShutdown(runtime: EpcscfRuntime): Promise<number> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      // A second Ctrl-C while closing: give up at once.
      process.once('SIGINT', () => resolve(1));
      process.stdout.write(`\nepcscf: ${signal}, shutting down\n`);
      const deadline = setTimeout(() => {
        process.stderr.write(`epcscf: shutdown did not finish within ${SHUTDOWN_DEADLINE_MS} ms\n`);
        resolve(1);
      }, SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      runtime.close().then(
        () => { clearTimeout(deadline); process.stdout.write('epcscf: stopped\n'); resolve(0); },
        (error: unknown) => { clearTimeout(deadline); process.stderr.write(`epcscf: shutdown failed: ${describeBootError(error)}\n`); resolve(1); },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Coded errors print as `epcscf: EPC_ERR_X: message`; anything else with its stack (a bug). */
function describeBootError(error: unknown): string {
  if (error instanceof EpcError) return `epcscf: ${error.code}: ${error.message}`;
  if (error instanceof Error) return `epcscf: ${error.stack ?? error.message}`;
  return `epcscf: ${String(error)}`;
}
