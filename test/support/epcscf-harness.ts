/**
 * epcscf under test, on loopback, in this process: the P-CSCF core (core/pcscf) behind the W2
 * server with the sip-ws plugin, on ports of its own, plus a capture of every SIP message it
 * exchanged on Mw and on W2 (from `pcscf.observer`, a monitoring-only tap). And the IMS core
 * stand-in (Kamailio with examples/kamailio/ims-core-standin.cfg) it talks to.
 *
 *   const core = await startImsCore();                       t.teardown(core.stop);
 *   const epcscf = await startEpcscf({ nextHop: core.uri('udp') });  t.teardown(epcscf.close);
 *   const alice = await JsSipUser.connect({ wsUrl: epcscf.wsUrl, user: 'alice', password: 'alicepw' });
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { BUILTIN_PLUGINS } from '../../core/cli/builtin-plugins.js';
import { resolveConfig } from '../../core/config/index.js';
import { Pcscf } from '../../core/pcscf/index.js';
import type { MediaControl } from '../../core/pcscf/alg/media-control.js';
import type { DnsLookup } from '../../core/sip/resolve/index.js';
import { createEpcscfServer, type EpcscfServer } from '../../core/server/epcscf-server.js';
import { cseq, formatUri, type SipMessage, type SipRequest, type SipResponse } from '../../core/sip/index.js';
import type { TtlStore } from '../../core/state/state-backend.js';
import { KAMAILIO_CONFIGS, startKamailio, type KamailioPeer } from './peers/kamailio.js';
import { allocatePort, releasePort } from './peers/ports.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));

/** Set EPCSCF_TEST_LOG=debug to see epcscf's own log while a test runs. */
function testLogger(): Logger {
  const level = process.env['EPCSCF_TEST_LOG'] ?? 'silent';
  return pino({ level, name: 'epcscf-under-test' });
}

export type CaptureSide = 'mw' | 'w2';
export type CaptureDirection = 'in' | 'out';

export interface CapturedSip {
  readonly side: CaptureSide;
  /** 'in' = received by epcscf, 'out' = sent by epcscf. */
  readonly direction: CaptureDirection;
  readonly message: SipMessage;
  /** W2 side: the WebSocket connection. */
  readonly connectionId?: string;
  /** Mw side: the peer as the observer reports it. */
  readonly peer?: unknown;
  readonly at: number;
}

/** Everything epcscf sent and received, in order, with waiting helpers that have deadlines. */
export class SipCapture {
  readonly entries: CapturedSip[] = [];
  #waiters: (() => void)[] = [];

  record(entry: CapturedSip): void {
    this.entries.push(entry);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  requests(side: CaptureSide, direction: CaptureDirection, method?: string): SipRequest[] {
    return this.entries.flatMap((e) => e.side === side && e.direction === direction && e.message.kind === 'request'
      && (method === undefined || e.message.method === method) ? [e.message] : []);
  }

  responses(side: CaptureSide, direction: CaptureDirection, method?: string): SipResponse[] {
    return this.entries.flatMap((e) => e.side === side && e.direction === direction && e.message.kind === 'response'
      && (method === undefined || cseq(e.message).method === method) ? [e.message] : []);
  }

  waitFor(predicate: (entry: CapturedSip) => boolean, options: { from?: number; timeoutMs?: number; what?: string } = {}): Promise<CapturedSip> {
    const timeoutMs = options.timeoutMs ?? 5000;
    let index = options.from ?? 0;
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`epcscf capture: no ${options.what ?? 'matching message'} within ${timeoutMs} ms\n${this.dump(options.from ?? 0)}`));
      }, timeoutMs);
      const check = (): void => {
        for (; index < this.entries.length; index++) {
          const entry = this.entries[index];
          if (entry !== undefined && predicate(entry)) {
            clearTimeout(timer);
            resolvePromise(entry);
            return;
          }
        }
        this.#waiters.push(check);
      };
      check();
    });
  }

  /** One line per message (side, direction, start line) for failure output. */
  dump(from = 0): string {
    return this.entries.slice(from).map((e) => {
      const m = e.message;
      const line = m.kind === 'request' ? `${m.method} ${formatUri(m.uri)}` : `${m.status} ${m.reason} (${cseq(m).method})`;
      return `${e.side} ${e.direction === 'in' ? '<<' : '>>'} ${line}`;
    }).join('\n');
  }
}

/** Matchers for waitFor. */
export const isRequest = (side: CaptureSide, direction: CaptureDirection, method: string) =>
  (e: CapturedSip): boolean => e.side === side && e.direction === direction && e.message.kind === 'request' && e.message.method === method;
