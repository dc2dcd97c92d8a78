// RFC 4733 telephone-event payloads: parse, write, the packet sequence of one digit and the
// detector that reports each digit once (the three end packets deduplicated).
import t from 'tap';
import {
  digitOfEvent, eventOfDigit, parseTelephoneEvent, TelephoneEventDetector, telephoneEventPackets, writeTelephoneEvent,
} from '../../../media-gw/dtmf/index.js';

t.test('RFC 4733 §2.3: an event block is event, E|R|volume, 16-bit duration', async (t) => {
  // Digit 5, end bit, volume 10, duration 800 (100 ms at 8000 Hz).
  const golden = Buffer.from([0x05, 0x8a, 0x03, 0x20]);
  t.same(parseTelephoneEvent(golden), { event: 5, end: true, volume: 10, duration: 800 });
  const written = Buffer.alloc(4);
  writeTelephoneEvent(written, { event: 5, end: true, volume: 10, duration: 800 });
  t.same([...written], [...golden], 'writing gives the same four octets');
  t.equal(parseTelephoneEvent(Buffer.from([1, 2, 3])), undefined, 'a payload shorter than four octets is no event');
});

t.test('RFC 4733 §3.2: event codes 0-15 are the digits 0-9 * # A-D', async (t) => {
  t.equal(digitOfEvent(10), '*');
  t.equal(digitOfEvent(11), '#');
  t.equal(digitOfEvent(15), 'D');
  t.equal(digitOfEvent(16), undefined, 'event 16 (flash) is not a DTMF digit');
  t.equal(eventOfDigit('#'), 11);
  t.equal(eventOfDigit('a'), 12, 'A-D in either case');
  t.equal(eventOfDigit('x'), undefined);
});

t.test('RFC 4733 §2.5.1: one digit is a marker packet, growing durations, then three end packets of the same duration', async (t) => {
  const packets = telephoneEventPackets('#', 100, 8000, 20);
  const blocks = packets.map((p) => parseTelephoneEvent(p.payload));
  t.equal(packets[0]?.marker, true, 'the first packet carries the marker bit');
  t.ok(packets.slice(1).every((p) => !p.marker), 'no other packet does');
  t.same(blocks.map((b) => b?.duration), [160, 320, 480, 640, 800, 800, 800], 'durations grow by 20 ms (160 units) up to 100 ms');
  t.same(blocks.map((b) => b?.end), [false, false, false, false, true, true, true], 'the last three carry the E bit');
  t.ok(blocks.every((b) => b?.event === 11), 'every block names event 11 (#)');
  t.throws(() => telephoneEventPackets('x', 100, 8000), RangeError, 'no packets for a character that is no digit');
  const wideband = telephoneEventPackets('1', 40, 48000, 20).map((p) => parseTelephoneEvent(p.payload)?.duration);
  t.same(wideband, [960, 1920, 1920, 1920], 'at 48000 Hz (Opus-clocked events) 20 ms is 960 units');
});

t.test('RFC 4733 §2.5.1.4: the detector reports a digit once although its end packet comes three times', async (t) => {
  const detector = new TelephoneEventDetector(8000);
  const seen: string[] = [];
  for (const [timestamp, digit] of [[1000, '1'], [3000, '9'], [5000, '*']] as const) {
    for (const packet of telephoneEventPackets(digit, 160, 8000)) {
      for (const found of detector.push(packet.payload, timestamp)) seen.push(`${found.digit}/${found.durationMs}`);
    }
  }
  t.same(seen, ['1/160', '9/160', '*/160'], 'three digits, each once, with their durations in ms');
});

t.test('RFC 4733 §2.5.2.2: an event whose end packets were lost is reported when the next event starts', async (t) => {
  const detector = new TelephoneEventDetector(48000);
  const start = telephoneEventPackets('7', 100, 48000);
  const lostEnd = start.filter((p) => parseTelephoneEvent(p.payload)?.end === false);
  const seen = lostEnd.flatMap((p) => detector.push(p.payload, 10));
  t.same(seen, [], 'nothing before the event ended');
  const next = telephoneEventPackets('8', 100, 48000)[0];
  t.same(next ? detector.push(next.payload, 9999) : [], [{ digit: '7', durationMs: 80 }], 'the next event ends the previous one (80 ms sent before the loss)');
});
