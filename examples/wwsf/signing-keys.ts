/**
 * The WAF's signing keys (TS 33.203 annex U: the WWSF/WAF vouches for the user with a token the
 * eP-CSCF verifies against the keys this service publishes). One current ES256 key signs; after
 * `rotate()` the previous key stays published in the JWKS for a grace period, long enough for the
 * tokens it signed to expire, then disappears (a token signed by it is then refused by the
 * eP-CSCF as "Token key unknown").
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';

export const SIGNING_ALGORITHM = 'ES256';

export interface SigningKey {
  /** RFC 7638 thumbprint of the public key: stable and unique per key. */
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

interface PublishedKey extends SigningKey {
  /** When the key stops being published (undefined: the current key). */
  retiresAt?: number;
}

export class SigningKeys {
  readonly #keys: PublishedKey[] = [];
  readonly #graceMs: number;
  readonly #now: () => number;

  private constructor(graceMs: number, now: () => number) {
    this.#graceMs = graceMs;
    this.#now = now;
  }

  static async create(options: { graceMs: number; now?: () => number }): Promise<SigningKeys> {
    const keys = new SigningKeys(options.graceMs, options.now ?? Date.now);
    keys.#keys.push(await newKey());
    return keys;
  }

  /** The key that signs new tokens. */
  get current(): SigningKey {
    return this.#keys[this.#keys.length - 1] as SigningKey;
  }

  /** A new key signs from now on; the previous ones retire after the grace period. Returns the new kid. */
  async rotate(): Promise<string> {
    const key = await newKey();
    const retiresAt = this.#now() + this.#graceMs;
    for (const old of this.#keys) old.retiresAt ??= retiresAt;
    this.#keys.push(key);
    return key.kid;
  }

  /** RFC 7517 §5: the JWK Set served at /.well-known/jwks.json (public parts only). */
  jwks(): { keys: JWK[] } {
    const now = this.#now();
    for (let i = this.#keys.length - 2; i >= 0; i--) {
      const retiresAt = this.#keys[i]?.retiresAt;
      if (retiresAt !== undefined && retiresAt <= now) this.#keys.splice(i, 1);
    }
    return { keys: this.#keys.map((key) => key.publicJwk) };
  }
}

async function newKey(): Promise<PublishedKey> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
  const exported = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(exported);
  // RFC 7517 §4: kid to pick the key, use "sig", alg pinned so a verifier never guesses.
  return { kid, privateKey, publicJwk: { ...exported, kid, use: 'sig', alg: SIGNING_ALGORITHM } };
}
