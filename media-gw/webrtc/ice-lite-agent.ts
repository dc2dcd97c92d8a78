import { randomBytes } from 'node:crypto';
import { classes, Message, methods, parseMessage } from 'werift';

export interface IceCredentials {
  readonly ufrag: string;
  readonly pwd: string;
}

export interface TransportAddress {
  readonly address: string;
  readonly port: number;
}

/** RFC 8445 §5.3: ufrag ≥ 4 and pwd ≥ 22 ice-chars (ALPHA / DIGIT / "+" / "/"): base64 of random bytes. */
export function generateIceCredentials(): IceCredentials {
  return { ufrag: randomBytes(6).toString('base64'), pwd: randomBytes(18).toString('base64') };
}

export interface IceLiteOptions {
  readonly local?: IceCredentials;
  readonly remote?: IceCredentials;
  /** RFC 7675 §5.1: consent expires 30 s after the last authenticated check. */
  readonly consentTimeoutMs?: number;
  readonly now?: () => number;
}

export type StunVerdict =
  | { readonly kind: 'response'; readonly bytes: Buffer; readonly nominated: boolean }
  | { readonly kind: 'drop'; readonly reason: string };

const MAX_VALIDATED = 8;

/**
 * The ICE-lite side of a WebRTC leg (RFC 8445 §2.5, R-AGW-1, R-ICE-1..4): it never sends checks;
 * it answers Binding requests authenticated with short-term credentials (USERNAME
 * `<our ufrag>:<their ufrag>`, MESSAGE-INTEGRITY keyed with our pwd, FINGERPRINT), learns the
 * peer's address from the check itself (peer-reflexive, so mDNS candidates need no resolving), and
 * selects the pair the controlling browser nominates with USE-CANDIDATE. Each authenticated check
 * from the selected address refreshes consent (RFC 7675).
 */
export class IceLiteAgent {
  #local: IceCredentials;
  #localKey: Buffer;
  #remote: IceCredentials | undefined;
  #selected: TransportAddress | undefined;
  readonly #validated = new Map<string, TransportAddress>();
  #lastConsentAt: number;
  readonly #consentTimeoutMs: number;
  readonly #now: () => number;

  constructor(options: IceLiteOptions = {}) {
    this.#local = options.local ?? generateIceCredentials();
    this.#localKey = Buffer.from(this.#local.pwd, 'utf8');
    this.#remote = options.remote;
    this.#consentTimeoutMs = options.consentTimeoutMs ?? 30_000;
    this.#now = options.now ?? Date.now;
    this.#lastConsentAt = this.#now();
  }

  get localCredentials(): IceCredentials {
    return this.#local;
  }

  /** The nominated address (or, until nomination, none: media waits for it, R-ICE-2). */
  get selected(): TransportAddress | undefined {
    return this.#selected;
  }

  /**
   * R-ICE-4: an ICE restart brings new remote credentials and gets new local ones; the media
   * address stays until the browser nominates again.
   */
  restart(remote: IceCredentials | undefined, local: IceCredentials = generateIceCredentials()): void {
    this.#remote = remote;
    this.#local = local;
    this.#localKey = Buffer.from(local.pwd, 'utf8');
    this.#validated.clear();
  }

  setRemoteCredentials(remote: IceCredentials): void {
    this.#remote = remote;
  }

  /** The peer's credentials from its SDP, once known. */
  get remoteCredentials(): IceCredentials | undefined {
    return this.#remote;
  }

  /**
   * Starts the RFC 7675 consent clock now: a leg allocated at offer time must not count the
   * time before its SDP reached the browser (a ringing call) as lost consent.
   */
  resetConsentClock(): void {
    this.#lastConsentAt = this.#now();
  }

  /** True when `from` passed an authenticated check: DTLS and SRTP are accepted only from there. */
  isValidated(from: TransportAddress): boolean {
    return this.#validated.has(keyOf(from));
  }

  /** RFC 7675 §5.1: consent is lost when no authenticated check arrived for the timeout. */
  consentExpired(): boolean {
    return this.#now() - this.#lastConsentAt > this.#consentTimeoutMs;
  }

  /** Answers one STUN datagram received from `from`. */
  handleStun(data: Buffer, from: TransportAddress): StunVerdict {
    // werift's parser verifies FINGERPRINT always and MESSAGE-INTEGRITY when given the key.
    const request = parseMessage(data, this.#localKey);
    if (!request) return { kind: 'drop', reason: 'not STUN or failed MESSAGE-INTEGRITY/FINGERPRINT' };
    if (request.messageMethod !== methods.BINDING || request.messageClass !== classes.REQUEST) {
      return { kind: 'drop', reason: 'not a Binding request' };
    }
    const username: unknown = request.getAttributeValue('USERNAME');
    if (typeof username !== 'string' || !this.#usernameMatches(username)) {
      return { kind: 'drop', reason: 'USERNAME does not match our ufrag' };
    }
    const nominated = request.attributesKeys.includes('USE-CANDIDATE');
    const key = keyOf(from);
    if (!this.#validated.has(key)) {
      if (this.#validated.size >= MAX_VALIDATED) this.#validated.delete(this.#validated.keys().next().value as string);
      this.#validated.set(key, { address: from.address, port: from.port });
    }
    if (nominated) this.#selected = this.#validated.get(key);
    if (this.#selected !== undefined && keyOf(this.#selected) === key) this.#lastConsentAt = this.#now();
    // RFC 8445 §7.3.1: success response with XOR-MAPPED-ADDRESS of the source, signed with our pwd.
    const response = new Message(methods.BINDING, classes.RESPONSE, request.transactionId)
      .setAttribute('XOR-MAPPED-ADDRESS', [from.address, from.port])
      .addMessageIntegrity(this.#localKey)
      .addFingerprint();
    return { kind: 'response', bytes: response.bytes, nominated };
  }

  #usernameMatches(username: string): boolean {
    // RFC 8445 §7.2.2: USERNAME is "<receiver ufrag>:<sender ufrag>"; the sender part is checked
    // only when the remote ufrag is known (R-SDP-9: a WIC may send no candidates or ufrag late).
    const colon = username.indexOf(':');
    if (colon < 0 || username.slice(0, colon) !== this.#local.ufrag) return false;
    return this.#remote === undefined || username.slice(colon + 1) === this.#remote.ufrag;
  }
}

function keyOf(address: TransportAddress): string {
  return `${address.address}|${address.port}`;
}
