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
