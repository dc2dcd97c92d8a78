/**
 * The dev core's subscribers: a JSON users file (users.json) with user, password and tel alias.
 * A user without a password (the guests of the demo WWSF's pool, scenario 3) can only be
 * registered by a trusted node (web authentication), never with digest.
 */
import { readFile } from 'node:fs/promises';
import { EpcError } from '../../core/errors.js';
import type { Uri } from '../../core/sip/index.js';

export interface DevUser {
  /** The user part of the public identity sip:<user>@<domain>; also the digest username. */
  readonly user: string;
  /** Absent: registered only by a trusted node (R-REG-9), never with digest. */
  readonly password?: string;
  /** A tel URI alias (E.164 with +), returned in P-Associated-URI. */
  readonly tel?: string;
}

export interface DevUsersFile {
  readonly domain: string;
  readonly users: readonly DevUser[];
}

export class UserDirectory {
  readonly domain: string;
  readonly #byUser = new Map<string, DevUser>();
  readonly #byTel = new Map<string, DevUser>();

  constructor(file: DevUsersFile) {
    this.domain = file.domain;
    for (const user of file.users) {
      this.#byUser.set(user.user, user);
      if (user.tel !== undefined) this.#byTel.set(user.tel, user);
    }
  }

  static async load(path: string): Promise<UserDirectory> {
    let data: unknown;
    try {
      data = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new EpcError('EPC_ERR_CONFIG_INVALID', `dev IMS core users file ${path}: ${(error as Error).message}`, { cause: error });
    }
    if (!isUsersFile(data)) {
      throw new EpcError('EPC_ERR_CONFIG_INVALID', `dev IMS core users file ${path}: expected { domain, users: [{ user, password?, tel? }] }`);
    }
    return new UserDirectory(data);
  }

  get users(): readonly DevUser[] {
    return [...this.#byUser.values()];
  }

  /**
   * The user a digest username names. IMS clients often send the private identity
   * (alice@ims.test), simple ones the bare user part: both are accepted.
   */
  byAuthUsername(username: string): DevUser | undefined {
    const at = username.lastIndexOf('@');
    if (at < 0) return this.#byUser.get(username);
    return username.slice(at + 1) === this.domain ? this.#byUser.get(username.slice(0, at)) : undefined;
  }

  /** The user a request URI addresses in our domain (sip:bob@ims.test or tel:+15550002), if any. */
  byUri(uri: Uri): DevUser | undefined {
    if (uri.kind === 'tel') return this.#byTel.get(uri.number);
    if (uri.kind !== 'sip' || uri.user === undefined || uri.host.toLowerCase() !== this.domain) return undefined;
    return this.#byUser.get(uri.user) ?? this.#byTel.get(uri.user);
  }

  /** True when the URI is in our domain (so a miss is 404, not a request for elsewhere). */
  isOurDomain(uri: Uri): boolean {
    return uri.kind === 'tel' || (uri.kind === 'sip' && uri.host.toLowerCase() === this.domain);
  }

  /** TS 24.229 / RFC 7315 §4.1: the identities registered together, SIP URI first. */
  associatedUris(user: DevUser): string[] {
    const uris = [`<sip:${user.user}@${this.domain}>`];
    if (user.tel !== undefined) uris.push(`<tel:${user.tel}>`);
    return uris;
  }
}

function isUsersFile(data: unknown): data is DevUsersFile {
  if (typeof data !== 'object' || data === null) return false;
  const { domain, users } = data as Record<string, unknown>;
  return typeof domain === 'string' && Array.isArray(users) && users.every((u: unknown) =>
    typeof u === 'object' && u !== null
    && typeof (u as Record<string, unknown>)['user'] === 'string'
    && ['string', 'undefined'].includes(typeof (u as Record<string, unknown>)['password'])
    && ['string', 'undefined'].includes(typeof (u as Record<string, unknown>)['tel']));
}
