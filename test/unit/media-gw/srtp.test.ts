import t from 'tap';
import { RtpPacket, SrtcpSession as WeriftSrtcp, SrtpSession as WeriftSrtp } from 'werift';
import {
  AesCmKeystream, deriveKeys, SrtpSession, SrtcpProtector, SrtcpUnprotector, SrtpRtpProtector,
  SrtpRtpUnprotector, ReplayWindow, type SrtpMasterKeys,
} from '../../../media-gw/srtp/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 3711 Appendix B.3 master key and salt (also libsrtp's srtp_driver test key).
const RFC_MASTER: SrtpMasterKeys = {
  masterKey: hex('E1F97A0D3E018BE0D64FA32C06DE4139'),
  masterSalt: hex('0EC675AD498AFEEBB6960B3AABE6'),
};

t.test('RFC 3711 Appendix B.2: AES-CM keystream for session key 2B7E1516... and IV F0F1...FD0000', async (t) => {
  const keystream = new AesCmKeystream(hex('2B7E151628AED2A6ABF7158809CF4F3C'));
  const out = keystream.keystream(hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000'), 48);
  t.equal(out.toString('hex').toUpperCase(),
    'E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB41E95B3BB0A2E8DD477901E4FCA894C0');
});

t.test('RFC 3711 Appendix B.3: key derivation yields the cipher key, salt and auth key', async (t) => {
  const keys = deriveKeys(RFC_MASTER);
  t.equal(keys.rtp.cipherKey.toString('hex').toUpperCase(), 'C61E7A93744F39EE10734AFE3FF7A087');
  t.equal(keys.rtp.cipherSalt.toString('hex').toUpperCase(), '30CBBC08863D8C85D49DB34A9AE1');
  t.equal(keys.rtp.authKey.toString('hex').toUpperCase(), 'CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4');
  // SRTCP labels 3/4/5 (RFC 3711 §4.3.2) give different keys from the same master.
  t.not(keys.rtcp.cipherKey.toString('hex'), keys.rtp.cipherKey.toString('hex'));
  t.equal(keys.rtcp.cipherKey.length, 16);
  t.equal(keys.rtcp.authKey.length, 20);
  t.equal(keys.rtcp.cipherSalt.length, 14);
});

// libsrtp srtp_driver.c reference packet (SSRC cafebabe, seq 0x1234, ROC 0).
const RTP_PLAIN = hex('800f1234decafbadcafebabe' + 'abababab'.repeat(4));
const SRTP_CIPHER = hex('800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb');
const RTCP_PLAIN = hex('81c8000bcafebabe' + 'abababab'.repeat(4));
const SRTCP_CIPHER_INDEX1 = hex('81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798');

t.test('RFC 3711 §3.3: protect matches the libsrtp AES_CM_128_HMAC_SHA1_80 reference packet', async (t) => {
  const keys = deriveKeys(RFC_MASTER);
  const protector = new SrtpRtpProtector(keys.rtp);
  const out = protector.protect(RTP_PLAIN);
  t.ok(out);
  t.equal(out?.toString('hex'), SRTP_CIPHER.toString('hex'));
  const unprotector = new SrtpRtpUnprotector(keys.rtp);
  const plain = unprotector.unprotect(Buffer.from(SRTP_CIPHER));
  t.equal(plain?.toString('hex'), RTP_PLAIN.toString('hex'));
});

t.test('RFC 3711 §3.4: SRTCP with index 1 matches the libsrtp reference (E flag set, index appended)', async (t) => {
  const keys = deriveKeys(RFC_MASTER);
  const protector = new SrtcpProtector(keys.rtcp);
  const first = protector.protect(RTCP_PLAIN);
  t.equal(first?.readUInt32BE(RTCP_PLAIN.length), 0x80000000, 'the first SRTCP index is 0');
  const second = protector.protect(RTCP_PLAIN);
  t.equal(second?.toString('hex'), SRTCP_CIPHER_INDEX1.toString('hex'));
  const unprotector = new SrtcpUnprotector(keys.rtcp);
  t.equal(unprotector.unprotect(Buffer.from(SRTCP_CIPHER_INDEX1))?.toString('hex'), RTCP_PLAIN.toString('hex'));
});

t.test('RFC 3711 §3.3 step 5: every truncation and any flipped bit fails authentication', async (t) => {
  const keys = deriveKeys(RFC_MASTER);
  for (let len = SRTP_CIPHER.length - 1; len > 0; len--) {
    t.equal(new SrtpRtpUnprotector(keys.rtp).unprotect(Buffer.from(SRTP_CIPHER.subarray(0, len))), null);
  }
  for (let len = SRTCP_CIPHER_INDEX1.length - 1; len > 0; len--) {
    t.equal(new SrtcpUnprotector(keys.rtcp).unprotect(Buffer.from(SRTCP_CIPHER_INDEX1.subarray(0, len))), null);
  }
  for (let bit = 0; bit < SRTP_CIPHER.length * 8; bit += 7) {
    const tampered = Buffer.from(SRTP_CIPHER);
    tampered[bit >> 3] = (tampered[bit >> 3] as number) ^ (1 << (bit & 7));
    const unprotector = new SrtpRtpUnprotector(keys.rtp);
    t.equal(unprotector.unprotect(tampered), null, `bit ${bit}`);
  }
});

t.test('RFC 3711 §3.3.2: a replayed SRTP or SRTCP packet is dropped and counted', async (t) => {
  const keys = deriveKeys(RFC_MASTER);
  const rtpIn = new SrtpRtpUnprotector(keys.rtp);
  t.ok(rtpIn.unprotect(Buffer.from(SRTP_CIPHER)));
  t.equal(rtpIn.unprotect(Buffer.from(SRTP_CIPHER)), null);
  t.equal(rtpIn.drops.replayed, 1);
  const rtcpIn = new SrtcpUnprotector(keys.rtcp);
  t.ok(rtcpIn.unprotect(Buffer.from(SRTCP_CIPHER_INDEX1)));
  t.equal(rtcpIn.unprotect(Buffer.from(SRTCP_CIPHER_INDEX1)), null);
  t.equal(rtcpIn.drops.replayed, 1);
});

t.test('RFC 3711 §3.3.2: the replay window accepts late packets inside it and rejects older ones', async (t) => {
  const window = new ReplayWindow(64);
  window.accept(100);
  t.ok(window.check(99));
  window.accept(99);
  t.notOk(window.check(99));
  t.ok(window.check(37));
  t.notOk(window.check(36), 'highest - 64 is outside the window');
  window.accept(300);
  t.ok(window.check(299), 'slots are cleared as the window advances');
  t.notOk(window.check(100));
});

function rtp(seq: number, ssrc = 0x11223344, timestamp = seq * 160, payload = Buffer.alloc(160, seq & 0xff)): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = 0;
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE(timestamp >>> 0, 4);
  header.writeUInt32BE(ssrc, 8);
  return Buffer.concat([header, payload]);
}

