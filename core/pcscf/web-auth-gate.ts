/**
 * Web authentication at the P-CSCF (TS 24.371 scenarios 2/3, R-REG-1..10): which REGISTERs are
 * trusted-node registrations, which tokens are refused, and what a flow remembers of the grant.
 *
 * - A REGISTER with a Bearer token (either form, R-REG-2) is validated; the registering
 *   identity (To) must be the token's impu (R-REG-10). Refused: 403 with the table's reason.
 * - A flow remembers each grant per AOR {issuer, impi, impu, expiresAt}. A later REGISTER for
 *   that AOR on that flow (refresh, fetch, de-registration) stays a trusted-node one, with or
 *   without the token again.
 * - Token expiry (design choice, issuer option `expiryEndsRegistration`, default false): an
 *   expired token does not cut a live registration short — refreshes on its flow go on — but
 *   new initial requests get 403 Token expired (R-REG-3). With the option, refreshes are refused
 *   and the registration is ended at expiry (the caller de-registers on Mw).
 * Requests without a Bearer token on a flow without grants cost one header scan, no await.
 */
import { createHash } from 'node:crypto';
import { contacts, expires, getParam, to, type ContactBinding, type SipRequest } from '../sip/index.js';
import { bearerTokenOf, tokenRefusal, type TokenRefusal, type WebTokenGrant, type WebTokenVerifier } from '../webauth/index.js';
import { aorOf } from './own-uris.js';
import type { W2Flow } from './w2-flows.js';

/** What a flow remembers of one web-authenticated AOR. */
export interface FlowWebGrant {
  grant: WebTokenGrant;
  /** SHA-256 of the token that made the grant (the token itself is never kept). */
  tokenDigest: string;
  /** expiryEndsRegistration: fires at expiresAt + skew. */
  timer: NodeJS.Timeout | undefined;
}

export type RegisterDecision =
  | { readonly kind: 'digest' }
  | { readonly kind: 'trusted'; readonly grant: WebTokenGrant; readonly tokenDigest: string }
  | { readonly kind: 'refused'; readonly refusal: TokenRefusal };

const DIGEST: RegisterDecision = { kind: 'digest' };
/** setTimeout takes at most 2^31-1 ms; a grant further out is checked again then. */
const MAX_TIMER_MS = 2_147_000_000;

export interface WebAuthGateOptions {
  readonly verifier: WebTokenVerifier;
  readonly now: () => number;
  /** A token was validated and accepted (metrics). */
  readonly onAccepted?: () => void;
  /** expiryEndsRegistration: the grant of `aor` on `flow` expired; the caller de-registers it. */
  readonly onGrantExpired: (flow: W2Flow, aor: string) => void;
}

export class WebAuthGate {
  readonly #options: WebAuthGateOptions;

  constructor(options: WebAuthGateOptions) {
    this.#options = options;
  }

