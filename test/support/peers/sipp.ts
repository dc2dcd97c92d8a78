/**
 * sipp as a real peer in tests: `runSipp` for a client run that ends on its own (exit code 0
 * means every call succeeded, 1 that some failed), `startSippUas` for a server that waits for
 * calls. Scenarios live in examples/sipp/. sipp has no WebSocket transport.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand, startDaemon, type Daemon, type RunResult } from './process.js';

/** The scenarios shipped in examples/sipp/. */
export const SIPP_SCENARIOS = {
  registerAuth: scenarioPath('register-auth.xml'),
  uacRecordRoute: scenarioPath('uac-rr.xml'),
  uasRecordRoute: scenarioPath('uas-rr.xml'),
} as const;

function scenarioPath(file: string): string {
  return resolve(fileURLToPath(new URL(`../../../examples/sipp/${file}`, import.meta.url)));
}

export interface SippStats {
  readonly created: number;
  readonly successful: number;
  readonly failed: number;
}

export interface SippRun extends RunResult {
  /** Final cumulative counters, when sipp got far enough to write them. */
  readonly stats: SippStats | undefined;
}

/** Reads the last row of a `-trace_stat` CSV (`;`-separated, header first). */
export function parseSippStatCsv(csv: string): SippStats | undefined {
  const lines = csv.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const header = lines[0]?.split(';');
  const last = lines.length > 1 ? lines[lines.length - 1]?.split(';') : undefined;
  if (header === undefined || last === undefined) return undefined;
  const column = (name: string): number | undefined => {
    const i = header.indexOf(name);
    const value = i >= 0 ? Number(last[i]) : NaN;
    return Number.isFinite(value) ? value : undefined;
  };
  const created = column('TotalCallCreated');
  const successful = column('SuccessfulCall(C)');
  const failed = column('FailedCall(C)');
  if (created === undefined || successful === undefined || failed === undefined) return undefined;
  return { created, successful, failed };
}

export interface SippRunOptions {
  readonly timeoutMs?: number;
  readonly cwd?: string;
}

/**
 * Runs sipp with `args` (add `-m N` so it ends). `-nostdin` and stat tracing are added here.
 * Resolves with the exit status, output and final call counters; never rejects on a failed call.
 */
export async function runSipp(args: readonly string[], options: SippRunOptions = {}): Promise<SippRun> {
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-sipp-'));
  const statFile = join(dir, 'stat.csv');
  try {
    const result = await runCommand('sipp', [...args, '-nostdin', '-trace_stat', '-stf', statFile, '-fd', '1'], {
      cwd: options.cwd ?? dir, timeoutMs: options.timeoutMs ?? 20_000,
    });
    let stats: SippStats | undefined;
    try { stats = parseSippStatCsv(readFileSync(statFile, 'utf8')); } catch { stats = undefined; }
    return { ...result, stats };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Registers `user` at the IMS core listening on 127.0.0.1:`corePort` with sipp's digest REGISTER
 * (examples/sipp/register-auth.xml), its Contact on 127.0.0.1:`contactPort`: a far end that then
 * binds that port is reachable by the user's IMS identity. Throws with sipp's output if refused.
 */
export async function registerContactAtCore(corePort: number, user: string, contactPort: number, password = 'secret'): Promise<void> {
  const registered = await runSipp([`127.0.0.1:${corePort}`, '-sf', SIPP_SCENARIOS.registerAuth, '-m', '1', '-s', user, '-au', user, '-ap', password,
    '-key', 'domain', 'ims.test', '-i', '127.0.0.1', '-p', String(contactPort)], { timeoutMs: 10_000 });
  if (registered.code !== 0) throw new Error(`sipp could not register ${user} (${registered.code})\n${registered.stdout.slice(-2000)}`);
}

export interface SippUasOptions {
  /** SIP port to listen on (127.0.0.1). */
  readonly port: number;
  /** Scenario file; default the RR-aware UAS of examples/sipp. */
  readonly scenario?: string;
  readonly transport?: 'u1' | 't1';
  /** Plain RTP echo on this port (`-rtp_echo -mp`). */
  readonly mediaPort?: number;
  /** Stop after this many calls (`-m`). */
  readonly calls?: number;
  readonly extraArgs?: readonly string[];
}

/** Starts a sipp UAS; ready once its SIP port is bound. Stop it with `stop()`. */
export async function startSippUas(options: SippUasOptions): Promise<Daemon> {
  const transport = options.transport ?? 'u1';
  const args = ['-sf', options.scenario ?? SIPP_SCENARIOS.uasRecordRoute, '-i', '127.0.0.1', '-p', String(options.port),
    '-t', transport, '-nostdin'];
  if (options.mediaPort !== undefined) args.push('-rtp_echo', '-mp', String(options.mediaPort));
  if (options.calls !== undefined) args.push('-m', String(options.calls));
  args.push(...(options.extraArgs ?? []));
  return startDaemon({
    name: 'sipp-uas', command: 'sipp', args,
    ready: { kind: 'port', protocol: transport === 't1' ? 'tcp' : 'udp', port: options.port },
    readyTimeoutMs: 5000,
  });
}