export const isResponse = (side: CaptureSide, direction: CaptureDirection, method: string, status?: number) =>
  (e: CapturedSip): boolean => e.side === side && e.direction === direction && e.message.kind === 'response'
    && cseq(e.message).method === method && (status === undefined || e.message.status === status);

export interface StartEpcscfOptions {
  /** mw.nextHop: the SIP URI of the IMS core entry (e.g. `core.uri('udp')`). */
  readonly nextHop: string;
  /** The Mw listening transport (default udp). */
  readonly mwTransport?: 'udp' | 'tcp';
  readonly domain?: string;
  readonly visitedNetworkId?: string;
  /** Options for the sip-ws plugin (flood limits...). */
  readonly sipWsOptions?: Record<string, unknown>;
  readonly flowSecret?: string;
  readonly logger?: Logger;
  /** The media gateway the IMS-ALG drives (closed with the P-CSCF); none: SDP untouched. */
  readonly media?: MediaControl;
  /** Plugins loaded beside sip-ws, e.g. `[{ name: 'jsonrpc-ws', options: {...} }]`. */
  readonly extraPlugins?: readonly { readonly name: string; readonly options?: Record<string, unknown> }[];
  /** mw.nextHopProbe (default: no OPTIONS keep-alives, so the core and the capture see only the test's traffic). */
  readonly nextHopProbe?: Record<string, unknown>;
  /** w2.maxFrameBytes (default the config default, 64 KiB). */
  readonly w2MaxFrameBytes?: number;
  /** The `webAuth` section (web-token issuers, TS 24.371 scenarios 2/3); default: off. */
  readonly webAuth?: Record<string, unknown>;
  /** The `ut` section (service configuration over Ut, TS 24.623: xcapRoot...); default: off. */
  readonly ut?: Record<string, unknown>;
  /** The `mmtel` section (e.g. conferenceFactoryUri, TS 24.605); default: the config defaults. */
  readonly mmtel?: Record<string, unknown>;
  /** The Mw port, when the test allocated it (e.g. to tell the core whom to trust); the test frees it. */
  readonly mwPort?: number;
  /** media.dtmf (default auto): DTMF interworking RFC 4733 ⇄ INFO (issue #14). */
  readonly mediaDtmf?: 'auto' | 'rfc4733' | 'info';
  /** The plugins' host.state source (issue #15); two nodes given the same one share resume tokens. Default: memory per server. */
  readonly stateNamespace?: (name: string) => TtlStore;
  /** w2.limits (issue 11/15 caps and rates); default: the config defaults. */
  readonly w2Limits?: Record<string, unknown>;
  /** mw.failover (issue 15: RFC 3263 failover on silence); default: the config default. */
  readonly mwFailover?: Record<string, unknown>;
  /** The DNS the P-CSCF resolves mw.nextHop with (RFC 3263 NAPTR/SRV/A); default: the system's. */
  readonly dns?: DnsLookup;
}

export interface EpcscfUnderTest {
  /** ws://127.0.0.1:port/sip */
  readonly wsUrl: string;
  /** ws://127.0.0.1:port — the W2 server; plugins add their paths (`${baseUrl}/jsonrpc`). */
  readonly baseUrl: string;
  readonly w2Port: number;
  readonly mwPort: number;
  readonly mwTransport: 'udp' | 'tcp';
  readonly pcscf: Pcscf;
  readonly server: EpcscfServer;
  readonly capture: SipCapture;
  readonly domain: string;
  readonly visitedNetworkId: string;
  /** Idempotent: closes the W2 server (sessions end) then the P-CSCF, and frees the ports. */
  close(): Promise<void>;
}

interface MwObserved { direction: CaptureDirection; message: SipMessage; peer?: unknown }
interface W2Observed { direction: CaptureDirection; connectionId: string; message: SipMessage }

