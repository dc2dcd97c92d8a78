/** RFC 7983 §7: what a datagram on a WebRTC 5-tuple is, from its first byte. */
export const PacketClass = { stun: 0, dtls: 1, media: 2, unknown: 3 } as const;
export type PacketClass = (typeof PacketClass)[keyof typeof PacketClass];

export function classifyDatagram(first: number): PacketClass {
  if (first <= 3) return PacketClass.stun;
  if (first >= 20 && first <= 63) return PacketClass.dtls;
  if (first >= 128 && first <= 191) return PacketClass.media;
  return PacketClass.unknown;
}
