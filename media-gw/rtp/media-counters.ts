/** Per-direction traffic counters a leg keeps (read by ng `query`, metrics and the idle timer). */
export interface MediaCounters {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** Dropped inbound packets (auth failure, replay, unknown source, malformed). */
  dropped: number;
  /** Date.now() of the last accepted inbound RTP/RTCP packet, 0 before the first. */
  lastPacketAt: number;
}

export function emptyCounters(): MediaCounters {
  return { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, dropped: 0, lastPacketAt: 0 };
}
