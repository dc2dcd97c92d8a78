import t from 'tap';
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { HmacSha1 } from '../../../media-gw/srtp/hmac-sha1.js';
import { PacketAuthenticator } from '../../../media-gw/srtp/packet-auth.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function digestOf(hmac: HmacSha1, data: Uint8Array, length: number, trailer?: number): string {
  hmac.compute(data, length, trailer);
  const out = Buffer.alloc(20);
  hmac.writeDigest(out, 0, 20);
  return out.toString('hex');
}

// RFC 2202 §3: HMAC-SHA-1 test cases 1-7 (6 and 7 use an 80-byte key, hashed first per RFC 2104 §2).
const RFC_2202: readonly [key: Buffer, data: Buffer, digest: string][] = [
  [Buffer.alloc(20, 0x0b), Buffer.from('Hi There'), 'b617318655057264e28bc0b6fb378c8ef146be00'],
  [Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79'],
  [Buffer.alloc(20, 0xaa), Buffer.alloc(50, 0xdd), '125d7342b9ac11cd91a39af48aa17b4f63f175d3'],
  [hex('0102030405060708090a0b0c0d0e0f10111213141516171819'), Buffer.alloc(50, 0xcd), '4c9007f4026250c6bc8414f9bf50c86c2d7235da'],
  [Buffer.alloc(20, 0x0c), Buffer.from('Test With Truncation'), '4c1a03424b55e07fe7f27be1d58bb9324a9a5a04'],
  [Buffer.alloc(80, 0xaa), Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'), 'aa4ae5e15272d00e95705637ce8a3b55ed402112'],
  [Buffer.alloc(80, 0xaa), Buffer.from('Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data'), 'e8e99d0f45237d786d6bbaa7965c7808bbff1a91'],
];

t.test('RFC 2202 §3: the HMAC-SHA-1 test vectors', async (t) => {
  RFC_2202.forEach(([key, data, digest], index) => {
    t.equal(digestOf(new HmacSha1(key), data, data.length), digest, `test case ${index + 1}`);
  });
});

t.test('RFC 2104 / RFC 3711 §4.2: equals node:crypto HMAC-SHA1 over data || ROC for every length around the block edges', async (t) => {
  const key = hex('CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4');
  const hmac = new HmacSha1(key);
  const data = Buffer.alloc(300);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + 11) & 0xff;
  let mismatches = 0;
  for (let length = 0; length <= 260; length++) {
    const roc = Buffer.alloc(4);
    roc.writeUInt32BE((length * 0x01010101) >>> 0);
    const withRoc = createHmac('sha1', key).update(data.subarray(0, length)).update(roc).digest('hex');
    const without = createHmac('sha1', key).update(data.subarray(0, length)).digest('hex');
    if (digestOf(hmac, data, length, roc.readUInt32BE(0)) !== withRoc) mismatches++;
    if (digestOf(hmac, data, length) !== without) mismatches++;
  }
  t.equal(mismatches, 0, 'lengths 0..260, with and without the 32-bit trailer');
});

t.test('RFC 2104: random keys, messages and trailers agree with node:crypto', async (t) => {
  fc.assert(fc.property(
    fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.uint8Array({ maxLength: 400 }), fc.option(fc.nat({ max: 0xffffffff }), { nil: undefined }),
    (key, data, trailer) => {
      const reference = createHmac('sha1', key).update(data);
      if (trailer !== undefined) {
        const word = Buffer.alloc(4);
        word.writeUInt32BE(trailer);
        reference.update(word);
      }
      return digestOf(new HmacSha1(key), data, data.length, trailer) === reference.digest('hex');
    },
  ), { numRuns: 300 });
  t.pass('300 random cases');
});

t.test('RFC 3711 §4.2.1: the 80-bit tag is written after the data and any flipped tag bit fails verification', async (t) => {
  const key = hex('CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4');
  const auth = new PacketAuthenticator(key);
  const packet = Buffer.alloc(182, 0x5a);
  auth.sign(packet, 172, 3);
  const roc = Buffer.from([0, 0, 0, 3]);
  const expected = createHmac('sha1', key).update(packet.subarray(0, 172)).update(roc).digest().subarray(0, 10);
  t.equal(packet.subarray(172).toString('hex'), expected.toString('hex'));
  t.ok(auth.verify(packet, 172, 3));
  t.notOk(auth.verify(packet, 172, 4), 'another ROC is another tag');
  for (let bit = 0; bit < 80; bit++) {
    const tampered = Buffer.from(packet);
    tampered[172 + (bit >> 3)] = (tampered[172 + (bit >> 3)] as number) ^ (1 << (bit & 7));
    if (auth.verify(tampered, 172, 3)) t.fail(`tag bit ${bit} flipped still verifies`);
  }
  t.notOk(auth.verify(packet.subarray(0, 178), 172, 3), 'a tag cut short fails');
});
