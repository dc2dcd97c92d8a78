/**
 * Short-lived web tokens (TS 24.371 annex A.3.2/A.3.3): a JWT signed with the current ES256 key,
 * its kid in the header, carrying what the eP-CSCF checks — iss, aud, sub (the IMPI), impu (the
 * IMPU granted), iat and exp.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { SIGNING_ALGORITHM } from './signing-keys.js';
import type { SigningKeys } from './signing-keys.js';

export interface TokenGrant {
  /** The IMPI, e.g. alice@ims.test (the token's sub). */
  readonly impi: string;
  /** The IMPU granted, e.g. sip:alice@ims.test. */
  readonly impu: string;
}

export interface IssuedToken extends TokenGrant {
  readonly token: string;
  readonly kid: string;
  /** The token's exp, in ms since the epoch. */
  readonly expiresAt: number;
}

export interface TokenIssuerOptions {
  readonly issuer: string;
  /**
   * The iss of guest tokens (scenario 3). A separate issuer name lets the eP-CSCF bind the guest
   * pool to it (webAuth.issuers[].impuPool) while the named users' tokens stay unrestricted.
   */
  readonly guestIssuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  readonly keys: SigningKeys;
  readonly now?: () => number;
}

export class TokenIssuer {
  readonly #options: TokenIssuerOptions;
  readonly #now: () => number;

  constructor(options: TokenIssuerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get ttlSeconds(): number {
    return this.#options.ttlSeconds;
  }

  /** Signs a token for `grant`; `guest` tokens carry the guest issuer. */
  async issue(grant: TokenGrant, options: { readonly guest?: boolean } = {}): Promise<IssuedToken> {
    const { audience, ttlSeconds, keys } = this.#options;
    const issuer = options.guest === true ? this.#options.guestIssuer : this.#options.issuer;
    const key = keys.current;
    const iat = Math.floor(this.#now() / 1000);
    const exp = iat + ttlSeconds;
    const token = await new SignJWT({ impu: grant.impu })
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: key.kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(grant.impi)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { ...grant, token, kid: key.kid, expiresAt: exp * 1000 };
  }
}
