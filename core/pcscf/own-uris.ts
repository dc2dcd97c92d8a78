import { formatUri, getParam, type NameAddr, type SipUri, type Uri } from '../sip/index.js';
import type { FlowRef, FlowTokenCodec } from './flow-token.js';

/** One address the P-CSCF is reachable on (a Mw listener or the W2 server). */
export interface OwnAddress {
  readonly transport: 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
  /** As written in URIs (IPv6 in brackets). */
  readonly host: string;
  readonly port: number;
}

/**
 * `cluster.mwUri` (issue #15): the address every node of a cluster writes in Path and in its Mw
 * Record-Route (a DNS name or SRV target reaching all nodes, RFC 3263), as written: no port
 * when it names none (SRV).
 */
export interface SharedMwAddress {
  readonly scheme: 'sip' | 'sips';
  readonly host: string;
  readonly port?: number;
  readonly transport?: string;
}

/** How the URIs of a clustered node differ from a single node's. */
export interface ClusterUriOptions {
  /** cluster.mwUri: written in Path and the Mw Record-Route instead of our own Mw address, and accepted as ours. */
  readonly shared?: SharedMwAddress;
  /**
   * Another node's W2 Record-Route entry (`;transport=ws`, a flow token that verifies with the
   * cluster's flowSecret) is ours too: its token names the flow, the node that holds it is found
   * in the flow directory.
   */
  readonly peerW2Entries?: boolean;
}

/** The shared address of `cluster.mwUri`, or undefined when it is not a SIP URI. */
export function sharedMwAddress(uri: Uri): SharedMwAddress | undefined {
  if (uri.kind !== 'sip') return undefined;
  const transport = getParam(uri.params, 'transport');
  return { scheme: uri.scheme, host: uri.host, ...(uri.port !== undefined ? { port: uri.port } : {}), ...(typeof transport === 'string' ? { transport: transport.toLowerCase() } : {}) };
}

/**
 * The URIs the P-CSCF writes about itself and recognises in Route headers: Path (R-REG-11,
 * RFC 3327), the double Record-Route (R-SIPWS-12, RFC 7118 §8.2), and our Via sent-by.
 * Flow tokens ride in the user part (RFC 5626 §5.2) of Path and of the W2-side Record-Route.
 */
export class OwnUris {
  readonly #mw: readonly OwnAddress[];
  readonly #w2: OwnAddress;
  readonly #tokens: FlowTokenCodec;
  readonly #shared: SharedMwAddress | undefined;
  readonly #peerW2Entries: boolean;

  constructor(mw: readonly OwnAddress[], w2: OwnAddress, tokens: FlowTokenCodec, cluster: ClusterUriOptions = {}) {
    this.#mw = mw;
    this.#w2 = w2;
    this.#tokens = tokens;
    this.#shared = cluster.shared;
    this.#peerW2Entries = cluster.peerW2Entries ?? false;
  }

  get w2(): OwnAddress {
    return this.#w2;
  }

  mwAddress(transport: string): OwnAddress {
    return this.#mw.find((a) => a.transport === transport) ?? (this.#mw[0] as OwnAddress);
  }

  /** `<sip:TOKEN@mw-host:port;lr[;ob]>` (RFC 5626 §5.1: `ob` only for an outbound registration). */
  path(token: string, outbound: boolean, transport = 'udp'): string {
    // Issue #15: in a cluster, the shared address; the node holding the flow is found by its token.
    if (this.#shared !== undefined) return `<${sharedText(this.#shared, token)};lr${outbound ? ';ob' : ''}>`;
    const a = this.mwAddress(transport);
    return `<sip:${token}@${a.host}:${a.port}${transportParam(a.transport)};lr${outbound ? ';ob' : ''}>`;
  }

  /** The flow token of a flow (computed once per flow, W2Flow.token). */
  token(flow: FlowRef): string {
    return this.#tokens.encode(flow);
  }

  /** Our Mw-side Record-Route entry (no flow data: R-ORIG-3). */
  mwRecordRoute(transport = 'udp'): string {
    if (this.#shared !== undefined) return `<${sharedText(this.#shared, undefined)};lr>`;
    const a = this.mwAddress(transport);
    return `<sip:${a.host}:${a.port}${transportParam(a.transport)};lr>`;
  }

  /** Our W2-side Record-Route entry, carrying the flow token (RFC 7118 §8.2, erratum 5937: transport=ws). */
  w2RecordRoute(token: string): string {
    return `<sip:${token}@${this.#w2.host}:${this.#w2.port};transport=ws;lr>`;
  }

  /** Is this URI one of ours (a Route entry we put there or the one a client preloaded)? */
  isOwn(uri: Uri): boolean {
    if (uri.kind !== 'sip') return false;
    const port = uri.port;
    const all = [...this.#mw, this.#w2];
    if (all.some((a) => sameHost(a.host, uri.host) && (port === undefined ? defaultPortMatches(a) : port === a.port))) return true;
    if (this.#shared !== undefined && sameHost(this.#shared.host, uri.host) && port === this.#shared.port) return true;
    return this.#peerW2Entries && this.#isPeerW2Entry(uri);
  }

  /** Another cluster node's W2 Record-Route entry: `;transport=ws|wss` and a flow token of ours in the user part. */
  #isPeerW2Entry(uri: SipUri): boolean {
    if (uri.user === undefined) return false;
    const transport = getParam(uri.params, 'transport');
    if (typeof transport !== 'string' || !/^wss?$/i.test(transport)) return false;
    return this.#tokens.decode(uri.user) !== undefined;
  }

  /** The flow a URI's user part names, when it is a valid token of ours. */
  flowOf(uri: Uri): FlowRef | 'tampered' | undefined {
    if (uri.kind !== 'sip' || uri.user === undefined) return undefined;
    return this.#tokens.decode(uri.user) ?? 'tampered';
  }

  /** The flow a bare token names (our Via `ftok` parameter), if it verifies. */
  flowOfToken(token: string): FlowRef | undefined {
    return this.#tokens.decode(token);
  }
}

function sharedText(a: SharedMwAddress, user: string | undefined): string {
  return `${a.scheme}:${user === undefined ? '' : `${user}@`}${a.host}${a.port === undefined ? '' : `:${a.port}`}${a.transport === undefined ? '' : `;transport=${a.transport}`}`;
}

function transportParam(transport: string): string {
  return transport === 'udp' ? '' : `;transport=${transport}`;
}

function sameHost(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function defaultPortMatches(a: OwnAddress): boolean {
  return a.port === (a.transport === 'tls' || a.transport === 'wss' ? 5061 : 5060);
}

/** True when a popped Route entry asked for outbound treatment (`;ob`, RFC 5626 §5.3). */
export function hasOb(na: NameAddr): boolean {
  return na.uri.kind === 'sip' && getParam(na.uri.params, 'ob') !== undefined;
}

/** Canonical AOR for comparisons: scheme:user@host (lower-case host), no parameters (RFC 3261 §10.3). */
export function aorOf(uri: Uri): string {
  if (uri.kind === 'sip') {
    const base: SipUri = { kind: 'sip', scheme: uri.scheme, host: uri.host.toLowerCase(), params: [], headers: [] };
    return formatUri(uri.user === undefined ? base : { ...base, user: uri.user });
  }
  if (uri.kind === 'tel') return `tel:${uri.number.replace(/[-.()]/g, '')}`;
  return formatUri(uri);
}
