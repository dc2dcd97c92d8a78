/**
 * Issue 15 "Overload control", the building blocks: token buckets by key (core/overload), the
 * REGISTER/INVITE rates per client and per source IP (request-rates.ts) and the per-node bound
 * on unanswered requests toward Mw with its bounded queue (mw-admission.ts).
 */
import t from 'tap';
import { setTimeout as delay } from 'node:timers/promises';
import { RateBuckets } from '../../../core/overload/rate-buckets.js';
import { RequestRates } from '../../../core/pcscf/request-rates.js';
import { MwAdmission } from '../../../core/pcscf/mw-admission.js';
import { createRequest, getHeader } from '../../../core/sip/index.js';

function request(method: string, callId: string) {
  return createRequest({
    method, uri: 'sip:ims.test',
    headers: [['Via', `SIP/2.0/WSS c.invalid;branch=z9hG4bK${callId}`], ['From', '<sip:alice@ims.test>;tag=1'], ['To', '<sip:alice@ims.test>'], ['Call-ID', callId], ['CSeq', `1 ${method}`]],
  });
}

t.test('RateBuckets: a burst at once, then the sustained rate; the wait says when a token is back', async (t) => {
  let now = 0;
  const buckets = new RateBuckets({ ratePerSecond: 2, burst: 3 }, () => now);
  t.same([buckets.take('a'), buckets.take('a'), buckets.take('a')], [0, 0, 0], 'the burst');
  t.equal(buckets.take('a'), 500, 'empty: one token in 500 ms at 2/s');
  t.equal(buckets.take('b'), 0, 'another key has its own bucket');
  now = 500;
  t.equal(buckets.take('a'), 0, 'refilled at the rate');
  t.equal(buckets.take('a'), 500);
  t.equal(buckets.charge('a', 2), 1_000, 'charge goes into debt and says how long until it is paid');
  now = 1_500;
  t.equal(buckets.take('a'), 500, 'the debt was paid first');
});

t.test('RateBuckets: idle keys are forgotten, so memory stays bounded however many addresses pass', async (t) => {
  let now = 0;
  const buckets = new RateBuckets({ ratePerSecond: 10, burst: 1 }, () => now);
  for (let i = 0; i < 5_000; i++) {
    buckets.take(`198.51.100.${i}`);
    now += 1; // each key refills within 100 ms
  }
  t.ok(buckets.size < 2_200, `keys tracked: ${buckets.size} of 5000 seen`);
});

t.test('issue 15: RequestRates counts REGISTER and INVITE per client and per IP; the refusal is 503 + Retry-After with the reason', async (t) => {
  let now = 0;
  const rates = new RequestRates({
    registrationsPerClient: { ratePerSecond: 0.5, burst: 2 }, registrationsPerIp: { ratePerSecond: 100, burst: 3 },
    callsPerClient: { ratePerSecond: 1, burst: 1 }, callsPerIp: { ratePerSecond: 100, burst: 100 },
  }, () => now);
  t.equal(rates.admit(request('REGISTER', 'r1'), 'flow-a', '192.0.2.1'), undefined);
  t.equal(rates.admit(request('REGISTER', 'r2'), 'flow-a', '192.0.2.1'), undefined, 'a REGISTER and its digest retry');
  const client = rates.admit(request('REGISTER', 'r3'), 'flow-a', '192.0.2.1');
  t.equal(client?.reason, 'registration_rate_per_client');
  t.equal(client?.response.status, 503);
  t.equal(client?.response.reason, 'Service Unavailable - too many registrations on this connection (at most 0.5/s)');
  t.equal(getHeader(client!.response, 'Retry-After'), '2', 'RFC 3261 §20.33: a token is back in 2 s at 0.5/s');
  t.equal(rates.admit(request('REGISTER', 'r4'), 'flow-b', '192.0.2.1'), undefined, 'a refused client spent nothing of its address\'s budget');
  const ip = rates.admit(request('REGISTER', 'r5'), 'flow-c', '192.0.2.1');
  t.equal(ip?.reason, 'registration_rate_per_ip', 'the address\'s burst of 3 is spent');
  t.match(ip?.response.reason, /too many registrations from this address/);
  t.equal(rates.admit(request('INVITE', 'i1'), 'flow-a', '192.0.2.1'), undefined, 'calls have their own buckets');
  t.equal(rates.admit(request('INVITE', 'i2'), 'flow-a', '192.0.2.1')?.reason, 'call_rate_per_client');
  t.equal(rates.admit(request('MESSAGE', 'm1'), 'flow-a', '192.0.2.1'), undefined, 'other methods are not counted');
  now = 1_000;
  t.equal(rates.admit(request('INVITE', 'i3'), 'flow-a', '192.0.2.1'), undefined, 'a second later the client may call again');
});

t.test('issue 15: MwAdmission holds at most maxOutstanding; the next wait in FIFO order, a full queue and an expired wait are refused', async (t) => {
  const admission = new MwAdmission({ maxOutstanding: 2, maxQueued: 2, maxQueueWaitMs: 150, retryAfterSeconds: 5 });
  t.teardown(() => admission.close());
  const log: string[] = [];
  const ticket = (name: string) => admission.admit(() => log.push(`go ${name}`), () => log.push(`refuse ${name}`));
  const a = ticket('a');
  ticket('b');
  const c = ticket('c');
  const d = ticket('d');
  ticket('e');
  t.same(log, ['go a', 'go b', 'refuse e'], 'two go, two wait, the fifth finds the queue full');
  t.ok(c.queued && d.queued);
  t.equal(admission.outstanding, 2);
  a.release();
  a.release();
  t.same(log.slice(3), ['go c'], 'a released slot goes to the oldest waiting request, once');
  d.release();
  t.equal(admission.queued, 0, 'a request cancelled while queued leaves the queue without a callback');
  const f = ticket('f');
  t.ok(f.queued);
  await delay(400);
  t.same(log.slice(4), ['refuse f'], 'waited longer than maxQueueWaitMs: refused');
  t.equal(admission.refused, 2);
});
