/**
 * `npm start` (examples/quickstart/start.mjs): start the demo, print where to go, stop cleanly on
 * SIGINT/SIGTERM. Logs go to stderr, at level warn unless EPCSCF_LOG_LEVEL says otherwise, so
 * stdout is the banner. Returns the exit code: 0 after a clean shutdown,
 * 1 when start-up fails (the coded error is printed) or the shutdown does not finish in time.
 */
import { pino } from 'pino';
import { describeError, waitForShutdown } from '../../core/cli/shutdown.js';
import { QUICKSTART_USAGE, parseQuickstartFlags } from './quickstart-options.js';
import { quickstartBanner } from './quickstart-banner.js';
import { startQuickstart } from './quickstart.js';
import type { Quickstart } from './quickstart.js';

export async function main(args: readonly string[]): Promise<number> {
  let quickstart: Quickstart;
  try {
    const flags = parseQuickstartFlags(args);
    if (flags.help) {
      process.stdout.write(`${QUICKSTART_USAGE}\n`);
      return 0;
    }
    const logger = pino({ level: process.env['EPCSCF_LOG_LEVEL'] ?? 'warn', name: 'epcscf' }, pino.destination(2));
    quickstart = await startQuickstart({ ...flags, logger });
  } catch (error) {
    process.stderr.write(`${describeError(error, 'npm start')}\n`);
    return 1;
  }
  process.stdout.write(`${quickstartBanner(quickstart)}\n`);
  return waitForShutdown(quickstart, 'epcscf quickstart');
}
