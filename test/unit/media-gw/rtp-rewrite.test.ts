import t from 'tap';
import { RtpStreamRewriter } from '../../../media-gw/rtp/stream-rewriter.js';
import { translateRtcp } from '../../../media-gw/rtp/rtcp-translator.js';
import { rtpHeaderLength } from '../../../media-gw/rtp/rtp-header.js';

function rtp(seq: number, timestamp: number, ssrc: number, pt = 0, marker = false, payload = 160): Buffer {
  const packet = Buffer.alloc(12 + payload, 0xd5);
  packet[0] = 0x80;
  packet[1] = (marker ? 0x80 : 0) | pt;
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE(timestamp >>> 0, 4);
  packet.writeUInt32BE(ssrc >>> 0, 8);
  return packet;
}

const fields = (p: Buffer) => ({ seq: p.readUInt16BE(2), ts: p.readUInt32BE(4), ssrc: p.readUInt32BE(8), pt: p[1]! & 0x7f, marker: (p[1]! & 0x80) !== 0 });

t.test('RFC 3550 §5.3.1: header length counts CSRCs and the extension; bad versions are refused', async (t) => {
  const plain = rtp(1, 1, 1);
  t.equal(rtpHeaderLength(plain, plain.length), 12);
  const withCsrcAndExtension = Buffer.concat([Buffer.from([0x92, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]), Buffer.alloc(8), Buffer.from([0xbe, 0xde, 0, 1]), Buffer.alloc(4), Buffer.alloc(10)]);
  t.equal(rtpHeaderLength(withCsrcAndExtension, withCsrcAndExtension.length), 12 + 8 + 4 + 4);
  t.equal(rtpHeaderLength(withCsrcAndExtension, 20), -1, 'extension beyond the packet');
  const v1 = rtp(1, 1, 1);
  v1[0] = 0x40;
  t.equal(rtpHeaderLength(v1, v1.length), -1);
});

t.test('RFC 3550 §8.2: a source SSRC change keeps the outgoing SSRC, sequence and timestamp continuous', async (t) => {
  let now = 1_000;
  const rewriter = new RtpStreamRewriter({ outputSsrc: 0xabcdef01, clockRate: 8000, now: () => now });
  const out: ReturnType<typeof fields>[] = [];
  for (let i = 0; i < 3; i++) {
    const p = rtp(100 + i, 16000 + 160 * i, 0x1111);
    rewriter.rewrite(p);
    out.push(fields(p));
    now += 20;
  }
  // New source with unrelated numbering, 20 ms after the last packet.
  for (let i = 0; i < 3; i++) {
    const p = rtp(60000 + i, 999_999 + 160 * i, 0x2222);
    rewriter.rewrite(p);
    out.push(fields(p));
    now += 20;
  }
  t.same(out.map((f) => f.ssrc), Array(6).fill(0xabcdef01));
  t.same(out.map((f) => f.seq), [100, 101, 102, 103, 104, 105]);
  t.same(out.map((f) => f.ts), [16000, 16160, 16320, 16480, 16640, 16800], 'timestamp advanced by 20 ms of 8 kHz clock');
  t.equal(rewriter.inputSsrc, 0x2222);
});

t.test('RFC 4733 §2.5: telephone-event packets keep their shared timestamp and marker; PT is renumbered', async (t) => {
  const rewriter = new RtpStreamRewriter({ outputSsrc: 7, payloadTypeMap: new Map([[126, 101]]) });
  const event = [rtp(10, 8000, 5, 126, true, 4), rtp(11, 8000, 5, 126, false, 4), rtp(12, 8000, 5, 126, false, 4)];
  for (const p of event) rewriter.rewrite(p);
  t.same(event.map(fields).map((f) => [f.pt, f.ts, f.marker]), [[101, 8000, true], [101, 8000, false], [101, 8000, false]]);
  const audio = rtp(13, 8160, 5, 0);
  rewriter.rewrite(audio);
  t.equal(fields(audio).pt, 0, 'unmapped payload types pass unchanged');
});

t.test('RFC 3389: comfort noise (PT 13) and the silence gap after it pass with their timestamp distance', async (t) => {
  const rewriter = new RtpStreamRewriter({ outputSsrc: 9 });
  const cn = rtp(1, 1000, 3, 13, false, 1);
  const resume = rtp(2, 1000 + 8000, 3, 0, true);
  rewriter.rewrite(cn);
  rewriter.rewrite(resume);
  t.equal(fields(cn).pt, 13);
  t.equal(fields(resume).ts - fields(cn).ts, 8000);
  t.equal(fields(resume).seq, fields(cn).seq + 1);
});

