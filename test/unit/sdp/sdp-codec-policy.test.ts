import t from 'tap';
import { matchAnsweredCodecs, sameCodec, selectRelayableCodecs, type CodecDescription } from '../../../media-gw/sdp/index.js';

const codec = (payloadType: number, encoding: string, clockRate: number, extra: Partial<CodecDescription> = {}): CodecDescription => ({ payloadType, encoding, clockRate, ...extra });

const CHROME_AUDIO: CodecDescription[] = [
  codec(111, 'opus', 48000, { channels: 2, fmtp: 'minptime=10;useinbandfec=1' }),
  codec(63, 'red', 48000, { channels: 2 }),
  codec(103, 'ISAC', 16000),
  codec(9, 'G722', 8000),
  codec(0, 'PCMU', 8000),
  codec(8, 'PCMA', 8000),
  codec(106, 'CN', 32000),
  codec(13, 'CN', 8000),
  codec(110, 'telephone-event', 48000),
  codec(113, 'telephone-event', 16000),
  codec(126, 'telephone-event', 8000),
];

t.test('Issue #4 codec set: PCMU, PCMA, G722, opus relayed; iSAC and RED removed; offerer order kept', async (t) => {
  t.same(selectRelayableCodecs('audio', CHROME_AUDIO).map((entry) => entry.payloadType), [111, 9, 0, 8, 13, 110, 126]);
});

t.test('R-COD-3: telephone-event and CN only at a clock rate of a relayed codec (no re-clocking)', async (t) => {
  const g711Only = CHROME_AUDIO.filter((entry) => entry.encoding !== 'opus');
  t.same(selectRelayableCodecs('audio', g711Only).map((entry) => entry.payloadType), [9, 0, 8, 13, 126]);
  const opusOnly = CHROME_AUDIO.filter((entry) => entry.clockRate !== 8000);
  t.same(selectRelayableCodecs('audio', opusOnly).map((entry) => entry.payloadType), [111, 110]);
});

t.test('R-COD-2: telephone-event or CN alone is no call; AMR/EVS are not relayed', async (t) => {
  t.same(selectRelayableCodecs('audio', [codec(126, 'telephone-event', 8000), codec(13, 'CN', 8000)]), []);
  t.same(selectRelayableCodecs('audio', [codec(97, 'AMR', 8000), codec(98, 'AMR-WB', 16000), codec(99, 'EVS', 16000)]), []);
  t.same(selectRelayableCodecs('audio', [codec(96, 'opus', 48000)]), [], 'RFC 7587 §7: opus must say /2');
});

t.test('Video: VP8 and H264 relayed, VP9/AV1/rtx/red/ulpfec removed', async (t) => {
  const video = [codec(96, 'VP8', 90000), codec(97, 'rtx', 90000, { fmtp: 'apt=96' }), codec(98, 'VP9', 90000), codec(45, 'AV1', 90000), codec(102, 'H264', 90000, { fmtp: 'packetization-mode=1;profile-level-id=42e01f' }), codec(112, 'red', 90000), codec(114, 'ulpfec', 90000)];
  t.same(selectRelayableCodecs('video', video).map((entry) => entry.payloadType), [96, 102]);
  t.same(selectRelayableCodecs('application', video), []);
});

t.test('RFC 6184 §8.2.2: H264 matches on packetization-mode and profile, not on level', async (t) => {
  const offered = codec(102, 'H264', 90000, { fmtp: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' });
  t.ok(sameCodec(offered, codec(99, 'h264', 90000, { fmtp: 'profile-level-id=42e00d; packetization-mode=1' })));
  t.notOk(sameCodec(offered, codec(99, 'H264', 90000, { fmtp: 'profile-level-id=42e01f' })), 'mode 0 by default');
  t.notOk(sameCodec(offered, codec(99, 'H264', 90000, { fmtp: 'profile-level-id=4d001f;packetization-mode=1' })), 'main is not constrained baseline');
  t.notOk(sameCodec(codec(0, 'PCMU', 8000), codec(8, 'PCMA', 8000)));
});

t.test('RFC 3264 §6.1: answered formats are paired with the offered ones, in answer order; invented formats dropped', async (t) => {
  const answered = [codec(8, 'PCMA', 8000), codec(101, 'telephone-event', 8000), codec(97, 'AMR', 8000), codec(18, 'G729', 8000)];
  const matches = matchAnsweredCodecs('audio', CHROME_AUDIO, answered);
  t.same(matches.map((match) => [match.offered.payloadType, match.answered.payloadType]), [[8, 8], [126, 101]]);
  t.same(matchAnsweredCodecs('audio', CHROME_AUDIO, [codec(110, 'telephone-event', 48000)]), [], 'no media codec, no match');
  t.same(
    matchAnsweredCodecs('audio', CHROME_AUDIO, [codec(0, 'PCMU', 8000), codec(110, 'telephone-event', 48000)]).map((match) => match.offered.payloadType),
    [0],
    'a 48 kHz telephone-event next to PCMU is dropped',
  );
});
