import { MAX_PACKET_LENGTH } from './profile.js';

/**
 * A ring of preallocated packet buffers for output that cannot be written in place (SRTP protect
 * grows the packet by the tag). A returned buffer stays valid for `slots - 1` further calls; the
 * relay hands it to dgram `send()`, which in Node tries a synchronous send first and copies
 * nothing, so a deep ring is enough for the queue of a loaded socket.
 */
export class OutputRing {
  readonly #slots: Buffer[];
  #next = 0;

  constructor(slots = 16, slotLength = MAX_PACKET_LENGTH + 32) {
    const slab = Buffer.allocUnsafeSlow(slots * slotLength);
    this.#slots = Array.from({ length: slots }, (_, i) => slab.subarray(i * slotLength, (i + 1) * slotLength));
  }

  take(): Buffer {
    const slot = this.#slots[this.#next] as Buffer;
    this.#next = (this.#next + 1) % this.#slots.length;
    return slot;
  }
}

/**
 * One ring per thread, shared by every session: JavaScript runs one packet at a time, so 256
 * slots give each packet ample time to leave before its slot is reused, at 0.5 MB per thread
 * instead of a ring per call.
 */
export const sharedOutputRing = new OutputRing(256);
