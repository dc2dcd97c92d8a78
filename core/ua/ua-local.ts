/**
 * What makes the virtual UE look like a SIP-over-WebSocket Gm UE on the wire (RFC 7118 §5,
 * RFC 5626, TS 24.229 §5.1): its `.invalid` Via host and Contact, its instance id, and the
 * capability headers it sends on every request.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { generateBranch } from '../sip/index.js';

/** What this UE implements (RFC 3261 §20.5 Allow). */
export const ALLOW = 'INVITE, ACK, CANCEL, BYE, UPDATE, PRACK, INFO, REFER, NOTIFY, MESSAGE, OPTIONS, SUBSCRIBE';
/** Option tags on dialog-creating INVITEs and their answers (RFC 3262, RFC 4028, RFC 3891). */
export const SUPPORTED_INVITE = ['100rel', 'timer', 'replaces', 'outbound'] as const;
/** RFC 3327 §5 / RFC 5626 §4.2: a registering UE supports Path and outbound. */
export const SUPPORTED_REGISTER = ['path', 'outbound'] as const;
/** Extensions we can honour when a request Requires them (RFC 3261 §8.2.2.3). */
export const UNDERSTOOD_EXTENSIONS = new Set(['100rel', 'timer', 'replaces', 'outbound', 'path']);
/** Bodies we accept (RFC 3261 §20.1). */
export const ACCEPT = 'application/sdp, text/plain, message/sipfrag, application/dtmf-relay, application/reginfo+xml, application/simple-message-summary';

function token(bytes: number): string {
  // Lower-case letters and digits only: valid in a host label and a SIP user part.
  return randomBytes(bytes).toString('hex').slice(0, bytes + 4);
}

export interface LocalUeInit {
  readonly secure: boolean;
  readonly instanceId?: string;
  readonly regId?: number;
  /** The Contact URI's user and host of a registration another node made (registration-snapshot.ts). */
  readonly contact?: { readonly user: string; readonly host: string };
}

export class LocalUe {
  readonly secure: boolean;
  readonly instanceId: string;
  readonly regId: number;
  /** RFC 7118 §5.2: the Via sent-by of a WebSocket client is a random `.invalid` name. */
  readonly viaHost = `${token(6)}.invalid`;
  readonly contactUser: string;
  readonly contactHost: string;

  constructor(init: LocalUeInit) {
    this.secure = init.secure;
    this.contactUser = init.contact?.user ?? token(4);
    this.contactHost = init.contact?.host ?? `${token(6)}.invalid`;
    this.instanceId = init.instanceId ?? `urn:uuid:${randomUUID()}`;
    this.regId = init.regId ?? 1;
  }

  /** RFC 7118 §5.2: `SIP/2.0/WS` or `SIP/2.0/WSS`, a fresh RFC 3261 §8.1.1.7 branch. */
  via(branch: string = generateBranch()): string {
    return `SIP/2.0/${this.secure ? 'WSS' : 'WS'} ${this.viaHost};branch=${branch}`;
  }

  /**
   * The Contact URI (RFC 7118 §5.2: `transport=ws` for WS and WSS alike). `ob` (RFC 5626 §5.4)
   * says the flow must be reused for requests toward this contact.
   */
  get contactUri(): string {
    return `sip:${this.contactUser}@${this.contactHost};transport=ws;ob`;
  }

  /** Contact of dialog-creating requests and their answers. */
  contact(): string {
    return `<${this.contactUri}>`;
  }

  /** RFC 5626 §4.2.1: the REGISTER Contact carries +sip.instance and reg-id. */
  registerContact(expires?: number): string {
    const base = `<${this.contactUri}>;+sip.instance="<${this.instanceId}>";reg-id=${this.regId}`;
    return expires === undefined ? base : `${base};expires=${expires}`;
  }
}
