/**
 * How the commands (`epcscf`, `npm start`) stop: on SIGINT/SIGTERM close what runs and resolve
 * the exit code — 0 after a clean shutdown, 1 when it failed or did not finish in time. A second
 * Ctrl-C while closing gives up at once.
 */
import { EpcError } from '../errors.js';

/** A stuck shutdown (a peer that never answers) must not keep Ctrl-C from working. */
export const SHUTDOWN_DEADLINE_MS = 10_000;

export function waitForShutdown(running: { close(): Promise<void> }, name = 'epcscf'): Promise<number> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.once('SIGINT', () => resolve(1));
      process.stdout.write(`\n${name}: ${signal}, shutting down\n`);
      const deadline = setTimeout(() => {
        process.stderr.write(`${name}: shutdown did not finish within ${SHUTDOWN_DEADLINE_MS} ms\n`);
        resolve(1);
      }, SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      running.close().then(
        () => { clearTimeout(deadline); process.stdout.write(`${name}: stopped\n`); resolve(0); },
        (error: unknown) => { clearTimeout(deadline); process.stderr.write(`${name}: shutdown failed: ${describeError(error, name)}\n`); resolve(1); },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Coded errors print as `epcscf: EPC_ERR_X: message`; anything else with its stack (a bug). */
export function describeError(error: unknown, name = 'epcscf'): string {
  if (error instanceof EpcError) return `${name}: ${error.code}: ${error.message}`;
  if (error instanceof Error) return `${name}: ${error.stack ?? error.message}`;
  return `${name}: ${String(error)}`;
}
