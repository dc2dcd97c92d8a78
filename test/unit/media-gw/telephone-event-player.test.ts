// Issue #14: RFC 4733 events played toward the browser share the relayed stream's SSRC and
// sequence numbering (no number used twice, relayed packets move up), one timestamp per event.
import t from 'tap';
import { parseTelephoneEvent } from '../../../media-gw/dtmf/index.js';
import { RtpStreamRewriter } from '../../../media-gw/rtp/stream-rewriter.js';
import { TelephoneEventPlayer } from '../../../media-gw/rtp/telephone-event-player.js';

function rtp(seq: number, timestamp: number, ssrc = 0x1111): Buffer {
  const packet = Buffer.alloc(12 + 160);
  packet[0] = 0x80;
  packet[1] = 0;
  packet.writeUInt16BE(seq, 2);
  packet.writeUInt32BE(timestamp, 4);
  packet.writeUInt32BE(ssrc, 8);
  return packet;
}

t.test('RFC 4733 §2.5.1 / RFC 3550 §5.1: played events are numbered within the relayed stream', async (t) => {
  let now = 1_000;
  const rewriter = new RtpStreamRewriter({ outputSsrc: 0xabcdef, clockRate: 8000, now: () => now });
  const sent: Buffer[] = [];
  const relay = (packet: Buffer): void => {
    if (rewriter.rewrite(packet)) sent.push(Buffer.from(packet));
  };
  relay(rtp(100, 16_000));
  now += 20;
  relay(rtp(101, 16_160));
  const player = new TelephoneEventPlayer({ rewriter, send: (packet) => sent.push(Buffer.from(packet)) });
  now += 20;
  await player.play('5', 60, { payloadType: 126, clockRate: 8000 });
  relay(rtp(102, 16_320));

  const seqs = sent.map((packet) => packet.readUInt16BE(2));
  t.same(seqs, [100, 101, 102, 103, 104, 105, 106, 107], 'one run of sequence numbers: 2 relayed, 5 events, then the relayed stream moved up by 5');
  t.ok(sent.every((packet) => packet.readUInt32BE(8) === 0xabcdef), 'every packet carries the stream\'s output SSRC');
  const events = sent.slice(2, 7);
  t.ok(events.every((packet) => (packet[1]! & 0x7f) === 126), 'events under the browser\'s telephone-event PT');
  t.same(events.map((packet) => (packet[1]! & 0x80) !== 0), [true, false, false, false, false], 'the marker bit on the first event packet only');
  t.equal(new Set(events.map((packet) => packet.readUInt32BE(4))).size, 1, 'all event packets share the event\'s start timestamp');
  t.ok(events[0]!.readUInt32BE(4) > 16_160, 'which follows the last relayed timestamp');
  t.same(events.map((packet) => parseTelephoneEvent(packet.subarray(12))?.end), [false, false, true, true, true], 'three end packets (§2.5.1.4)');
});

t.test('a stopped player sends nothing more; a non-digit is refused', async (t) => {
  const rewriter = new RtpStreamRewriter({ outputSsrc: 1 });
  const sent: Buffer[] = [];
  const player = new TelephoneEventPlayer({ rewriter, send: (packet) => sent.push(packet) });
  t.throws(() => player.play('x', 100, { payloadType: 101, clockRate: 8000 }), RangeError);
  const playing = player.play('1', 400, { payloadType: 101, clockRate: 8000 });
  player.stop();
  await playing;
  t.equal(sent.length, 0, 'stopped before its first packet: nothing sent, and the play resolves (close never leaves an INFO unanswered)');
  await player.play('2', 100, { payloadType: 101, clockRate: 8000 });
  t.equal(sent.length, 0, 'a stopped player plays nothing');
});
