/**
 * The dev core's registrar (RFC 3261 §10.3, RFC 3327 Path, RFC 3608 Service-Route, RFC 7315
 * P-Associated-URI), with digest authentication (RFC 3261 §22.4), and trusted-node
 * registration (TS 33.203 annex U, TS 24.229 §5.4.1.2.2, R-REG-9): a REGISTER whose
 * Authorization says `integrity-protected="auth-done"` is registered without a challenge, but
 * only when it comes from a trusted node (epcscf's Mw address); from anywhere else it is an
 * ordinary REGISTER and gets challenged. A demo stand-in for an S-CSCF: no IFC, no
 * third-party registration, no reg event.
 */
import {
  authValues, callId, contacts, createResponse, cseq, generateTag, DigestServer, expires, formatAuth, formatUri, getHeaders,
  getParam, to,
} from '../../core/sip/index.js';
import type { AuthValue, SipRequest, SipResponse } from '../../core/sip/index.js';
import type { SipSource } from '../../core/sip/transport/types.js';
import { TrustedNodes } from './trusted-nodes.js';
import type { LocationStore } from './location-store.js';
import type { UserDirectory } from './user-directory.js';

/** RFC 3261 §10.3 step 7: the registrar picks the expiry; these bound what a client may ask. */
const DEFAULT_EXPIRES = 3600;
const MAX_EXPIRES = 7200;

export interface RegistrarOptions {
  readonly users: UserDirectory;
  readonly location: LocationStore;
  /** `host:port` of the core, for Service-Route (`<sip:orig@host:port;lr>`). */
  readonly selfHostPort: string;
  readonly digest?: DigestServer;
  readonly now?: () => number;
  /** Who may register users without a challenge (the P-CSCF's Mw address); default: nobody. */
  readonly trustedNodes?: TrustedNodes;
  /** The integrity-protected value that marks a trusted-node REGISTER (default auth-done). */
  readonly integrityProtected?: string;
}

export class Registrar {
  readonly #users: UserDirectory;
  readonly #location: LocationStore;
  readonly #digest: DigestServer;
  readonly #selfHostPort: string;
  readonly #now: () => number;
  readonly trustedNodes: TrustedNodes;
  readonly #integrityProtected: string;

  constructor(options: RegistrarOptions) {
    this.trustedNodes = options.trustedNodes ?? new TrustedNodes();
    this.#integrityProtected = options.integrityProtected ?? 'auth-done';
    this.#users = options.users;
    this.#location = options.location;
    this.#digest = options.digest ?? new DigestServer();
    this.#selfHostPort = options.selfHostPort;
    this.#now = options.now ?? Date.now;
  }

  /** The Service-Route this core returns: requests that carry it are originating (TS 24.229 5.4.1.2.2). */
  get serviceRoute(): string {
    return `<sip:orig@${this.#selfHostPort};lr>`;
  }

  /** `source`: where the REGISTER came from (a trusted-node REGISTER is honoured only from a trusted node). */
  register(request: SipRequest, source?: SipSource): SipResponse {
    const realm = this.#users.domain;
    const aor = to(request).uri;
    const owner = this.#users.byUri(aor);
    if (owner === undefined) return answer(request, 404, 'Not Found');

    // R-REG-9: the trusted node authenticated the user (web token); no challenge.
    const trusted = this.#trustedNodeCredentials(request, source);
    if (trusted !== undefined) {
      if (this.#users.byAuthUsername(trusted.params['username'] ?? '') !== owner) return answer(request, 403, 'Forbidden (identity mismatch)');
      const problem = this.#updateBindings(owner.user, request);
      if (problem !== undefined) return problem;
      return this.#ok(request, owner.user);
    }

    // RFC 3261 §22.4: no (or no usable) credentials → 401 with a fresh challenge.
    const credentials = authValues(request, 'Authorization').find((a) => a.params['realm'] === realm);
    if (credentials === undefined) return this.#challenge(request, false);
    const verdict = this.#digest.verifyCredentials(credentials, {
      method: 'REGISTER',
      realm,
      secret: (username) => {
        const user = this.#users.byAuthUsername(username);
        return user?.password === undefined ? undefined : { password: user.password };
      },
    });
    if (!verdict.ok) {
      if (verdict.reason === 'stale' || verdict.reason === 'bad-nonce') return this.#challenge(request, verdict.reason === 'stale');
      return answer(request, 403, `Forbidden (${verdict.reason})`);
    }
    // The authenticated identity must own the AOR it registers (TS 24.229 5.4.1.2: the IMPI
    // is tied to its IMPUs).
    if (this.#users.byAuthUsername(verdict.username) !== owner) return answer(request, 403, 'Forbidden (identity mismatch)');

    const problem = this.#updateBindings(owner.user, request);
    if (problem !== undefined) return problem;
    return this.#ok(request, owner.user);
  }

