/**
 * RTP fixed-header access on raw Buffers (RFC 3550 §5.1), without parsing into objects: the relay
 * reads and rewrites fields in place.
 *
 *  0                   1                   2                   3
 *  |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *  |                           timestamp                           |
 *  |                             SSRC                              |
 */
export const RTP_FIXED_HEADER_LENGTH = 12;

/**
 * The header length including CSRCs and the extension (RFC 3550 §5.3.1), or -1 when the packet is
 * not version 2 or is shorter than its header says.
 */
export function rtpHeaderLength(packet: Uint8Array, length: number): number {
  if (length < RTP_FIXED_HEADER_LENGTH) return -1;
  const first = packet[0] as number;
  if (first >> 6 !== 2) return -1;
  let headerLength = RTP_FIXED_HEADER_LENGTH + (first & 0x0f) * 4;
  if (first & 0x10) {
    if (length < headerLength + 4) return -1;
    const words = ((packet[headerLength + 2] as number) << 8) | (packet[headerLength + 3] as number);
    headerLength += 4 + words * 4;
  }
  return headerLength <= length ? headerLength : -1;
}

export function rtpPayloadType(packet: Uint8Array): number {
  return (packet[1] as number) & 0x7f;
}

export function rtpMarker(packet: Uint8Array): boolean {
  return ((packet[1] as number) & 0x80) !== 0;
}

export function rtpSequence(packet: Buffer): number {
  return packet.readUInt16BE(2);
}

export function rtpTimestamp(packet: Buffer): number {
  return packet.readUInt32BE(4);
}

export function rtpSsrc(packet: Buffer): number {
  return packet.readUInt32BE(8);
}

export function setRtpSequence(packet: Buffer, seq: number): void {
  packet.writeUInt16BE(seq & 0xffff, 2);
}

export function setRtpTimestamp(packet: Buffer, timestamp: number): void {
  packet.writeUInt32BE(timestamp >>> 0, 4);
}

export function setRtpSsrc(packet: Buffer, ssrc: number): void {
  packet.writeUInt32BE(ssrc >>> 0, 8);
}

/**
 * RFC 5761 §4 / RFC 7983 §7: on a muxed port, RTCP packet types 192–223 occupy the second byte's
 * range that RTP payload types 64–95 (with or without marker) would; RTP must avoid those PTs.
 */
export function isRtcpPacket(packet: Uint8Array, length: number): boolean {
  if (length < 8) return false;
  const type = packet[1] as number;
  return type >= 192 && type <= 223;
}