function senderReport(ssrc: number, rtpTimestamp: number, blocks: { ssrc: number; highestSeq: number }[]): Buffer {
  const packet = Buffer.alloc(28 + 24 * blocks.length);
  packet[0] = 0x80 | blocks.length;
  packet[1] = 200;
  packet.writeUInt16BE(packet.length / 4 - 1, 2);
  packet.writeUInt32BE(ssrc, 4);
  packet.writeUInt32BE(0xe0000000, 8); // NTP seconds
  packet.writeUInt32BE(rtpTimestamp, 16);
  packet.writeUInt32BE(1, 20);
  packet.writeUInt32BE(2, 24);
  blocks.forEach((block, i) => {
    packet.writeUInt32BE(block.ssrc, 28 + 24 * i);
    packet.writeUInt32BE(block.highestSeq, 28 + 24 * i + 8);
  });
  return packet;
}

function sdes(ssrc: number, cname: string): Buffer {
  const items = Buffer.concat([Buffer.from([1, cname.length]), Buffer.from(cname), Buffer.from([0])]);
  const body = Buffer.concat([Buffer.alloc(4), items, Buffer.alloc((4 - (items.length % 4)) % 4)]);
  body.writeUInt32BE(ssrc, 0);
  const header = Buffer.from([0x81, 202, 0, body.length / 4]);
  return Buffer.concat([header, body]);
}

const pli = (sender: number, media: number): Buffer => {
  const p = Buffer.alloc(12);
  p[0] = 0x81;
  p[1] = 206;
  p.writeUInt16BE(2, 2);
  p.writeUInt32BE(sender, 4);
  p.writeUInt32BE(media, 8);
  return p;
};

t.test('RFC 3550 §7.2 / R-SDP-7: SR+SDES+PLI from the browser is translated for an RTP/AVP peer', async (t) => {
  let now = 0;
  // Browser → IMS stream (browser SSRC 0xb0 → gateway 0x10); IMS → browser stream (IMS 0xc0 → gateway 0x20).
  const sent = new RtpStreamRewriter({ outputSsrc: 0x10, now: () => now });
  const received = new RtpStreamRewriter({ outputSsrc: 0x20, now: () => now });
  sent.rewrite(rtp(5, 100, 0xb0));
  received.rewrite(rtp(100, 5000, 0xc0));
  now += 20;
  received.rewrite(rtp(40000, 77, 0xc1)); // the IMS side switched source: offset now in play
  const compound = Buffer.concat([
    senderReport(0xb0, 100, [{ ssrc: 0x20, highestSeq: 0x00010000 | 101 }]),
    sdes(0xb0, 'browser-cname'),
    pli(0xb0, 0x20),
  ]);
  const length = translateRtcp(compound, compound.length, { sent, received, dropFeedback: true });
  t.equal(length, 52 + sdes(0, 'browser-cname').length, 'the PLI was removed');
  t.equal(compound.readUInt32BE(4), 0x10, 'SR sender SSRC is our SSRC toward IMS');
  t.equal(compound.readUInt32BE(20), 1, 'packet count is what we forwarded');
  t.equal(compound.readUInt32BE(28), 0xc1, 'the report block names the IMS source it is about');
  t.equal(compound.readUInt32BE(36) & 0xffff, 40000, 'highest sequence is in the IMS source numbering');
  t.equal(compound.readUInt32BE(36) >>> 16, 1, 'cycle count kept');
  t.equal(compound.readUInt32BE(52 + 4), 0x10, 'SDES chunk SSRC rewritten');
  t.equal(compound[52 + 1], 202, 'the SDES follows the SR directly');
});

t.test('RFC 3550 §6.6: a BYE of one source is not forwarded; an all-removed compound yields 0', async (t) => {
  const sent = new RtpStreamRewriter({ outputSsrc: 1 });
  const received = new RtpStreamRewriter({ outputSsrc: 2 });
  const bye = Buffer.from([0x81, 203, 0, 1, 0, 0, 0, 9]);
  t.equal(translateRtcp(bye, bye.length, { sent, received, dropFeedback: true }), 0);
  const truncated = senderReport(1, 1, []).subarray(0, 20);
  t.equal(translateRtcp(truncated, truncated.length, { sent, received, dropFeedback: true }), 0, 'length field beyond data');
});
