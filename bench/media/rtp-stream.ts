/**
 * One direction of one bench call: the RTP packets a load endpoint sends (PCMU, 20 ms, 160-byte
 * payloads, RFC 3551 §4.5.14) and what the opposite endpoint measures on them. Each payload
 * carries its send time and a per-stream packet counter, so the receiver needs no shared state
 * with the sender beyond this object: the counter gives loss over the measured window (packets
 * missing from the range sent in it), the send time gives one-way latency through the gateway
 * on the one clock of this process.
 *
 * Hot path: one preallocated packet per stream, rewritten in place; samples go into one
 * preallocated Float64Array per window (no per-packet allocation in the generator).
 */
import { performance } from 'node:perf_hooks';

export const RTP_HEADER_LENGTH = 12;
/** RFC 3551: PCMU at 8 kHz, 20 ms per packet = 160 samples = 160 bytes. */
export const PCMU_PAYLOAD_LENGTH = 160;
export const PCMU_PAYLOAD_TYPE = 0;
export const PACKET_INTERVAL_MS = 20;
const SAMPLES_PER_PACKET = 160;
/** Offsets inside the payload: float64 send time (ms, performance.now()), uint32 counter. */
const SENT_AT = 0;
const COUNTER = 8;
const STAMP_LENGTH = 12;
/** μ-law silence, so that a gateway looking at the payload sees plausible audio. */
const PCMU_SILENCE = 0xff;

/** Latency samples of one measured window, in milliseconds. */
export class LatencySamples {
  #values: Float64Array;
  #count = 0;

  constructor(expected: number) {
    this.#values = new Float64Array(Math.max(1024, expected));
  }

  push(ms: number): void {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count++] = ms;
  }

  get count(): number {
    return this.#count;
  }

  /** Nearest-rank percentiles. */
  summary(): LatencySummary {
    const sorted = this.#values.slice(0, this.#count).sort();
    const at = (q: number): number => round3(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0);
    let sum = 0;
    for (const value of sorted) sum += value;
    return {
      count: sorted.length, p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), p999Ms: at(0.999),
      maxMs: round3(sorted[sorted.length - 1] ?? 0), meanMs: round3(sorted.length > 0 ? sum / sorted.length : 0),
    };
  }
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The window every stream measures against; `samples` is replaced at each window. */
export class MeasurementWindow {
  samples = new LatencySamples(0);
  open = false;
}

export class RtpStream {
  /** The packet, rewritten in place before each send. */
  readonly packet = Buffer.alloc(RTP_HEADER_LENGTH + PCMU_PAYLOAD_LENGTH, PCMU_SILENCE);
  /** Packets sent so far (the counter of the next one). */
  sent = 0;
  /** Packets of the window's counter range that arrived. */
  received = 0;
  /** Packets that arrived with a counter lower than one already seen (reordered). */
  reordered = 0;
  #windowFrom = Number.POSITIVE_INFINITY;
  #windowTo = Number.POSITIVE_INFINITY;
  #highest = -1;
  #sequence: number;
  #timestamp: number;

  constructor(readonly ssrc: number, readonly window: MeasurementWindow) {
    this.packet[0] = 0x80; // RFC 3550 §5.1: V=2, no padding, no extension, no CSRC
    this.packet[1] = PCMU_PAYLOAD_TYPE;
    this.packet.writeUInt32BE(ssrc >>> 0, 8);
    this.#sequence = ssrc & 0x7fff; // RFC 3550 §5.1: the initial sequence number is random
    this.#timestamp = (ssrc * 7) >>> 0;
  }

  /** Writes the next packet's header fields and stamp; returns the packet. */
  next(): Buffer {
    const packet = this.packet;
    this.#sequence = (this.#sequence + 1) & 0xffff;
    this.#timestamp = (this.#timestamp + SAMPLES_PER_PACKET) >>> 0;
    packet.writeUInt16BE(this.#sequence, 2);
    packet.writeUInt32BE(this.#timestamp, 4);
    packet.writeDoubleLE(performance.now(), RTP_HEADER_LENGTH + SENT_AT);
    packet.writeUInt32LE(this.sent++, RTP_HEADER_LENGTH + COUNTER);
    return packet;
  }

  /** Starts counting: packets from the next one sent on belong to the window. */
  openWindow(): void {
    this.#windowFrom = this.sent;
    this.#windowTo = Number.POSITIVE_INFINITY;
    this.received = 0;
    this.reordered = 0;
  }

  /** Packets sent from here on no longer belong to the window (late arrivals of earlier ones still count). */
  closeWindow(): void {
    this.#windowTo = this.sent;
  }

  /** Packets sent inside the window. */
  get expected(): number {
    return Number.isFinite(this.#windowFrom) && Number.isFinite(this.#windowTo) ? this.#windowTo - this.#windowFrom : 0;
  }

  /** A packet of this stream arrived; `payloadAt` is where its payload starts in `data`. */
  onReceived(data: Buffer, payloadAt: number, length: number): void {
    if (length - payloadAt < STAMP_LENGTH) return;
    const counter = data.readUInt32LE(payloadAt + COUNTER);
    if (counter < this.#highest) this.reordered++; else this.#highest = counter;
    if (counter < this.#windowFrom || counter >= this.#windowTo) return;
    this.received++;
    this.window.samples.push(performance.now() - data.readDoubleLE(payloadAt + SENT_AT));
  }
}
