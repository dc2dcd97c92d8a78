/**
 * sipp as a real peer in tests: `runSipp` for a client run that ends on its own (exit code 0
 * means every call succeeded, 1 that some failed), `startSippUas` for a server that waits for
 * calls. Scenarios live in examples/sipp/. sipp has no WebSocket transport.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand, startDaemon, type Daemon, type ExitStatus, type RunResult } from './process.js';

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

/** One SIP message in sipp's `-trace_msg` log. */
export interface SippLoggedMessage {
  /** `received`, `sent`, or `unexpected` (a message sipp judged out of scenario: the call failed). */
  readonly direction: 'received' | 'sent' | 'unexpected';
  /** The request method, or the status code of a response. */
  readonly what: string;
  readonly callId: string | undefined;
}

/** Reads sipp's `-trace_msg` log: blocks that open with a dashed line, then what happened, then the message. */
export function parseSippMessageLog(log: string): SippLoggedMessage[] {
  const blocks = log.split(/^-{10,}.*$/m).slice(1);
  return blocks.flatMap((block): SippLoggedMessage[] => {
    const lines = block.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
    const [event, start] = lines;
    if (event === undefined || start === undefined) return [];
    const direction = /^Unexpected/.test(event) ? 'unexpected' : /message received/.test(event) ? 'received' : /message sent/.test(event) ? 'sent' : undefined;
    if (direction === undefined) return [];
    const status = /^SIP\/2\.0 (\d{3})/.exec(start);
    const what = status?.[1] ?? start.split(' ')[0] ?? '';
    const callId = lines.find((l) => /^(Call-ID|i):/i.test(l))?.replace(/^[^:]*:\s*/, '');
    return [{ direction, what, callId }];
  });
}

/** A sipp UAS under test, with its error and message traces (`-trace_err`, `-trace_msg`). */
export interface SippUas extends Daemon {
  /** sipp's error log so far: why a call failed ("Aborting call on unexpected message ... while ..."). */
  errors(): string;
  /** The messages sipp logged so far (its `-trace_msg`), in order. */
  messages(): SippLoggedMessage[];
  /** The exit status once sipp ends, or undefined if it is still running after `ms`. */
  exitedWithin(ms: number): Promise<ExitStatus | undefined>;
  /** For a failed assertion: the output tail, the error log and the message sequence. */
  diagnostics(): { sippOutput: string; sippErrors: string; sippMessages: string[] };
}

/** Starts a sipp UAS; ready once its SIP port is bound. Stop it with `stop()` (its traces go with it). */
export async function startSippUas(options: SippUasOptions): Promise<SippUas> {
  const transport = options.transport ?? 'u1';
  const traceDir = mkdtempSync(join(tmpdir(), 'epcscf-sipp-uas-'));
  const errorFile = join(traceDir, 'errors.log');
  const messageFile = join(traceDir, 'messages.log');
  const args = ['-sf', options.scenario ?? SIPP_SCENARIOS.uasRecordRoute, '-i', '127.0.0.1', '-p', String(options.port),
    '-t', transport, '-nostdin', '-trace_err', '-error_file', errorFile, '-trace_msg', '-message_file', messageFile];
  if (options.mediaPort !== undefined) args.push('-rtp_echo', '-mp', String(options.mediaPort));
  if (options.calls !== undefined) args.push('-m', String(options.calls));
  args.push(...(options.extraArgs ?? []));
  let daemon: Daemon;
  try {
    daemon = await startDaemon({
      name: 'sipp-uas', command: 'sipp', args,
      ready: { kind: 'port', protocol: transport === 't1' ? 'tcp' : 'udp', port: options.port },
      readyTimeoutMs: 5000,
    });
  } catch (error) {
    rmSync(traceDir, { recursive: true, force: true });
    throw error;
  }
  const read = (file: string): string => { try { return readFileSync(file, 'latin1'); } catch { return ''; } };
  const errors = (): string => read(errorFile);
  const messages = (): SippLoggedMessage[] => parseSippMessageLog(read(messageFile));
  return {
    name: daemon.name, pid: daemon.pid, exited: daemon.exited, output: () => daemon.output(),
    async stop(graceMs?: number) {
      const status = await daemon.stop(graceMs);
      rmSync(traceDir, { recursive: true, force: true });
      return status;
    },
    errors,
    messages,
    exitedWithin: (ms) => Promise.race([daemon.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]),
    diagnostics: () => ({
      sippOutput: daemon.output().slice(-1500),
      sippErrors: errors().slice(-3000),
      sippMessages: messages().map((m) => `${m.direction} ${m.what} ${m.callId ?? ''}`),
    }),
  };
}
