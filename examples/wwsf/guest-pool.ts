/**
 * Scenario 3 (TS 24.371 §6, annex A.3.3): a "guest" web login gets an IMPU the WWSF owns from a
 * pool rather than one of its own. An IMPU is leased for the lifetime of the token that carries it
 * (the eP-CSCF accepts the token until then), and free again once that token has expired.
 */
export class GuestPool {
  readonly #leasedUntil: Map<string, number>;
  readonly #now: () => number;

  constructor(impus: readonly string[], now: () => number = Date.now) {
    this.#leasedUntil = new Map(impus.map((impu) => [impu, 0]));
    this.#now = now;
  }

  get impus(): readonly string[] {
    return [...this.#leasedUntil.keys()];
  }

  /** The first free IMPU, now leased until `until` (ms epoch); undefined when all are taken. */
  lease(until: number): string | undefined {
    const now = this.#now();
    for (const [impu, leasedUntil] of this.#leasedUntil) {
      if (leasedUntil <= now) {
        this.#leasedUntil.set(impu, until);
        return impu;
      }
    }
    return undefined;
  }

  /** IMPUs leased right now. */
  leased(): string[] {
    const now = this.#now();
    return [...this.#leasedUntil].filter(([, until]) => until > now).map(([impu]) => impu);
  }
}
