/**
 * Where the signing keys of one issuer come from (RFC 7517 §5 JWK Set), as a jose key resolver:
 * - a URL: jose's remote set — cached, re-fetched when older than `maxAge` and when a token
 *   names a kid it lacks (at most once per `cooldown`): the issuer rotates keys without our restart;
 * - a file: read at start; when a token names a kid the set lacks and the file changed since,
 *   it is read again (rotation by replacing the file).
 * A key set that cannot be obtained (fetch failed, timed out, not a JWKS) raises
 * KeysUnavailableError: that is `503 Token keys unavailable`, not the client's fault.
 */
import { readFile, stat } from 'node:fs/promises';
import { createLocalJWKSet, createRemoteJWKSet, errors, type CryptoKey, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';
import { EpcError } from '../errors.js';
import type { JwksSource } from '../config/config-types.js';

/** The jose key resolver jwtVerify takes (a function of the protected header). */
export type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

export interface RemoteKeySetTiming {
  readonly cooldownMs: number;
  readonly maxAgeMs: number;
  readonly timeoutMs: number;
}

/** The issuer's keys could not be obtained (fetch failed, timed out, invalid JWKS). */
export class KeysUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the issuer\'s JWKS could not be obtained', { cause });
    this.name = 'KeysUnavailableError';
  }
}

/** Errors that mean "no key fits this token": the caller maps them to key/signature refusals. */
function isKeySelectionError(error: unknown): boolean {
  return error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys
    || error instanceof errors.JOSENotSupported || error instanceof errors.JOSEAlgNotAllowed;
}

export async function issuerKeySet(source: JwksSource, timing: RemoteKeySetTiming): Promise<KeyResolver> {
  if ('url' in source) return remoteKeySet(source.url, timing);
  return fileKeySet(source.file);
}

function remoteKeySet(url: string, timing: RemoteKeySetTiming): KeyResolver {
  const remote = createRemoteJWKSet(new URL(url), {
    cooldownDuration: timing.cooldownMs, cacheMaxAge: timing.maxAgeMs, timeoutDuration: timing.timeoutMs,
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (isKeySelectionError(error)) throw error;
      throw new KeysUnavailableError(error);
    }
  };
}

async function fileKeySet(file: string): Promise<KeyResolver> {
  let loaded = await readJwksFile(file);
  let local = createLocalJWKSet(loaded.jwks);
  let reloading: Promise<void> | undefined;
  const reloadIfChanged = async (): Promise<boolean> => {
    const before = loaded.mtimeMs;
    reloading ??= (async () => {
      try {
        const { mtimeMs } = await stat(file);
        if (mtimeMs === loaded.mtimeMs) return;
        loaded = await readJwksFile(file);
        local = createLocalJWKSet(loaded.jwks);
      } finally {
        reloading = undefined;
      }
    })();
    await reloading;
    return loaded.mtimeMs !== before;
  };
  return async (header, token) => {
    try {
      return await local(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      let changed: boolean;
      try {
        changed = await reloadIfChanged();
      } catch (readError) {
        throw new KeysUnavailableError(readError);
      }
      if (!changed) throw error;
      return local(header, token);
    }
  };
}

async function readJwksFile(file: string): Promise<{ jwks: JSONWebKeySet; mtimeMs: number }> {
  try {
    const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    const jwks = JSON.parse(text) as unknown;
    if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
      throw new Error('not a JWK Set (RFC 7517 §5: an object with a "keys" array)');
    }
    return { jwks: jwks as JSONWebKeySet, mtimeMs: info.mtimeMs };
  } catch (error) {
    throw new EpcError('EPC_ERR_CONFIG_INVALID', `webAuth JWKS file ${file}: ${(error as Error).message}`, { cause: error });
  }
}
