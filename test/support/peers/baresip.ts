/**
 * baresip 1.0 as a real IMS-side endpoint in tests: a headless UA (sine-wave source, audio
 * dropped) that registers with digest at the IMS core stand-in over UDP and is driven through
 * its ctrl_tcp module (netstring-framed JSON commands, CALL_* events back). Config files come
 * from test/fixtures/baresip/*.template, written into a fresh temp dir per instance.
 *
 *   const dave = await startBaresip({ user: 'dave', password: 'secret', registrar: core.uri('udp'), ctrlPort });
 *   t.teardown(() => dave.stop());
 *   await dave.dial('sip:bob@ims.test');
 *   await dave.waitForEvent('CALL_ESTABLISHED');
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PeerError, startDaemon, type Daemon, type ExitStatus } from './process.js';

const FIXTURES = resolve(fileURLToPath(new URL('../../fixtures/baresip/', import.meta.url)));

/** Above the range test/support/peers/ports.ts hands out, so RTP never takes a claimed port. */
const DEFAULT_RTP_PORTS = '33000-59999';
const DEFAULT_TIMEOUT_MS = 8000;

export interface BaresipOptions {
  readonly user: string;
  /** Digest password (Kamailio stand-in: alice → alicepw, everyone else → secret). */
  readonly password: string;
  /** Where every request goes (baresip's outbound proxy): `sip:127.0.0.1:PORT;transport=udp`. */
  readonly registrar: string;
  /** 127.0.0.1 TCP port of the ctrl_tcp module (e.g. from allocatePort). */
  readonly ctrlPort: number;
  /**
   * SIP port on 127.0.0.1. Default 0: the kernel picks, because baresip also binds TLS on
   * sipPort + 1, which a fixed port would take from whoever owns it.
   */
  readonly sipPort?: number;
  /** answermode=auto (200 at once) when true, manual (use `accept()`) when false. Default true. */
  readonly autoAnswer?: boolean;
  readonly domain?: string;
  /** Registration refresh interval in seconds (regint). Default 600. */
  readonly registerIntervalSeconds?: number;
  /** e.g. '33000-33099'. */
  readonly rtpPorts?: string;
  /** How long to wait for the process, the ctrl socket and the 200 to REGISTER. Default 8 s. */
  readonly readyTimeoutMs?: number;
}

/** One ctrl_tcp event, e.g. `{"event":true,"type":"CALL_ESTABLISHED","class":"call",...}`. */
export interface BaresipEvent {
  readonly type: string;
  readonly class: string | undefined;
  readonly direction: string | undefined;
  readonly peerUri: string | undefined;
  /** baresip's call id (its own, not the SIP Call-ID). */
  readonly callId: string | undefined;
  /** Event detail, e.g. the SIP status line of a CALL_CLOSED ("404 Not Found"). */
  readonly param: string | undefined;
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface BaresipCommandResult {
  readonly ok: boolean;
  readonly data: string;
}

export interface BaresipPeer {
  readonly pid: number;
  readonly aor: string;
  readonly ctrlPort: number;
  /** Temp dir holding config, accounts and contacts; removed on stop. */
  readonly dir: string;
  readonly exited: Promise<ExitStatus>;
  /** Every event received so far, in order. */
  readonly events: readonly BaresipEvent[];
  /** baresip's console output so far (tail), for failure messages. */
  output(): string;
  /** Sends one ctrl_tcp command and resolves with its response. */
  command(command: string, params?: string, timeoutMs?: number): Promise<BaresipCommandResult>;
  /** Starts an outgoing call (menu `dial`); throws when baresip refuses the command. */
  dial(uri: string): Promise<void>;
  /** Answers the incoming call (manual answer mode). */
  accept(): Promise<void>;
  /** Ends the current call (BYE, or CANCEL while unanswered). */
  hangup(): Promise<void>;
  /** The first event of `type` at index >= `from` (default 0); rejects after `timeoutMs`. */
  waitForEvent(type: string, options?: { from?: number; timeoutMs?: number }): Promise<BaresipEvent>;
  /** SIGTERM (baresip un-REGISTERs), SIGKILL after `graceMs` (default 1 s); removes the dir. Idempotent. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

/** Fills `{{NAME}}` placeholders; a placeholder without a value is a bug in the caller. */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`baresip template: no value for {{${name}}}`);
    return value;
  });
}