  /** The REGISTER's fate: scenario 1 (digest, forwarded as is), trusted node, or refused. */
  async register(request: SipRequest, flow: W2Flow): Promise<RegisterDecision> {
    const bearer = bearerTokenOf(request);
    const held = flow.webAuth?.get(aorOf(to(request).uri));
    if (bearer.kind === 'none') {
      if (held === undefined) return DIGEST;
      if (held.grant.issuer.expiryEndsRegistration && this.#expired(held.grant) && !isDeregistration(request)) return refused('expired');
      return { kind: 'trusted', grant: held.grant, tokenDigest: held.tokenDigest };
    }
    const { verifier } = this.#options;
    if (!verifier.enabled) return refused('issuer_unknown');
    if (bearer.kind === 'malformed') return refused('malformed');
    const outcome = await verifier.verify(bearer.token, { origin: flow.connection.origin, impu: aorOf(to(request).uri) });
    const tokenDigest = digestOf(bearer.token);
    if (outcome.ok) {
      this.#options.onAccepted?.();
      return { kind: 'trusted', grant: outcome.grant, tokenDigest };
    }
    // The token that made this flow's registration, expired since: the registration lives on
    // (refresh) unless the issuer says expiry ends it; a de-registration always passes.
    const sameToken = held !== undefined && held.tokenDigest === tokenDigest;
    if (outcome.refusal.code === 'expired' && sameToken && (!held.grant.issuer.expiryEndsRegistration || isDeregistration(request))) {
      return { kind: 'trusted', grant: held.grant, tokenDigest };
    }
    return { kind: 'refused', refusal: outcome.refusal };
  }

  /**
   * After a 200 to a trusted-node REGISTER: the flow remembers the grant while `stillRegistered`
   * (bindings of the AOR remain on the flow), and forgets it after a de-registration.
   */
  registered(flow: W2Flow, aor: string, decision: Extract<RegisterDecision, { kind: 'trusted' }>, stillRegistered: boolean): void {
    const grants = (flow.webAuth ??= new Map());
    const previous = grants.get(aor);
    if (previous?.timer !== undefined) clearTimeout(previous.timer);
    if (!stillRegistered) {
      grants.delete(aor);
      return;
    }
    const held: FlowWebGrant = { grant: decision.grant, tokenDigest: decision.tokenDigest, timer: undefined };
    grants.set(aor, held);
    if (decision.grant.issuer.expiryEndsRegistration) this.#armExpiry(flow, aor, held);
  }

  /**
   * R-REG-3 for an initial request from a registered WIC: a Bearer token, if any, is validated
   * and refreshes the grant it names; without one, the grant of the serving AOR must not have
   * expired. Resolves with the refusal, or undefined to go on (the caller strips the token, R-REG-5).
   */
  async initialRequest(request: SipRequest, flow: W2Flow, servingAor: string): Promise<TokenRefusal | undefined> {
    const bearer = bearerTokenOf(request);
    const grants = flow.webAuth;
    if (bearer.kind === 'none') {
      const held = grants?.get(servingAor);
      return held !== undefined && this.#expired(held.grant) ? tokenRefusal('expired') : undefined;
    }
    const { verifier } = this.#options;
    // A token toward an eP-CSCF without web authentication is only stripped (scenario 1 flows).
    if (!verifier.enabled && grants === undefined) return undefined;
    if (bearer.kind === 'malformed') return tokenRefusal('malformed');
    // The token this flow already holds a grant for (a UA repeats it on every initial request):
    // its signature, issuer, audience and origin were checked; only its lifetime can change.
    const known = grants?.get(servingAor);
    if (known !== undefined && known.tokenDigest === digestOf(bearer.token)) return this.#expired(known.grant) ? tokenRefusal('expired') : undefined;
    const outcome = await verifier.verify(bearer.token, { origin: flow.connection.origin });
    if (!outcome.ok) return outcome.refusal;
    this.#options.onAccepted?.();
    const held = grants?.get(outcome.grant.impu);
    if (held !== undefined && held.grant.issuer === outcome.grant.issuer && held.grant.impi === outcome.grant.impi) {
      held.grant = outcome.grant;
      held.tokenDigest = digestOf(bearer.token);
      if (held.timer !== undefined) {
        clearTimeout(held.timer);
        this.#armExpiry(flow, outcome.grant.impu, held);
      }
    }
    return undefined;
  }

  /** The flow is released: its expiry timers stop (the caller de-registers its bindings). */
  flowReleased(flow: W2Flow): void {
    for (const held of flow.webAuth?.values() ?? []) if (held.timer !== undefined) clearTimeout(held.timer);
    flow.webAuth = undefined;
  }

  #expired(grant: WebTokenGrant): boolean {
    return this.#options.now() > grant.expiresAt + this.#options.verifier.skewMs;
  }

  #armExpiry(flow: W2Flow, aor: string, held: FlowWebGrant): void {
    const due = held.grant.expiresAt + this.#options.verifier.skewMs - this.#options.now();
    held.timer = setTimeout(() => {
      held.timer = undefined;
      if (flow.webAuth?.get(aor) !== held) return;
      if (!this.#expired(held.grant)) {
        this.#armExpiry(flow, aor, held);
        return;
      }
      flow.webAuth.delete(aor);
      this.#options.onGrantExpired(flow, aor);
    }, Math.min(Math.max(due + 1, 0), MAX_TIMER_MS));
    held.timer.unref();
  }
}

function refused(code: Parameters<typeof tokenRefusal>[0]): RegisterDecision {
  return { kind: 'refused', refusal: tokenRefusal(code) };
}

function digestOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** RFC 3261 §10.2.2: every Contact with expiry 0 (or `*`). A fetch (no Contact) is not one. */
function isDeregistration(request: SipRequest): boolean {
  const list = contacts(request);
  if (list.length === 0) return false;
  const headerExpires = expires(request);
  return list.every((c) => {
    if ('star' in c && c.star) return true;
    const param = getParam((c as ContactBinding).params, 'expires');
    return (typeof param === 'string' ? Number(param) : headerExpires) === 0;
  });
}
