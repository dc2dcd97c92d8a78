/**
 * Web-token validation (TS 24.371 §6 scenarios 2/3, R-REG-4, R-REG-10): a JWT from a WWSF/WAF,
 * signed ES256, RS256 or EdDSA by a key of its issuer's JWKS, with iss, aud, exp, iat, sub (the
 * IMPI), impu (the IMPU granted, sip: or tel:) and optionally nbf. The outcome is a grant or
 * exactly one refusal of TOKEN_REFUSAL_REASONS. Tokens are never logged nor kept.
 */
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import type { WebAuthConfig, WebAuthIssuer } from '../config/config-types.js';
import { aorOf } from '../pcscf/own-uris.js';
import { parseUri } from '../sip/index.js';
import { issuerKeySet, type KeyResolver } from './issuer-key-set.js';
import { refusalOfJoseError } from './jose-refusal.js';
import { tokenRefusal, type TokenRefusal } from './token-refusals.js';

/** The only signature algorithms accepted: `none` and HMAC (HS*) never (RFC 8725 §3.1, §3.2). */
const IMPI = /^[^"\\\x00-\x1f\x7f]{1,255}$/;

export const ALLOWED_TOKEN_ALGORITHMS: readonly string[] = ['ES256', 'RS256', 'EdDSA'];

/** What a valid token grants (the flow remembers it; interfaces §1). */
export interface WebTokenGrant {
  /** The issuer entry of the configuration that vouched for the token. */
  readonly issuer: WebAuthIssuer;
  /** `sub`: the IMPI put in the trusted-node Authorization username. */
  readonly impi: string;
  /** `impu` as an AOR (canonical form, as the registrations store them). */
  readonly impu: string;
  /** `exp` in epoch ms. */
  readonly expiresAt: number;
}

export type WebTokenOutcome =
  | { readonly ok: true; readonly grant: WebTokenGrant }
  | { readonly ok: false; readonly refusal: TokenRefusal };

export interface VerifyContext {
  /** The W2 connection's handshake Origin (checked when the issuer lists origins). */
  readonly origin?: string | undefined;
  /** The identity being registered (the To AOR): it must be the token's impu (R-REG-10). */
  readonly impu?: string;
}

export interface WebTokenVerifierOptions {
  readonly now?: () => number;
}

interface IssuerEntry {
  readonly config: WebAuthIssuer;
  readonly keys: KeyResolver;
  /** impuPool as canonical AORs. */
  readonly pool: ReadonlySet<string> | undefined;
  /** origins without a trailing slash, lower case. */
  readonly origins: ReadonlySet<string> | undefined;
}

export class WebTokenVerifier {
  readonly #issuers = new Map<string, IssuerEntry>();
  readonly #skewSeconds: number;
  readonly #now: () => number;

  private constructor(skewSeconds: number, now: () => number) {
    this.#skewSeconds = skewSeconds;
    this.#now = now;
  }

  /** Reads the JWKS files now (a bad one is EPC_ERR_CONFIG_INVALID); URL sets are fetched on first use. */
  static async create(config: WebAuthConfig, options: WebTokenVerifierOptions = {}): Promise<WebTokenVerifier> {
    const verifier = new WebTokenVerifier(config.clockSkewSeconds, options.now ?? Date.now);
    const timing = { cooldownMs: config.jwksCooldownSeconds * 1000, maxAgeMs: config.jwksMaxAgeSeconds * 1000, timeoutMs: config.jwksTimeoutMs };
    for (const issuer of config.issuers) {
      const pool = issuer.impuPool?.map(canonicalImpu).filter((u): u is string => u !== undefined);
      verifier.#issuers.set(issuer.issuer, {
        config: issuer, keys: await issuerKeySet(issuer.jwks, timing),
        pool: pool === undefined ? undefined : new Set(pool),
        origins: issuer.origins === undefined ? undefined : new Set(issuer.origins.map(canonicalOrigin)),
      });
    }
    return verifier;
  }

  /** True when at least one issuer is configured (web authentication is on). */
  get enabled(): boolean {
    return this.#issuers.size > 0;
  }

  get skewMs(): number {
    return this.#skewSeconds * 1000;
  }

  async verify(token: string, context: VerifyContext = {}): Promise<WebTokenOutcome> {
    // Read before verifying only to pick the issuer and refuse a forbidden alg with its own words.
    let alg: unknown;
    let iss: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
      iss = decodeJwt(token).iss;
    } catch {
      return refused('malformed');
    }
    if (typeof alg !== 'string' || !ALLOWED_TOKEN_ALGORITHMS.includes(alg)) return refused('algorithm_not_allowed');
    if (typeof iss !== 'string') return refused('claims_invalid');
    const issuer = this.#issuers.get(iss);
    if (issuer === undefined) return refused('issuer_unknown');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, issuer.keys, {
        issuer: issuer.config.issuer, audience: issuer.config.audience, algorithms: [...ALLOWED_TOKEN_ALGORITHMS],
        clockTolerance: this.#skewSeconds, currentDate: new Date(this.#now()), requiredClaims: ['exp', 'iat', 'sub', 'impu'],
      }));
    } catch (error) {
      return refused(refusalOfJoseError(error));
    }
    const { sub, impu, exp } = payload;
    const granted = typeof impu === 'string' ? canonicalImpu(impu) : undefined;
    // sub becomes a quoted-string on Mw (the trusted-node Authorization username): no quote,
    // backslash or control character (RFC 3261 §25.1).
    if (typeof sub !== 'string' || !IMPI.test(sub) || granted === undefined || typeof exp !== 'number') return refused('claims_invalid');
    if (issuer.origins !== undefined && (context.origin === undefined || !issuer.origins.has(canonicalOrigin(context.origin)))) {
      return refused('origin_not_allowed');
    }
    if (issuer.pool !== undefined && !issuer.pool.has(granted)) return refused('impu_not_in_pool');
    if (context.impu !== undefined && canonicalImpu(context.impu) !== granted) return refused('impu_mismatch');
    return { ok: true, grant: { issuer: issuer.config, impi: sub, impu: granted, expiresAt: exp * 1000 } };
  }
}

function refused(code: Parameters<typeof tokenRefusal>[0]): WebTokenOutcome {
  return { ok: false, refusal: tokenRefusal(code) };
}

/** A sip:/sips:/tel: URI as the AOR registrations are stored under, or undefined. */
export function canonicalImpu(text: string): string | undefined {
  try {
    const uri = parseUri(text);
    if (uri.kind === 'tel') return aorOf(uri);
    if (uri.kind !== 'sip' || uri.user === undefined) return undefined;
    return aorOf(uri);
  } catch {
    return undefined;
  }
}

/** RFC 6454 §6.2: origins compare as ASCII lower case; a trailing slash is tolerated in config. */
function canonicalOrigin(origin: string): string {
  const lower = origin.trim().toLowerCase();
  return lower.endsWith('/') ? lower.slice(0, -1) : lower;
}