/** Writes config, accounts and an empty contacts file (baresip -f <dir> expects all three). */
export function writeBaresipFiles(dir: string, options: BaresipOptions): void {
  const values: Record<string, string> = {
    SIP_LISTEN: `127.0.0.1:${options.sipPort ?? 0}`,
    CTRL_LISTEN: `127.0.0.1:${options.ctrlPort}`,
    RTP_PORTS: options.rtpPorts ?? DEFAULT_RTP_PORTS,
    USER: options.user,
    PASSWORD: options.password,
    DOMAIN: options.domain ?? 'ims.test',
    REGISTRAR: options.registrar,
    ANSWER_MODE: options.autoAnswer === false ? 'manual' : 'auto',
    REG_INTERVAL: String(options.registerIntervalSeconds ?? 600),
  };
  for (const file of ['config', 'accounts']) {
    writeFileSync(join(dir, file), renderTemplate(readFileSync(join(FIXTURES, `${file}.template`), 'utf8'), values));
  }
  writeFileSync(join(dir, 'contacts'), '');
}

/**
 * Netstring framing (djb): `<length>:<bytes>,`. ctrl_tcp uses it in both directions.
 * Splits a byte stream into payloads, keeping an incomplete tail for the next chunk.
 */
export class NetstringReader {
  #buffer = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const payloads: string[] = [];
    for (;;) {
      const colon = this.#buffer.indexOf(0x3a);
      if (colon < 0) break;
      const length = Number(this.#buffer.subarray(0, colon).toString('latin1'));
      if (!Number.isInteger(length) || length < 0) throw new Error('ctrl_tcp: malformed netstring length');
      const end = colon + 1 + length;
      if (this.#buffer.length < end + 1) break;
      if (this.#buffer[end] !== 0x2c) throw new Error('ctrl_tcp: netstring without its trailing comma');
      payloads.push(this.#buffer.subarray(colon + 1, end).toString('utf8'));
      this.#buffer = this.#buffer.subarray(end + 1);
    }
    return payloads;
  }
}

export function encodeNetstring(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`, 'latin1'), body, Buffer.from(',', 'latin1')]);
}

const optionalString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function toEvent(raw: Record<string, unknown>): BaresipEvent {
  return {
    type: optionalString(raw['type']) ?? '',
    class: optionalString(raw['class']),
    direction: optionalString(raw['direction']),
    peerUri: optionalString(raw['peeruri']),
    callId: optionalString(raw['id']),
    param: optionalString(raw['param']),
    raw,
  };
}

interface PendingCommand {
  resolve(result: BaresipCommandResult): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** One ctrl_tcp connection: commands matched to responses by token, events kept in order. */
class CtrlConnection {
  readonly events: BaresipEvent[] = [];
  readonly #socket: Socket;
  readonly #reader = new NetstringReader();
  readonly #pending = new Map<string, PendingCommand>();
  #waiters: (() => void)[] = [];
  #nextToken = 1;
  #closed: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('close', () => this.#fail(new Error('ctrl_tcp connection closed')));
    socket.on('error', (error) => this.#fail(error));
  }

  static open(port: number, timeoutMs: number): Promise<CtrlConnection> {
    return new Promise((resolvePromise, reject) => {
      const socket = connect({ port, host: '127.0.0.1' });
      const timer = setTimeout(() => { socket.destroy(); reject(new Error(`ctrl_tcp: no connection to ${port}`)); }, timeoutMs);
      socket.once('connect', () => { clearTimeout(timer); resolvePromise(new CtrlConnection(socket)); });
      socket.once('error', (error) => { clearTimeout(timer); reject(error); });
    });
  }

  command(command: string, params: string, timeoutMs: number): Promise<BaresipCommandResult> {
    if (this.#closed) return Promise.reject(this.#closed);
    const token = `cmd${this.#nextToken++}`;
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(token);
        reject(new Error(`ctrl_tcp: no response to '${command}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(token, { resolve: resolvePromise, reject, timer });
      this.#socket.write(encodeNetstring(JSON.stringify({ command, params, token })));
    });
  }

  waitForEvent(type: string, from: number, timeoutMs: number, detail: () => string): Promise<BaresipEvent> {
    let index = from;
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        const seen = this.events.slice(from).map((e) => `${e.type}${e.param ? ` (${e.param})` : ''}`).join(', ') || 'none';
        reject(new PeerError(`baresip: no ${type} event within ${timeoutMs} ms (events since: ${seen})`, detail()));
      }, timeoutMs);
      const check = (): void => {
        for (; index < this.events.length; index++) {
          const event = this.events[index];
          if (event?.type === type) {
            clearTimeout(timer);
            resolvePromise(event);
            return;
          }
        }
        this.#waiters.push(check);
      };
      check();
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    let payloads: string[];
    try {
      payloads = this.#reader.push(chunk);
    } catch (error) {
      this.#fail(error as Error);
      this.#socket.destroy();
      return;
    }
    for (const payload of payloads) {
      let message: unknown;
      try { message = JSON.parse(payload); } catch { continue; }
      if (typeof message !== 'object' || message === null) continue;
      const record = message as Record<string, unknown>;
      if (record['response'] === true) this.#onResponse(record);
      else if (record['event'] === true) this.#onEvent(record);
    }
  }

  #onResponse(record: Record<string, unknown>): void {
    const token = optionalString(record['token']);
    const pending = token === undefined ? undefined : this.#pending.get(token);
    if (token === undefined || pending === undefined) return;
    this.#pending.delete(token);
    clearTimeout(pending.timer);
    pending.resolve({ ok: record['ok'] === true, data: optionalString(record['data']) ?? '' });
  }

  #onEvent(record: Record<string, unknown>): void {
    this.events.push(toEvent(record));
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  #fail(error: Error): void {
    this.#closed ??= error;
    for (const [token, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.#pending.delete(token);
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const stripAnsi = (text: string): string => text.replace(/\u001b\[[0-9;]*m/g, '');

/** The menu module redraws `[0:00:03] audio=64000/0 (bit/s)` over and over during a call. */
const withoutStatusLines = (text: string): string => text.replace(/\r\[\d+:\d\d:\d\d\][^\r\n]*\r/g, '');

/**
 * `reginfo` lists each UA as `> sip:aor ... OK|ERR|zzz ...`: OK once its REGISTER got a 2xx,
 * ERR after a final failure (e.g. a second 401: wrong password). Polled because the
 * REGISTER_OK event may fire before the ctrl socket connects.
 */
async function registrationState(ctrl: CtrlConnection, aor: string): Promise<'ok' | 'failed' | 'pending'> {
  const { ok, data } = await ctrl.command('reginfo', '', 2000);
  const line = ok ? stripAnsi(data).split('\n').find((l) => l.includes(aor)) : undefined;
  if (line === undefined) return 'pending';
  if (/\sOK\s/.test(` ${line} `)) return 'ok';
  return /\sERR\s/.test(` ${line} `) ? 'failed' : 'pending';
}

/** Starts baresip, waits until its REGISTER got a 2xx, and keeps a ctrl_tcp connection open. */
export async function startBaresip(options: BaresipOptions): Promise<BaresipPeer> {
  const aor = `sip:${options.user}@${options.domain ?? 'ims.test'}`;
  const timeoutMs = options.readyTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-baresip-'));
  let daemon: Daemon | undefined;
  let ctrl: CtrlConnection | undefined;
  try {
    writeBaresipFiles(dir, options);
    daemon = await startDaemon({
      name: 'baresip',
      command: 'baresip',
      args: ['-f', dir],
      ready: { kind: 'port', protocol: 'tcp', port: options.ctrlPort },
      readyTimeoutMs: timeoutMs,
    });
    ctrl = await CtrlConnection.open(options.ctrlPort, Math.max(500, deadline - Date.now()));
    for (;;) {
      const state = await registrationState(ctrl, aor);
      if (state === 'ok') break;
      if (state === 'failed' || Date.now() > deadline) {
        const why = state === 'failed' ? 'registration failed' : `not registered within ${timeoutMs} ms`;
        throw new PeerError(`baresip: ${aor} at ${options.registrar}: ${why}`, withoutStatusLines(daemon.output()));
      }
      await sleep(50);
    }
  } catch (error) {
    ctrl?.close();
    await daemon?.stop(500);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const started = daemon;
  const connection = ctrl;
  const expectOk = async (command: string, params = ''): Promise<void> => {
    const result = await connection.command(command, params, DEFAULT_TIMEOUT_MS);
    if (!result.ok) throw new PeerError(`baresip: '${command} ${params}' failed: ${result.data.trim()}`, withoutStatusLines(started.output()));
  };
  let stopping: Promise<ExitStatus> | undefined;
  return {
    pid: started.pid, aor, ctrlPort: options.ctrlPort, dir, exited: started.exited,
    events: connection.events,
    output: () => withoutStatusLines(started.output()),
    command: (command, params = '', commandTimeoutMs = DEFAULT_TIMEOUT_MS) => connection.command(command, params, commandTimeoutMs),
    dial: (uri) => expectOk('dial', uri),
    accept: () => expectOk('accept'),
    hangup: () => expectOk('hangup'),
    waitForEvent: (type, waitOptions = {}) =>
      connection.waitForEvent(type, waitOptions.from ?? 0, waitOptions.timeoutMs ?? DEFAULT_TIMEOUT_MS, () => withoutStatusLines(started.output())),
    stop(graceMs = 1000) {
      stopping ??= (async () => {
        connection.close();
        try {
          return await started.stop(graceMs);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      })();
      return stopping;
    },
  };
}