export async function startEpcscf(options: StartEpcscfOptions): Promise<EpcscfUnderTest> {
  const mwTransport = options.mwTransport ?? 'udp';
  const domain = options.domain ?? 'ims.test';
  const visitedNetworkId = options.visitedNetworkId ?? 'epcscf.test';
  const w2Port = await allocatePort();
  const mwPort = options.mwPort ?? await allocatePort();
  const logger = options.logger ?? testLogger();
  const config = resolveConfig({
    w2: {
      listen: `127.0.0.1:${w2Port}`, pingIntervalSeconds: 0, ...(options.w2MaxFrameBytes !== undefined ? { maxFrameBytes: options.w2MaxFrameBytes } : {}),
      ...(options.w2Limits ? { limits: options.w2Limits } : {}),
    },
    plugins: [{ name: 'sip-ws', ...(options.sipWsOptions ? { options: options.sipWsOptions } : {}) }, ...(options.extraPlugins ?? [])],
    mw: { listen: [`${mwTransport}:127.0.0.1:${mwPort}`], nextHop: options.nextHop, domain, visitedNetworkId, nextHopProbe: options.nextHopProbe ?? { intervalSeconds: 0 }, ...(options.mwFailover ? { failover: options.mwFailover } : {}) },
    media: { mode: 'off', ...(options.mediaDtmf ? { dtmf: options.mediaDtmf } : {}) },
    ...(options.webAuth ? { webAuth: options.webAuth } : {}),
    ...(options.ut ? { ut: options.ut } : {}),
    ...(options.mmtel ? { mmtel: options.mmtel } : {}),
    log: { level: 'silent' },
  }, { configDir: REPO_ROOT, env: {}, source: 'epcscf-harness' });

  const capture = new SipCapture();
  let pcscf: Pcscf | undefined;
  let server: EpcscfServer | undefined;
  const freePorts = (): void => {
    releasePort(w2Port);
    if (options.mwPort === undefined) releasePort(mwPort);
  };
  try {
    pcscf = await Pcscf.start({
      config, logger,
      ...(options.flowSecret !== undefined ? { flowSecret: options.flowSecret } : {}),
      ...(options.media ? { media: options.media } : {}),
      ...(options.dns ? { dns: options.dns } : {}),
    });
    const observer = pcscf.observer as unknown as NodeJS.EventEmitter;
    observer.on('mw', (e: MwObserved) => capture.record({ side: 'mw', direction: e.direction, message: e.message, peer: e.peer, at: Date.now() }));
    observer.on('w2', (e: W2Observed) => capture.record({ side: 'w2', direction: e.direction, message: e.message, connectionId: e.connectionId, at: Date.now() }));
    server = await createEpcscfServer(config, {
      sip: pcscf, logger, shutdownGraceMs: 500, builtins: BUILTIN_PLUGINS,
      ...(options.stateNamespace !== undefined ? { stateNamespace: options.stateNamespace } : {}),
    });
    await server.listen();
  } catch (error) {
    await server?.close().catch(() => undefined);
    await pcscf?.close().catch(() => undefined);
    freePorts();
    throw error;
  }
  const startedPcscf = pcscf;
  const startedServer = server;
  let closing: Promise<void> | undefined;
  return {
    wsUrl: `ws://127.0.0.1:${w2Port}/sip`,
    baseUrl: `ws://127.0.0.1:${w2Port}`,
    w2Port, mwPort, mwTransport, domain, visitedNetworkId,
    pcscf: startedPcscf,
    server: startedServer,
    capture,
    close() {
      closing ??= (async () => {
        try {
          await startedServer.close();
        } finally {
          await startedPcscf.close();
          freePorts();
        }
      })();
      return closing;
    },
  };
}

/** Kamailio as the IMS core stand-in (registrar with digest, Path, Service-Route), on its own port. */
export interface ImsCoreStandIn {
  readonly port: number;
  readonly kamailio: KamailioPeer;
  /** The URI epcscf uses as mw.nextHop. */
  uri(transport?: 'udp' | 'tcp'): string;
  /** Kamailio's log so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export interface ImsCoreOptions {
  readonly domain?: string;
  /**
   * R-REG-9: the node (epcscf's Mw address, over UDP) whose trusted-node REGISTERs
   * (integrity-protected="auth-done") are registered without a challenge. Default: nobody.
   */
  readonly trustedNode?: { readonly host: string; readonly port: number };
}

export async function startImsCore(options: ImsCoreOptions = {}): Promise<ImsCoreStandIn> {
  const port = await allocatePort();
  let kamailio: KamailioPeer;
  try {
    kamailio = await startKamailio({
      config: KAMAILIO_CONFIGS.imsCore,
      defines: {
        SIP_PORT: port, ...(options.domain ? { SIP_DOMAIN: `"${options.domain}"` } : {}),
        ...(options.trustedNode ? { TRUSTED_NODE_IP: `"${options.trustedNode.host}"`, TRUSTED_NODE_PORT: options.trustedNode.port } : {}),
      },
    });
  } catch (error) {
    releasePort(port);
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    port, kamailio,
    uri: (transport = 'udp') => `sip:127.0.0.1:${port};transport=${transport}`,
    output: () => kamailio.output(),
    stop() {
      stopping ??= kamailio.stop().then(() => releasePort(port));
      return stopping;
    },
  };
}
