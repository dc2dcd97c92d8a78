import type { Logger } from 'pino';
import type { DialogStore } from '../state/dialog-store.js';
import type { RegistrationStore } from '../state/registration-store.js';
import type { OwnUris } from './own-uris.js';

/** What the P-CSCF procedures share: configuration, our URIs, state and the log. */
export interface PcscfContext {
  readonly nodeId: string;
  /** Home network domain (mw.domain). */
  readonly domain: string;
  /** P-Visited-Network-ID value (R-REG-13). */
  readonly visitedNetworkId: string;
  /** orig-ioi for P-Charging-Vector, when configured. */
  readonly origIoi?: string;
  readonly uris: OwnUris;
  readonly registrations: RegistrationStore;
  readonly dialogs: DialogStore;
  readonly log: Logger;
  readonly now: () => number;
}
