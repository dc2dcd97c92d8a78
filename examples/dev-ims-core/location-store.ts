/** Registered contacts per user (RFC 3261 §10.3 bindings), with the Path they came through (RFC 3327). */
export interface Binding {
  /** The Contact URI as registered: the Request-URI of requests for this binding. */
  readonly contactUri: string;
  /** Path header values in order (RFC 3327 §5.3: used as the Route set toward the contact). */
  readonly path: readonly string[];
  readonly expiresAt: number;
  readonly callId: string;
  readonly cseq: number;
}

export class LocationStore {
  readonly #byUser = new Map<string, Map<string, Binding>>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Live bindings of a user (expired ones are forgotten on the way). */
  bindings(user: string): Binding[] {
    const map = this.#byUser.get(user);
    if (map === undefined) return [];
    const now = this.#now();
    for (const [key, binding] of map) if (binding.expiresAt <= now) map.delete(key);
    if (map.size === 0) this.#byUser.delete(user);
    return [...map.values()];
  }

  get(user: string, contactUri: string): Binding | undefined {
    return this.bindings(user).find((b) => b.contactUri === contactUri);
  }

  set(user: string, binding: Binding): void {
    let map = this.#byUser.get(user);
    if (map === undefined) this.#byUser.set(user, map = new Map());
    map.set(binding.contactUri, binding);
  }

  remove(user: string, contactUri: string): void {
    this.#byUser.get(user)?.delete(contactUri);
  }

  removeAll(user: string): void {
    this.#byUser.delete(user);
  }

  /** Seconds left on a binding, for the Contact expires in the 200 OK. */
  secondsLeft(binding: Binding): number {
    return Math.max(0, Math.round((binding.expiresAt - this.#now()) / 1000));
  }
}
