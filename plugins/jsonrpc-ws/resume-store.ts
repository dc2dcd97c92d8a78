/**
 * Registration resume across WebSocket drops (issue #5): a registered session holds a token;
 * when its connection closes the token is parked for the grace period, and session.resume on a
 * new connection takes it and re-registers with the same +sip.instance (RFC 5626 §4.2: the same
 * instance-id and reg-id replace the old flow's binding at the registrar) and the same
 * credentials, so the client does not ask its user again. Tokens are single-use, random
 * (192 bits) and live in memory only: one store per loaded plugin.
 */
import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from '../../core/contract/index.js';
import type { UaIdentity } from '../../core/contract/index.js';

export interface ResumableRegistration {
  readonly identity: UaIdentity;
  readonly instanceId: string;
  readonly expires?: number;
}

/** The live session that holds a token; told to let go when a new connection takes over. */
export interface ResumeHolder {
  handOver(): void;
}

interface Entry {
  registration: ResumableRegistration;
  holder: ResumeHolder | undefined;
  timer: TimerHandle | undefined;
}

export interface TakenRegistration {
  readonly registration: ResumableRegistration;
  /** Set when the old connection is still open (half-open TCP, a second tab): it must be closed. */
  readonly liveHolder: ResumeHolder | undefined;
}

export class ResumeStore {
  readonly #entries = new Map<string, Entry>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** A new token for a live session's registration. */
  issue(registration: ResumableRegistration, holder: ResumeHolder): string {
    const token = randomBytes(24).toString('base64url');
    this.#entries.set(token, { registration, holder, timer: undefined });
    return token;
  }

  /** The live registration's credential changed (session.updateToken): a resume uses the new one. */
  amend(token: string, registration: ResumableRegistration): void {
    const entry = this.#entries.get(token);
    if (entry !== undefined) entry.registration = registration;
  }

  /** The holder's connection closed: the token stays usable for `graceMs`, then it is void. */
  park(token: string, graceMs: number): void {
    const entry = this.#entries.get(token);
    if (entry === undefined) return;
    entry.holder = undefined;
    if (entry.timer !== undefined) this.#clock.clearTimeout(entry.timer);
    entry.timer = this.#clock.setTimeout(() => this.#entries.delete(token), graceMs);
  }

  /** Single use: removes the token and returns what it resumes, or undefined when unknown/expired. */
  take(token: string): TakenRegistration | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    this.#entries.delete(token);
    if (entry.timer !== undefined) this.#clock.clearTimeout(entry.timer);
    return { registration: entry.registration, liveHolder: entry.holder };
  }

  revoke(token: string): void {
    this.take(token);
  }

  /** Plugin close: every token becomes void. */
  clear(): void {
    for (const entry of this.#entries.values()) if (entry.timer !== undefined) this.#clock.clearTimeout(entry.timer);
    this.#entries.clear();
  }
}
