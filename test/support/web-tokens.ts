/**
 * A test WWSF/WAF: signing keys (ES256, RS256, EdDSA), their JWKS, and tokens with any claims
 * or header, including the bad ones (alg none, HS256, tampered). Shared by the web-auth tests of
 * every protocol.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export type TestAlg = 'ES256' | 'RS256' | 'EdDSA';

export interface TestKey {
  readonly kid: string;
  readonly alg: TestAlg;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export const TEST_ISSUER = 'https://wwsf.test';
export const TEST_AUDIENCE = 'epcscf.test';

export async function makeKey(alg: TestAlg, kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk };
}

export function jwksOf(keys: readonly TestKey[]): { keys: JWK[] } {
  return { keys: keys.map((k) => k.publicJwk) };
}

export interface TokenOptions {
  readonly key: TestKey;
  /** Claims replacing the defaults; `undefined` values remove a default claim. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Header parameters over { alg, kid, typ: 'JWT' }. */
  readonly header?: Readonly<Record<string, unknown>>;
  /** Seconds; the default token lives 300 s from now. */
  readonly now?: number;
}

/** A token with iss, aud, iat, exp (+300 s), sub and impu (alice), signed by `key`. */
export async function signToken(options: TokenOptions): Promise<string> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: now, exp: now + 300, sub: 'alice@ims.test', impu: 'sip:alice@ims.test',
    ...options.claims,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return new SignJWT(claims as JWTPayload)
    .setProtectedHeader({ alg: options.key.alg, kid: options.key.kid, typ: 'JWT', ...options.header } as { alg: string })
    .sign(options.key.privateKey);
}

/** An unsecured JWT (RFC 7519 §6, `alg: none`): header.payload. with an empty signature. */
export function unsecuredToken(claims: Readonly<Record<string, unknown>>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

/** HS256 with a shared secret (what a confused verifier might accept with the public key as secret). */
export async function hmacToken(claims: Readonly<Record<string, unknown>>, secret = 'not-a-secret-at-all-but-32-bytes!'): Promise<string> {
  return new SignJWT(claims as JWTPayload).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'k-hs' }).sign(new TextEncoder().encode(secret));
}

/** The same token with one claim changed in its payload, the signature kept: a tampered token. */
export function tamper(token: string, claims: Readonly<Record<string, unknown>>): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const changed = { ...JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')), ...claims };
  return `${header}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}.${signature}`;
}

/** Now in JWT NumericDate (seconds). */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export async function writeJwksFile(path: string, keys: readonly TestKey[]): Promise<void> {
  await writeFile(path, JSON.stringify(jwksOf(keys)));
}

/** A JWKS served over HTTP (a WWSF's /.well-known/jwks.json); `keys` may be replaced (rotation). */
export interface JwksServer {
  readonly url: string;
  keys: readonly TestKey[];
  /** GETs served so far. */
  readonly fetches: number;
  /** When false, the server answers 500 (keys unavailable). */
  up: boolean;
  close(): Promise<void>;
}

export async function startJwksServer(keys: readonly TestKey[]): Promise<JwksServer> {
  let fetches = 0;
  const state = { keys, up: true };
  const server: Server = createServer((request, response) => {
    fetches++;
    if (!state.up) {
      response.writeHead(500).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(jwksOf(state.keys)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get keys() { return state.keys; },
    set keys(next) { state.keys = next; },
    get up() { return state.up; },
    set up(next) { state.up = next; },
    get fetches() { return fetches; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
