/**
 * Dialogs that cross the P-CSCF (R-ORIG-9): enough to check mid-dialog requests (R-ORIG-10) and
 * to release a session with BYE toward the IMS when the W2 connection dies.
 */
export interface DialogRecord {
  /** `${callId} ${wicTag}`: the WIC's side of the dialog identifies it for the WIC's flow. */
  readonly id: string;
  readonly callId: string;
  /** The tag of the WIC's side (From tag when it called, To tag when it was called). */
  readonly wicTag: string;
  readonly remoteTag?: string;
  readonly flowKey: string;
  readonly direction: 'originating' | 'terminating';
  readonly method: string;
  readonly state: 'early' | 'confirmed';
  /** The WIC's name-addr (its From or To header value, without tag parameter handling). */
  readonly wicNameAddr: string;
  readonly remoteNameAddr: string;
  /** Where a request to the remote party goes: its Contact URI (RFC 3261 §12.1). */
  readonly remoteTarget: string;
  /**
   * Route values toward the remote party on Mw, our own entries excluded, in sending order: what
   * the IMS recorded (Record-Route of the dialog-creating exchange). Every request the WIC sends
   * in the dialog follows these, whatever Route it wrote itself (R-ORIG-10, issue 11 #2).
   */
  readonly routeSetTowardIms: readonly string[];
  /**
   * `transport:host:port` where the IMS hop that sent the dialog-creating request takes its
   * responses (RFC 3261 §18.2.2, from its Via as received): the one place a stray response of
   * the WIC in this dialog may be relayed to (issue 11 #2). Terminating dialogs only.
   */
  readonly imsHop?: string;
  /** Highest CSeq number the WIC used in this dialog (the WIC's own numbering). */
  readonly wicCseq: number;
  /**
   * The P-CSCF sent requests of its own in this dialog on the WIC's side (DTMF INFO): what to add
   * to the WIC's CSeq numbers toward the IMS (core/pcscf/cseq-offset.ts). Absent: none.
   */
  readonly cseqOffset?: CseqOffset;
  /** Where a request to the WIC goes: its Contact URI (RFC 3261 §12.1). */
  readonly wicTarget?: string;
  /** Highest CSeq number the remote (IMS) party used in this dialog (0: none seen). */
  readonly remoteCseq?: number;
  readonly icid?: string;
  readonly createdAt: number;
}

/** A dialog's WIC-side CSeq offset (RFC 3261 §12.2.1.1; core/pcscf/cseq-offset.ts). */
export interface CseqOffset {
  /** Requests the P-CSCF sent itself on the WIC's side: added to each later WIC request's CSeq. */
  readonly value: number;
  /** The last INVITE that left with an offset: its ACK (and a PRACK's RAck) gets the same one. */
  readonly invite?: { readonly wicSeq: number; readonly offset: number };
}

export interface DialogStore {
  put(dialog: DialogRecord): Promise<void>;
  get(id: string): Promise<DialogRecord | undefined>;
  /** Dialogs with this Call-ID (any tags). */
  byCallId(callId: string): Promise<DialogRecord[]>;
  byFlow(flowKey: string): Promise<DialogRecord[]>;
  remove(id: string): Promise<void>;
  all(): Promise<DialogRecord[]>;
}

export class MemoryDialogStore implements DialogStore {
  readonly #byId = new Map<string, DialogRecord>();

  async put(dialog: DialogRecord): Promise<void> {
    this.#byId.set(dialog.id, dialog);
  }

  async get(id: string): Promise<DialogRecord | undefined> {
    return this.#byId.get(id);
  }

  async byCallId(callId: string): Promise<DialogRecord[]> {
    return [...this.#byId.values()].filter((d) => d.callId === callId);
  }

  async byFlow(flowKey: string): Promise<DialogRecord[]> {
    return [...this.#byId.values()].filter((d) => d.flowKey === flowKey);
  }

  async remove(id: string): Promise<void> {
    this.#byId.delete(id);
  }

  async all(): Promise<DialogRecord[]> {
    return [...this.#byId.values()];
  }
}

export function dialogId(callId: string, wicTag: string): string {
  return `${callId} ${wicTag}`;
}
