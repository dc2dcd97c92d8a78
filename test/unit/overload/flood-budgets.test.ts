/**
 * Issue 15 "a flooding client never moves the others' p99 measurably", the building blocks:
 * two token buckets per key refilled together (core/overload/paired-rate-buckets.ts) and the W2
 * read budgets on top of them (core/server/read-throttle.ts): bytes/s and frames/s per
 * connection, frames/s per source IP.
 */
import t from 'tap';
import { PairedRateBuckets } from '../../../core/overload/paired-rate-buckets.js';
import { ReadThrottle } from '../../../core/server/read-throttle.js';

t.test('PairedRateBuckets: both buckets of a key are charged at once; the wait is the longer debt and names its bucket', async (t) => {
  let now = 0;
  const buckets = new PairedRateBuckets({ ratePerSecond: 1_000, burst: 2_000 }, { ratePerSecond: 10, burst: 3 }, () => now);
  t.equal(buckets.charge('a', 500, 1), 0);
  t.equal(buckets.charge('a', 500, 1), 0);
  t.equal(buckets.charge('a', 500, 1), 0, 'within both bursts');
  t.equal(buckets.charge('a', 100, 1), 100, 'the second bucket is one in debt: 100 ms at 10/s');
  t.equal(buckets.lastWaitFrom, 'second');
  t.equal(buckets.charge('b', 2_500, 0), 500, 'another key: 500 bytes of debt at 1000/s');
  t.equal(buckets.lastWaitFrom, 'first');
  now = 200;
  t.equal(buckets.charge('a', 0, 1), 0, 'refilled at the second rate (two tokens in 200 ms, one owed)');
});

t.test('PairedRateBuckets: keys whose two buckets are full again are forgotten, so memory stays bounded', async (t) => {
  let now = 0;
  const buckets = new PairedRateBuckets({ ratePerSecond: 10, burst: 1 }, { ratePerSecond: 10, burst: 1 }, () => now);
  for (let i = 0; i < 5_000; i++) {
    buckets.charge(`connection-${i}`, 1, 1);
    now += 1;
  }
  t.ok(buckets.size < 2_200, `keys tracked: ${buckets.size} of 5000 seen`);
});

t.test('issue 15: ReadThrottle: beyond framesPerConnection a connection waits 1/rate per message, whatever their size (reason frames_rate); another connection of the same address does not', async (t) => {
  let now = 0;
  const throttle = new ReadThrottle({
    bytesPerConnection: { ratePerSecond: 65_536, burst: 524_288 },
    framesPerConnection: { ratePerSecond: 50, burst: 4 },
    framesPerIp: { ratePerSecond: 500, burst: 2_000 },
  }, 65_536, () => now);
  for (let i = 0; i < 4; i++) t.equal(throttle.charge('flooder', '192.0.2.7', 100), undefined, `message ${i + 1} of the burst`);
  t.same(throttle.charge('flooder', '192.0.2.7', 100), { pauseMs: 20, reason: 'frames_rate' }, 'the fifth waits 20 ms at 50/s');
  t.same(throttle.charge('flooder', '192.0.2.7', 100), { pauseMs: 40, reason: 'frames_rate' }, 'and the debt grows one message at a time');
  t.equal(throttle.charge('other', '192.0.2.7', 100), undefined, 'another connection from the same address has its own frame budget');
  now = 40;
  t.same(throttle.charge('flooder', '192.0.2.7', 100), { pauseMs: 20, reason: 'frames_rate' }, 'after 40 ms the two owed are paid and the next message owes one: the flooder goes at 50/s');
});

t.test('issue 15: ReadThrottle: the budget that waits longest names the reason (bytes_rate, frames_per_ip)', async (t) => {
  const now = 0;
  const throttle = new ReadThrottle({
    bytesPerConnection: { ratePerSecond: 1_000, burst: 1_000 },
    framesPerConnection: { ratePerSecond: 50, burst: 100 },
    framesPerIp: { ratePerSecond: 10, burst: 2 },
  }, 1_000, () => now);
  t.same(throttle.charge('a', '198.51.100.1', 3_000), { pauseMs: 2_000, reason: 'bytes_rate' }, '2000 bytes owed at 1000/s');
  t.equal(throttle.charge('b', '198.51.100.1', 10), undefined, 'the second message of the address');
  t.same(throttle.charge('c', '198.51.100.1', 10), { pauseMs: 100, reason: 'frames_per_ip' }, 'the address is one message in debt at 10/s');
});

