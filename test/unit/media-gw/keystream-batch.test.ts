import t from 'tap';
import { deriveKeys, SrtpRtpProtector, SrtpRtpUnprotector, type SrtpMasterKeys } from '../../../media-gw/srtp/index.js';
import { BATCH_PACKETS, BATCH_SLOT_BYTES } from '../../../media-gw/srtp/keystream-batch.js';
import { PacketCipher } from '../../../media-gw/srtp/packet-cipher.js';

// RFC 3711 Appendix B.3 master key and salt; the per-packet keystream path is checked against the
// RFC's vectors in srtp.test.ts, so each batched result here is compared with it.
const MASTER: SrtpMasterKeys = {
  masterKey: Buffer.from('E1F97A0D3E018BE0D64FA32C06DE4139', 'hex'),
  masterSalt: Buffer.from('0EC675AD498AFEEBB6960B3AABE6', 'hex'),
};
const keys = deriveKeys(MASTER).rtp;

interface Packet {
  readonly ssrc: number;
  /** The 48-bit SRTP packet index (RFC 3711 §3.3.1). */
  readonly index: number;
  readonly length: number;
}

/** Encrypts one payload with the batched and the per-packet cipher; returns both results. */
function cryptBoth(batched: PacketCipher, single: PacketCipher, packet: Packet): [Buffer, Buffer] {
  const payload = Buffer.alloc(12 + packet.length);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + packet.index) & 0xff;
  const a = Buffer.from(payload);
  const b = Buffer.from(payload);
  const high16 = Math.floor(packet.index / 2 ** 32);
  const low32 = packet.index % 2 ** 32;
  batched.crypt(a, 12, a.length, packet.ssrc, high16, low32);
  single.crypt(b, 12, b.length, packet.ssrc, high16, low32);
  return [a, b];
}

t.test('RFC 3711 §4.1.1: keystream computed ahead in batches equals the per-packet keystream', async (t) => {
  const batched = new PacketCipher(keys, { batchKeystream: true });
  const single = new PacketCipher(keys);
  const packets: Packet[] = [];
  // In order across several batch boundaries, with PCMU-sized and Opus-sized payloads.
  for (let i = 0; i < 3 * BATCH_PACKETS + 5; i++) packets.push({ ssrc: 0xcafebabe, index: 1000 + i, length: i % 3 === 0 ? 80 : 160 });
  // Late (reordered) packets behind the current batch, a gap ahead, a payload larger than a slot.
  packets.push({ ssrc: 0xcafebabe, index: 1001, length: 160 }, { ssrc: 0xcafebabe, index: 5000, length: 160 },
    { ssrc: 0xcafebabe, index: 5001, length: BATCH_SLOT_BYTES + 1 }, { ssrc: 0xcafebabe, index: 5002, length: BATCH_SLOT_BYTES });
  // The sequence number wraps (ROC 0 → 1) and the index crosses 2^32 (the IV's high 16 bits).
  for (let i = -3; i < 3; i++) packets.push({ ssrc: 0x11111111, index: 0x10000 + i, length: 160 });
  for (let i = -3; i < 3; i++) packets.push({ ssrc: 0x11111111, index: 2 ** 32 + i, length: 160 });
  // Five SSRCs interleaved (one more than get a batch), and a sender restarting far behind.
  for (let i = 0; i < 2 * BATCH_PACKETS; i++) {
    for (let ssrc = 1; ssrc <= 5; ssrc++) packets.push({ ssrc, index: 7 + i, length: 120 });
  }
  packets.push({ ssrc: 1, index: 3, length: 160 }, { ssrc: 0x11111111, index: 2, length: 160 }, { ssrc: 0x11111111, index: 3, length: 160 });
  let mismatches = 0;
  for (const packet of packets) {
    const [a, b] = cryptBoth(batched, single, packet);
    if (!a.equals(b)) mismatches++;
  }
  t.equal(mismatches, 0, `${packets.length} packets: batched and per-packet keystream agree`);
});

t.test('RFC 3711 §3.3: SRTP protect/unprotect round trip with batched keystream, reordering included', async (t) => {
  const sender = new SrtpRtpProtector(keys);
  const receiver = new SrtpRtpUnprotector(keys);
  const order = [...Array(200).keys()];
  // Swap neighbours every 7 packets: late packets arrive behind the receiver's batch.
  for (let i = 0; i + 1 < order.length; i += 7) [order[i], order[i + 1]] = [order[i + 1] as number, order[i] as number];
  const wire: Buffer[] = [];
  for (let seq = 0; seq < 200; seq++) {
    const rtp = Buffer.alloc(12 + 160, seq & 0xff);
    rtp[0] = 0x80;
    rtp[1] = 0;
    rtp.writeUInt16BE((65500 + seq) & 0xffff, 2); // wraps: ROC 0 → 1 on both sides
    rtp.writeUInt32BE(0x5eed, 8);
    const protectedPacket = sender.protect(rtp);
    if (protectedPacket !== null) wire.push(Buffer.from(protectedPacket));
  }
  t.equal(wire.length, 200, 'every packet protected');
  let recovered = 0;
  for (const at of order) {
    const plain = receiver.unprotect(wire[at] as Buffer);
    if (plain !== null && plain.subarray(12).every((byte) => byte === (at & 0xff))) recovered++;
  }
  t.equal(recovered, 200, 'every packet authenticated and decrypted to its original payload');
  t.same(receiver.drops, { authFailures: 0, replayed: 0, malformed: 0 });
});