function randomMaster(seed: number): SrtpMasterKeys {
  return { masterKey: Buffer.alloc(16, seed), masterSalt: Buffer.alloc(14, seed + 1) };
}

t.test('RFC 3711 §3.3.1: ROC rolls over at sequence 65535 → 0 on both sides (cross-checked with werift)', async (t) => {
  const a = randomMaster(1);
  const b = randomMaster(7);
  const ours = new SrtpSession({ local: a, remote: b });
  const werift = new WeriftSrtp({
    profile: 1,
    keys: { localMasterKey: Buffer.from(b.masterKey), localMasterSalt: Buffer.from(b.masterSalt),
      remoteMasterKey: Buffer.from(a.masterKey), remoteMasterSalt: Buffer.from(a.masterSalt) },
  });
  let checked = 0;
  for (let seq = 65530; seq < 65550; seq++) {
    const plain = rtp(seq);
    // ours → werift
    const protectedByUs = ours.rtpOut.protect(plain);
    t.ok(protectedByUs);
    const weriftPlain = werift.decrypt(Buffer.from(protectedByUs as Buffer));
    t.equal(weriftPlain.toString('hex'), plain.toString('hex'), `werift decrypts seq ${seq}`);
    // werift → ours
    const parsed = RtpPacket.deSerialize(plain);
    const protectedByWerift = werift.encrypt(parsed.payload, parsed.header);
    const ourPlain = ours.rtpIn.unprotect(Buffer.from(protectedByWerift));
    t.equal(ourPlain?.toString('hex'), plain.toString('hex'), `we decrypt seq ${seq}`);
    checked++;
  }
  t.equal(checked, 20);
});

t.test('RFC 3711 §3.4: SRTCP interoperates with werift in both directions', async (t) => {
  const a = randomMaster(3);
  const b = randomMaster(9);
  const ours = new SrtpSession({ local: a, remote: b });
  const werift = new WeriftSrtcp({
    profile: 1,
    keys: { localMasterKey: Buffer.from(b.masterKey), localMasterSalt: Buffer.from(b.masterSalt),
      remoteMasterKey: Buffer.from(a.masterKey), remoteMasterSalt: Buffer.from(a.masterSalt) },
  });
  for (let i = 0; i < 5; i++) {
    const rr = hex('81c90007' + '11223344' + '55667788' + '00000000' + '00000000' + '00000000' + '00000000' + '0000000' + String(i));
    const out = ours.rtcpOut.protect(rr);
    t.equal(werift.decrypt(Buffer.from(out as Buffer)).toString('hex'), rr.toString('hex'));
    const back = ours.rtcpIn.unprotect(Buffer.from(werift.encrypt(Buffer.from(rr))));
    t.equal(back?.toString('hex'), rr.toString('hex'));
  }
});

t.test('RFC 3711 §3.3.1: a late packet from before the rollover still decrypts with ROC-1', async (t) => {
  const m = randomMaster(5);
  const sender = new SrtpSession({ local: m, remote: m });
  const receiver = new SrtpSession({ local: m, remote: m });
  const early = Buffer.from(sender.rtpOut.protect(rtp(65534)) as Buffer);
  const wrapped = Buffer.from(sender.rtpOut.protect(rtp(65535)) as Buffer);
  const after = Buffer.from(sender.rtpOut.protect(rtp(2)) as Buffer);
  t.ok(receiver.rtpIn.unprotect(wrapped));
  t.ok(receiver.rtpIn.unprotect(after), 'ROC 1');
  t.ok(receiver.rtpIn.unprotect(early), 'late packet with ROC 0');
  t.equal(receiver.rtpIn.drops.authFailures, 0);
});
