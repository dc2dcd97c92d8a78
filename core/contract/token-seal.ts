/**
 * Secrets a plugin keeps in `host.state` for a client that holds a token (a resume token, an
 * XEP-0198 stream id): shared state (Redis) never holds them in clear and never holds the token.
 *  - the entry is stored under `stateKeyOf(token)` = SHA-256(token): the store names the entry
 *    without being able to present the token;
 *  - the secret is sealed with AES-256-GCM under a key derived from the token with HKDF-SHA256
 *    (RFC 5869), so only a client presenting the token opens it; `context` (e.g. the plugin and
 *    the storage key) is bound as additional data, so a sealed value moved elsewhere fails.
 * The token must be unguessable (≥ 128 random bits): it is the only key material.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
/** RFC 5869 §3.1: a fixed, public salt is fine for a high-entropy input key. */
const HKDF_SALT = 'epcscf host.state token-seal';
const HKDF_INFO = 'aes-256-gcm v1';
/** NIST SP 800-38D §8.2: a 96-bit random IV per sealing. */
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The storage key of a token's entry: SHA-256(token), base64url. */
export function stateKeyOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** `plaintext` sealed under `token` (a fresh IV each time): `v1.<iv>.<tag>.<ciphertext>`, base64url. */
export function sealUnderToken(token: string, plaintext: string, context: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyOf(token), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
}

/** The plaintext, or undefined when `token` or `context` is not the sealing one or `sealed` was altered. */
export function openUnderToken(token: string, sealed: string, context: string): string | undefined {
  const [version, iv, tag, ciphertext, extra] = sealed.split('.');
  if (version !== VERSION || iv === undefined || tag === undefined || ciphertext === undefined || extra !== undefined) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(token), Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return undefined; // the GCM tag does not verify: wrong token, wrong context or altered data
  }
}

function keyOf(token: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(token, 'utf8'), HKDF_SALT, HKDF_INFO, 32));
}
