/**
 * The media-leg audit (issue #11 guard): the IMS-ALG's legs are compared with what may own them
 * — a dialog of the leg's Call-ID on the leg's flow and direction, or a request of that Call-ID
 * still waiting for its final response — and a leg owned by neither, untouched for the grace
 * period, is an orphan: released (table entry and gateway state), logged at warn, counted.
 * Every end of a call attempt already releases its leg (ImsAlg.settle/release); the audit is the
 * net under that rule, so a bookkeeping fault costs ports for minutes, not for ever.
 */
import type { Logger } from 'pino';
import type { DialogStore } from '../state/dialog-store.js';
import type { ImsAlg, MediaLeg } from './alg/ims-alg.js';

export interface MediaLegAuditOptions {
  readonly alg: ImsAlg;
  readonly dialogs: DialogStore;
  /** Call-IDs of forwarded requests still waiting for their final response. */
  readonly pendingCallIds: () => ReadonlySet<string>;
  /** A leg acted on more recently than this is left alone (its transaction may be starting). */
  readonly graceMs: number;
  readonly now: () => number;
  readonly log: Logger;
  /** Each orphan released (metrics). */
  readonly onOrphan: (leg: MediaLeg, ngCallId: string) => void;
}

export class MediaLegAudit {
  readonly #options: MediaLegAuditOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;

  constructor(options: MediaLegAuditOptions) {
    this.#options = options;
  }

  /** One pass; resolves with the number of orphans released. A pass already running is joined. */
  run(): Promise<number> {
    this.#running ??= this.#pass().finally(() => { this.#running = undefined; });
    return this.#running;
  }

  /** Runs a pass every `intervalMs` (0: never). The timer does not keep the process alive. */
  start(intervalMs: number): void {
    this.stop();
    if (!(intervalMs > 0 && Number.isFinite(intervalMs))) return;
    this.#timer = setInterval(() => {
      void this.run().catch((error: unknown) => this.#options.log.error({ err: error }, 'media-leg audit failed'));
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #pass(): Promise<number> {
    const { alg, dialogs, graceMs, now, log, onOrphan } = this.#options;
    const pending = this.#options.pendingCallIds();
    let released = 0;
    for (const view of alg.legs()) {
      const { leg, ngCallId } = view;
      if (now() - view.touchedAt < graceMs || pending.has(leg.callId)) continue;
      const owned = (await dialogs.byCallId(leg.callId)).some((d) => d.flowKey === leg.flowKey && d.direction === leg.direction);
      if (owned) continue;
      // The dialog store may be remote: the leg may have moved on while we asked.
      if (alg.touchedAt(ngCallId) !== view.touchedAt || this.#options.pendingCallIds().has(leg.callId)) continue;
      log.warn({ callId: leg.callId, ngCallId, idleMs: now() - view.touchedAt }, 'orphaned media leg released (no dialog, no pending transaction)');
      await alg.release(leg, 'orphaned (media-leg audit)');
      onOrphan(leg, ngCallId);
      released++;
    }
    return released;
  }
}
