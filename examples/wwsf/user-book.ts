/**
 * The WWSF's own users (examples/wwsf/users.json): a web login name, its password and display
 * name, in one IMS domain, plus the guest IMPU pool. The demo users have the same passwords as in
 * the dev IMS core, so the WIC's digest mode works with what the user typed at the web login.
 * The identities: IMPI `<user>@<domain>`, IMPU `sip:<user>@<domain>` (TS 23.228 §4.3.3).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../core/cli/package-root.js';
import { EpcError } from '../../core/errors.js';

/** The users file shipped with the example: alice, bob, carol @ ims.test and guest1..5. */
// From the package root, not this module: a build (dist/) has no JSON data beside the code.
export const DEFAULT_WWSF_USERS_FILE = join(packageRoot(), 'examples', 'wwsf', 'users.json');

export interface WwsfUser {
  readonly user: string;
  readonly password: string;
  readonly displayName: string;
}

export interface WwsfUsersFile {
  readonly domain: string;
  readonly users: readonly WwsfUser[];
  /** Scenario 3: the IMPUs a guest login gets (sip: or tel: URIs). */
  readonly guestPool: readonly string[];
}

export interface WebIdentity {
  readonly impi: string;
  readonly impu: string;
  readonly displayName: string;
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export class UserBook {
  readonly domain: string;
  readonly guestPool: readonly string[];
  readonly #users: Map<string, WwsfUser>;

  constructor(file: WwsfUsersFile) {
    this.domain = file.domain;
    this.guestPool = file.guestPool;
    this.#users = new Map(file.users.map((u) => [u.user, u]));
  }

  static async load(path: string = DEFAULT_WWSF_USERS_FILE): Promise<UserBook> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new EpcError('EPC_ERR_CONFIG_INVALID', `${path}: cannot read the WWSF users file: ${(error as Error).message}`, { cause: error });
    }
    return new UserBook(checkUsersFile(parsed, path));
  }

  get users(): readonly WwsfUser[] {
    return [...this.#users.values()];
  }

  /** The identity of `user` when `password` is theirs; undefined otherwise (same time either way). */
  authenticate(user: string, password: string): WebIdentity | undefined {
    const known = this.#users.get(user);
    const ok = timingSafeEqual(digest(password), digest(known?.password ?? '\u0000no such user'));
    if (known === undefined || !ok) return undefined;
    return { impi: `${known.user}@${this.domain}`, impu: `sip:${known.user}@${this.domain}`, displayName: known.displayName };
  }
}

/** A guest's identity from its pooled IMPU: sip:guest1@ims.test → IMPI guest1@ims.test. */
export function guestIdentity(impu: string): WebIdentity {
  const address = impu.replace(/^(sip|tel):/, '');
  const name = address.split('@')[0] ?? address;
  return { impi: address.includes('@') ? address : `${address}@guest`, impu, displayName: `Guest (${name})` };
}

function checkUsersFile(value: unknown, path: string): WwsfUsersFile {
  const problem = (what: string): EpcError => new EpcError('EPC_ERR_CONFIG_INVALID', `${path}: ${what}`);
  if (typeof value !== 'object' || value === null) throw problem('expected an object { domain, users, guestPool }');
  const { domain, users, guestPool } = value as Record<string, unknown>;
  if (typeof domain !== 'string' || domain === '') throw problem('domain: expected a domain name');
  if (!Array.isArray(users)) throw problem('users: expected a list of { user, password, displayName }');
  users.forEach((u: unknown, i) => {
    const entry = u as Record<string, unknown> | null;
    if (typeof entry?.['user'] !== 'string' || typeof entry['password'] !== 'string' || typeof entry['displayName'] !== 'string') {
      throw problem(`users[${i}]: expected { user, password, displayName } strings`);
    }
    if (entry['user'] === 'guest') throw problem(`users[${i}]: "guest" is the scenario 3 login, not a user name`);
  });
  const pool = guestPool ?? [];
  if (!Array.isArray(pool) || !pool.every((impu) => typeof impu === 'string' && /^(sip|tel):\S+$/.test(impu))) {
    throw problem('guestPool: expected a list of sip: or tel: URIs');
  }
  return { domain, users: users as WwsfUser[], guestPool: pool as string[] };
}
