import type { Cluster } from 'ioredis';

/**
 * The hash slot of a key, as Redis Cluster computes it (Redis Cluster specification, "Keys
 * distribution model" and "Hash tags"): CRC16 (XMODEM) of the key, or of the part between the
 * first `{` and the next `}` when that part is not empty, modulo 16384.
 */
export const SLOT_COUNT = 16_384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] as number);
  return crc;
}

export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(key, 'utf8')) % SLOT_COUNT;
}

/** The masters (`host:port`) that own slots, per a cluster client's slot table. */
export function slotOwners(cluster: Cluster): Set<string> {
  const owners = new Set<string>();
  for (const nodes of cluster.slots) {
    const master = nodes?.[0];
    if (master !== undefined) owners.add(master);
  }
  return owners;
}
