/**
 * Real XMPP clients for the xmpp-ws tests: @xmpp/client (xmpp.js) and a raw RFC 7395 WebSocket
 * for the frames no library would send (attacks). On Node 20 xmpp.js needs globalThis.WebSocket:
 * `ws` provides it.
 *
 *   const alice = await XmppJsUser.login({ service: `${epcscf.baseUrl}/xmpp`, domain: 'ims.test', username: 'alice', password: 'alicepw' });
 *   const got = await alice.next((s) => s.is('message'));
 */
import { client, xml, type Client } from '@xmpp/client';
import parse from '@xmpp/xml/lib/parse.js';
import * as Stanza from 'stanza';
import { convertIntermediateToRequest, convertRequestToIntermediate } from 'stanza/jingle/sdp/Protocol.js';
import WebSocket from 'ws';

export { xml };
type XmlNode = ReturnType<typeof xml>;
export type { XmlNode };

export function installWebSocketGlobal(): void {
  const g = globalThis as { WebSocket?: unknown };
  g.WebSocket ??= WebSocket;
}

export interface XmppLogin {
  readonly service: string;
  readonly domain: string;
  readonly username: string;
  readonly password: string;
  readonly resource?: string;
}

/** One xmpp.js client with a queue of every stanza it received and waiters with deadlines. */
export class XmppJsUser {
  readonly xmpp: Client;
  readonly received: XmlNode[] = [];
  #waiters: (() => void)[] = [];

  private constructor(xmpp: Client) {
    this.xmpp = xmpp;
    xmpp.on('stanza', (stanza: XmlNode) => {
      this.received.push(stanza);
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    });
  }

  /** Connects and logs in; rejects with the SASL error when the login is refused. */
  static async login(login: XmppLogin): Promise<XmppJsUser> {
    installWebSocketGlobal();
    const xmpp = client({ service: login.service, domain: login.domain, username: login.username, password: login.password, resource: login.resource ?? 'test' });
    xmpp.on('error', () => undefined);
    // Reconnect would retry a refused login for ever.
    (xmpp as unknown as { reconnect: { stop(): void } }).reconnect.stop();
    const user = new XmppJsUser(xmpp);
    try {
      await xmpp.start();
    } catch (error) {
      await xmpp.stop().catch(() => undefined);
      throw error;
    }
    return user;
  }

  get jid(): string {
    return this.xmpp.jid?.toString() ?? '';
  }

  send(stanza: XmlNode | string): Promise<void> {
    return this.xmpp.send(typeof stanza === 'string' ? parse(stanza) as XmlNode : stanza);
  }

  /** The first received stanza (from `from` on) matching, within `timeoutMs`. */
  next(predicate: (stanza: XmlNode) => boolean, timeoutMs = 8000, from = 0): Promise<XmlNode> {
    let index = from;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`xmpp client ${this.jid}: no matching stanza within ${timeoutMs} ms; got:\n${this.received.map((s) => s.toString()).join('\n')}`)), timeoutMs);
      const check = (): void => {
        for (; index < this.received.length; index++) {
          const stanza = this.received[index];
          if (stanza !== undefined && predicate(stanza)) {
            clearTimeout(timer);
            resolve(stanza);
            return;
          }
        }
        this.#waiters.push(check);
      };
      check();
    });
  }

  async stop(): Promise<void> {
    await this.xmpp.stop().catch(() => undefined);
  }
}

/** A raw RFC 7395 client: every text message received, in order; send any frame. */
export class RawXmppSocket {
  readonly ws: WebSocket;
  readonly frames: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: (() => void)[] = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.frames.push(String(data));
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  static connect(url: string): Promise<RawXmppSocket> {
    const ws = new WebSocket(url, 'xmpp');
    const socket = new RawXmppSocket(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(socket));
      ws.once('error', reject);
    });
  }

  send(frame: string): void {
    this.ws.send(frame);
  }

  nextFrame(predicate: (frame: string) => boolean, timeoutMs = 5000): Promise<string> {
    let index = 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`raw xmpp socket: no matching frame within ${timeoutMs} ms; got:\n${this.frames.join('\n')}`)), timeoutMs);
      const check = (): void => {
        for (; index < this.frames.length; index++) {
          const frame = this.frames[index];
          if (frame !== undefined && predicate(frame)) { clearTimeout(timer); resolve(frame); return; }
        }
        this.#waiters.push(check);
      };
      check();
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

// ---- Jingle as stanza.js writes and reads it (an independent SDP ⇄ Jingle mapping) --------------

const ICE_UDP = 'urn:xmpp:jingle:transports:ice-udp:1';
let stanzaRegistry: Stanza.JXT.Registry | undefined;
function registry(): Stanza.JXT.Registry {
  stanzaRegistry ??= Stanza.createClient({}).stanzas;
  return stanzaRegistry;
}

export interface JingleIqOptions {
  readonly to: string;
  readonly id: string;
  readonly sid: string;
  readonly action: 'session-initiate' | 'session-accept';
  readonly initiator?: string;
  readonly responder?: string;
}

/** An <iq type="set"><jingle/></iq> for `sdp`, written by stanza.js's SDP → Jingle converter. */
export function jingleIqFromSdp(sdp: string, options: JingleIqOptions): string {
  const role = options.action === 'session-initiate' ? 'initiator' : 'responder';
  const request = convertIntermediateToRequest(Stanza.Jingle.importFromSDP(sdp), role as never, ICE_UDP as never);
  const jingle = { ...request, action: options.action, sid: options.sid, initiator: options.initiator, responder: options.responder };
  return String(registry().export('iq', { type: 'set', to: options.to, id: options.id, jingle } as never));
}

/** The SDP stanza.js reads from a received <iq><jingle/></iq> (`role`: whose description it is). */
export function sdpFromJingleIq(iq: XmlNode, role: 'initiator' | 'responder'): string {
  const json = registry().import(Stanza.JXT.parse(iq.toString())) as { jingle?: Stanza.Stanzas.Jingle } | undefined;
  if (json?.jingle === undefined) throw new Error(`not a Jingle IQ: ${iq.toString().slice(0, 200)}`);
  return Stanza.Jingle.exportToSDP(convertRequestToIntermediate(json.jingle, role as never));
}