  /** The trusted-node Authorization of a REGISTER from a trusted node, or undefined. */
  #trustedNodeCredentials(request: SipRequest, source: SipSource | undefined): AuthValue | undefined {
    if (source === undefined || this.trustedNodes.size === 0) return undefined;
    const credentials = authValues(request, 'Authorization').find((a) => a.params['integrity-protected'] === this.#integrityProtected);
    if (credentials === undefined || credentials.params['realm'] !== this.#users.domain) return undefined;
    return this.trustedNodes.trusts(source, request) ? credentials : undefined;
  }

  #challenge(request: SipRequest, stale: boolean): SipResponse {
    const challenge = this.#digest.createChallenge({ realm: this.#users.domain, stale });
    // RFC 7616 §3.3 / RFC 3261 §25.1: a challenge's qop-options is a quoted list (JsSIP ignores a bare qop=auth).
    return answer(request, 401, 'Unauthorized', [['WWW-Authenticate', formatAuth(challenge, { challenge: true })]]);
  }

  /** RFC 3261 §10.3 steps 6-7: `*` removes all; each Contact is added, refreshed or removed. */
  #updateBindings(user: string, request: SipRequest): SipResponse | undefined {
    const requested = contacts(request);
    const headerExpires = expires(request);
    if (requested.some((c) => c.star === true)) {
      // §10.3 step 6: "*" only with Expires: 0 and alone.
      if (requested.length !== 1 || headerExpires !== 0) return answer(request, 400, 'Invalid wildcard Contact');
      this.#location.removeAll(user);
      return undefined;
    }
    const path = getHeaders(request, 'Path');
    const now = this.#now();
    for (const contact of requested) {
      if (contact.star === true) continue;
      const param = getParam(contact.params, 'expires');
      const asked = typeof param === 'string' && /^\d+$/.test(param) ? Number(param) : headerExpires ?? DEFAULT_EXPIRES;
      const seconds = Math.min(asked, MAX_EXPIRES);
      const contactUri = formatUri(contact.uri);
      if (seconds === 0) {
        this.#location.remove(user, contactUri);
        continue;
      }
      this.#location.set(user, {
        contactUri, path, expiresAt: now + seconds * 1000, callId: callId(request), cseq: cseq(request).seq,
      });
    }
    return undefined;
  }

  /** RFC 3261 §10.3 step 8 + RFC 3327 §5.3 + RFC 3608 §6 + RFC 7315 §4.1. */
  #ok(request: SipRequest, user: string): SipResponse {
    const headers: [string, string][] = [];
    for (const binding of this.#location.bindings(user)) {
      headers.push(['Contact', `<${binding.contactUri}>;expires=${this.#location.secondsLeft(binding)}`]);
    }
    for (const path of getHeaders(request, 'Path')) headers.push(['Path', path]);
    const owner = this.#users.byAuthUsername(user);
    if (headers.some(([name]) => name === 'Contact') && owner !== undefined) {
      headers.push(['Service-Route', this.serviceRoute]);
      headers.push(['P-Associated-URI', this.#users.associatedUris(owner).join(', ')]);
    }
    headers.push(['Date', new Date(this.#now()).toUTCString()]);
    return answer(request, 200, 'OK', headers);
  }
}

/** RFC 3261 §8.2.6.2: a UAS response carries a To tag. */
function answer(request: SipRequest, status: number, reason: string, headers: [string, string][] = []): SipResponse {
  return createResponse(request, status, reason, { headers, toTag: generateTag() });
}
