/**
 * Running real peer programs from tests: daemons that must come up and later be stopped
 * (kamailio, a sipp UAS) and one-shot commands (a sipp UAC). Everything has a deadline so a
 * hung peer fails the test instead of hanging the suite, and daemons run in their own process
 * group so that stopping one also stops the children it forked (kamailio forks workers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

const OUTPUT_LIMIT = 64 * 1024;

/** Keeps the last OUTPUT_LIMIT characters of a stream, for failure messages. */
class OutputTail {
  #text = '';
  append(chunk: Buffer | string): void {
    this.#text += chunk.toString();
    if (this.#text.length > OUTPUT_LIMIT) this.#text = this.#text.slice(-OUTPUT_LIMIT);
  }
  get text(): string {
    return this.#text;
  }
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** How to tell that a daemon is ready to serve. */
export type Readiness =
  | { readonly kind: 'log'; readonly pattern: RegExp }
  | { readonly kind: 'port'; readonly protocol: 'udp' | 'tcp'; readonly port: number; readonly host?: string }
  | { readonly kind: 'probe'; readonly probe: () => Promise<boolean> };

export interface DaemonOptions {
  /** For messages: `kamailio`, `sipp-uas`... */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly ready: Readiness | readonly Readiness[];
  /** Default 10 s. */
  readonly readyTimeoutMs?: number;
}

export interface Daemon {
  readonly name: string;
  readonly pid: number;
  /** Resolves when the process has exited (for any reason). */
  readonly exited: Promise<ExitStatus>;
  /** stdout and stderr so far (tail). */
  output(): string;
  /** SIGTERM to the process group, SIGKILL after `graceMs` (default 2 s). Idempotent. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

export class PeerError extends Error {
  constructor(message: string, readonly output: string) {
    super(`${message}\n--- peer output (tail) ---\n${output.slice(-4000)}`);
    this.name = 'PeerError';
  }
}

function watchExit(child: ChildProcess): Promise<ExitStatus> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pid, signal); } catch { /* group gone */ }
  try { process.kill(pid, signal); } catch { /* process gone */ }
}

/** Daemons still running: killed if the test process exits without stopping them. */
const running = new Set<number>();
process.once('exit', () => {
  for (const pid of running) killGroup(pid, 'SIGKILL');
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Is `port` bound on `host` (IPv4)? Reads /proc/net so it never touches the peer's socket. */
export function portBound(protocol: 'udp' | 'tcp', port: number, host = '127.0.0.1'): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const hexHost = host.split('.').reverse().map((b) => Number(b).toString(16).toUpperCase().padStart(2, '0')).join('');
  let table: string;
  try { table = readFileSync(`/proc/net/${protocol}`, 'utf8'); } catch { return false; }
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (local === undefined) continue;
    const [addr, p] = local.split(':');
    if (p !== hexPort || (addr !== hexHost && addr !== '00000000')) continue;
    // TCP: only a listening socket (state 0A) counts.
    if (protocol === 'udp' || fields[3] === '0A') return true;
  }
  return false;
}

/** Can we open a TCP connection to host:port right now? */
export function tcpAccepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean): void => { socket.destroy(); resolve(ok); };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(500, () => done(false));
  });
}

async function isReady(check: Readiness, output: string): Promise<boolean> {
  switch (check.kind) {
    case 'log': return check.pattern.test(output);
    case 'port': return portBound(check.protocol, check.port, check.host);
    case 'probe': return check.probe();
  }
}

/** Starts a daemon and resolves once every readiness check passes. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd, env: options.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = new OutputTail();
  child.stdout?.on('data', (c: Buffer) => tail.append(c));
  child.stderr?.on('data', (c: Buffer) => tail.append(c));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = watchExit(child);
  let exitStatus: ExitStatus | undefined;
  void exited.then((s) => { exitStatus = s; });
  const pid = child.pid;
  if (pid === undefined) {
    throw new PeerError(`${options.name}: could not start ${options.command}: ${(await spawnError).message}`, '');
  }
  running.add(pid);
  void exited.then(() => running.delete(pid));

  let stopping: Promise<ExitStatus> | undefined;
  const daemon: Daemon = {
    name: options.name, pid, exited,
    output: () => tail.text,
    stop(graceMs = 2000) {
      stopping ??= (async () => {
        if (exitStatus !== undefined) return exitStatus;
        killGroup(pid, 'SIGTERM');
        const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
        const status = await exited;
        clearTimeout(timer);
        killGroup(pid, 'SIGKILL'); // leftover children of the group, if any
        return status;
      })();
      return stopping;
    },
  };

  const checks = Array.isArray(options.ready) ? options.ready as readonly Readiness[] : [options.ready as Readiness];
  const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
  for (;;) {
    if (exitStatus !== undefined) {
      throw new PeerError(`${options.name} exited before it was ready (code ${exitStatus.code}, signal ${exitStatus.signal})`, tail.text);
    }
    let allReady = true;
    for (const check of checks) {
      if (!(await isReady(check, tail.text))) { allReady = false; break; }
    }
    if (allReady) return daemon;
    if (Date.now() > deadline) {
      await daemon.stop(500);
      throw new PeerError(`${options.name} not ready within ${options.readyTimeoutMs ?? 10_000} ms`, tail.text);
    }
    await sleep(25);
  }
}

export interface RunResult extends ExitStatus {
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Runs a command to completion; after `timeoutMs` (default 20 s) its group is killed. */
export async function runCommand(command: string, args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  const child = spawn(command, [...args], {
    cwd: options.cwd, env: options.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = new OutputTail();
  const stderr = new OutputTail();
  child.stdout?.on('data', (c: Buffer) => stdout.append(c));
  child.stderr?.on('data', (c: Buffer) => stderr.append(c));
  const failed = new Promise<ExitStatus>((resolve) => child.once('error', (e) => {
    stderr.append(String(e));
    resolve({ code: null, signal: null });
  }));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
  }, options.timeoutMs ?? 20_000);
  const status = await Promise.race([watchExit(child), failed]);
  clearTimeout(timer);
  // 'exit' can precede the last 'data' events: wait for the pipes to drain.
  await Promise.all([child.stdout, child.stderr].map((s) =>
    s === null || s.readableEnded || s.destroyed ? Promise.resolve()
      : Promise.race([new Promise<void>((r) => s.once('close', () => r())), sleep(1000)])));
  return { ...status, stdout: stdout.text, stderr: stderr.text, timedOut };
}