t.test('ReadThrottle without framesPerConnection (embedders): only bytes and the per-IP frames are budgeted', async (t) => {
  const throttle = new ReadThrottle({ bytesPerConnection: { ratePerSecond: 1e9, burst: 1e9 }, framesPerIp: { ratePerSecond: 1e9, burst: 1e9 } }, 1_000, () => 0);
  for (let i = 0; i < 10_000; i++) {
    if (throttle.charge('a', '203.0.113.1', 1) !== undefined) {
      t.fail(`message ${i} waited`);
      return;
    }
  }
  t.pass('10,000 messages of one connection at once, none waits');
});

t.test('issue 15: sustainedFlood: a connection over its frame budget for afterSeconds without refilling halfway is read at framesPerSecond until it has saved up a whole burst; a client whose burst ends is never demoted', async (t) => {
  let now = 0;
  const throttle = new ReadThrottle({
    bytesPerConnection: { ratePerSecond: 1e9, burst: 1e9 },
    framesPerConnection: { ratePerSecond: 50, burst: 10 },
    sustainedFlood: { afterMs: 1_000, framesPerSecond: 5 },
    framesPerIp: { ratePerSecond: 1e9, burst: 1e9 },
  }, 1_000, () => now);
  // A flooder read as fast as its budget allows: each message waits what charge() says.
  let waited = 0;
  for (let i = 0; i < 10; i++) throttle.charge('flooder', '192.0.2.9', 1);
  for (let i = 0; i < 60; i++) {
    const over = throttle.charge('flooder', '192.0.2.9', 1);
    waited = over?.pauseMs ?? 0;
    now += waited;
  }
  t.equal(waited, 200, 'after 1 s straight over budget each message waits 1/5 s, not 1/50 s');
  now += 1_000;
  for (let i = 0; i < 5; i++) t.equal(throttle.charge('flooder', '192.0.2.9', 1), undefined, `a second of quiet at 5/s: message ${i + 1} of 5 passes`);
  t.same(throttle.charge('flooder', '192.0.2.9', 1), { pauseMs: 200, reason: 'frames_rate' }, 'the sixth waits 1/5 s: still demoted (no burst saved up)');
  now += 2_200;
  const afterQuiet = Array.from({ length: 11 }, () => throttle.charge('flooder', '192.0.2.9', 1));
  t.same(afterQuiet.slice(0, 10), Array(10).fill(undefined), 'quiet long enough to save up the burst at 5/s: back to the normal budget, the whole burst passes');
  t.same(afterQuiet[10], { pauseMs: 20, reason: 'frames_rate' }, 'and the next waits 1/50 s');

  // A flooder whose reads come late (a loaded event loop): now and then within budget for a moment, yet it never refills halfway.
  let lateWait = 0;
  for (let i = 0; i < 10; i++) throttle.charge('late', '192.0.2.11', 1);
  for (let elapsed = 0; elapsed < 2_000;) {
    const over = throttle.charge('late', '192.0.2.11', 1);
    lateWait = over?.pauseMs ?? 0;
    const step = lateWait > 0 ? lateWait + 25 : 1; // each read 25 ms late: more than one token's worth at 50/s
    now += step;
    elapsed += step;
  }
  t.ok(lateWait >= 100, `reads 25 ms late (within budget for a moment, now and then) do not save it from demotion (last wait ${lateWait} ms)`);

  // A client with bursts: over budget for a moment, then within it, again and again.
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 15; i++) throttle.charge('bursty', '192.0.2.10', 1);
    now += 900;
  }
  t.equal(throttle.charge('bursty', '192.0.2.10', 1), undefined, 'bursts of 15 every 0.9 s: never demoted (each burst ends within budget)');
});
