/**
 * Issue 15 "Overload control": rates per client and per source IP (REGISTER, initial INVITE),
 * a per-node bound on requests toward Mw with a bounded queue, and read budgets (bytes/s per
 * connection) under every plugin. Refusals are 503 + Retry-After (RFC 3261 §21.5.4, §20.33)
 * with the reason in the phrase, nothing reaches Mw, and each is counted in
 * epcscf_w2_refused_total. Full stack on loopback: raw SIP-over-WebSocket clients → W2 server →
 * P-CSCF → a fake IMS core on UDP (test/support/sip-ws-stack.ts).
 */
import t from 'tap';
import { setTimeout as delay } from 'node:timers/promises';
import { getHeader, type SipRequest } from '../../core/sip/index.js';
import type { FakeImsCore } from '../support/fake-ims-core.js';
import { RawSipWsClient, registerOver, startStack } from '../support/sip-ws-stack.js';
import { CHROME_AUDIO_OFFER } from '../unit/ng/ims-alg-requests.js';
import { parsePrometheusText, sampleValue } from '../unit/admin/prometheus-text.js';

function sendRegister(client: RawSipWsClient, user: string, callId: string, cseq = 1): void {
  client.send([
    'REGISTER sip:ims.test SIP/2.0', `Via: SIP/2.0/WSS ${user}.invalid;branch=z9hG4bK${callId}-${cseq}`, 'Max-Forwards: 70',
    `From: <sip:${user}@ims.test>;tag=r${callId}`, `To: <sip:${user}@ims.test>`, `Call-ID: ${callId}`, `CSeq: ${cseq} REGISTER`,
    `Contact: <sip:${user}@${user}.invalid;transport=ws>`, 'Expires: 600', 'Supported: path',
  ]);
}

function sendInvite(client: RawSipWsClient, user: string, callId: string): void {
  client.send([
    'INVITE sip:carol@ims.test SIP/2.0', `Via: SIP/2.0/WSS ${user}.invalid;branch=z9hG4bK${callId}`, 'Max-Forwards: 70',
    `From: <sip:${user}@ims.test>;tag=t${callId}`, 'To: <sip:carol@ims.test>', `Call-ID: ${callId}`, 'CSeq: 1 INVITE',
    `Contact: <sip:${user}@${user}.invalid;transport=ws>`, 'Content-Type: application/sdp',
  ], CHROME_AUDIO_OFFER);
}

async function atCore(core: FakeImsCore, method: string, callId: string): Promise<SipRequest> {
  return core.next<SipRequest>((m) => m.kind === 'request' && m.method === method && getHeader(m, 'Call-ID') === callId);
}

async function nothingAtCore(core: FakeImsCore, callId: string): Promise<boolean> {
  await delay(300);
  return !core.received.some((m) => getHeader(m, 'Call-ID') === callId);
}

async function refusedCount(metrics: { metrics(): Promise<string> }, reason: string): Promise<number | undefined> {
  return sampleValue(parsePrometheusText(await metrics.metrics()), 'epcscf_w2_refused_total', { reason });
}

t.test('issue 15: beyond registrationRatePerClient a REGISTER gets 503 + Retry-After "too many registrations on this connection", nothing on Mw; another client is unaffected', async (t) => {
  const { core, metrics, url } = await startStack(t, { registrationRatePerClient: { ratePerSecond: 0.2, burst: 2 } });
  const alice = await RawSipWsClient.open(t, url);
  const bob = await RawSipWsClient.open(t, url);
  sendRegister(alice, 'alice', 'rr-1');
  sendRegister(alice, 'alice', 'rr-2');
  await atCore(core, 'REGISTER', 'rr-1');
  await atCore(core, 'REGISTER', 'rr-2');
  sendRegister(alice, 'alice', 'rr-3');
  const refused = await alice.response('rr-3', 'REGISTER');
  t.equal(refused.status, 503, 'RFC 3261 §21.5.4: a temporary overload of this server');
  t.match(refused.reason, /^Service Unavailable - too many registrations on this connection \(at most 0\.2\/s\)$/);
  const retryAfter = Number(getHeader(refused, 'Retry-After'));
  t.ok(retryAfter >= 1 && retryAfter <= 5, `RFC 3261 §20.33: when a token is back (${retryAfter} s at 0.2/s)`);
  t.ok(await nothingAtCore(core, 'rr-3'), 'the refused REGISTER never reached the IMS core');
  t.equal(await refusedCount(metrics, 'registration_rate_per_client'), 1, 'counted in /metrics');
  sendRegister(bob, 'bob', 'rr-bob');
  t.ok(await atCore(core, 'REGISTER', 'rr-bob'), 'another connection has its own bucket');
});

t.test('issue 15: callRatePerIp bounds initial INVITEs of all connections of one address; in-dialog requests and CANCEL are not counted', async (t) => {
  const { core, metrics, url } = await startStack(t, { callRatePerIp: { ratePerSecond: 0.1, burst: 1 } });
  const alice = await RawSipWsClient.open(t, url);
  const bob = await RawSipWsClient.open(t, url);
  await registerOver(alice, core, 'alice');
  await registerOver(bob, core, 'bob');
  sendInvite(alice, 'alice', 'cr-1');
  const first = await atCore(core, 'INVITE', 'cr-1');
  t.ok(first, 'the first call from 127.0.0.1 goes through');
  sendInvite(bob, 'bob', 'cr-2');
  const refused = await bob.response('cr-2', 'INVITE');
  t.equal(refused.status, 503);
  t.match(refused.reason, /too many calls from this address \(at most 0\.1\/s\)/);
  t.ok(Number(getHeader(refused, 'Retry-After')) >= 1);
  t.ok(await nothingAtCore(core, 'cr-2'), 'the refused INVITE never reached the IMS core');
  t.equal(await refusedCount(metrics, 'call_rate_per_ip'), 1);
  // The first call can still be cancelled: CANCEL is never counted.
  core.answer(first, 180);
  await alice.response('cr-1', 'INVITE', false);
  alice.send([
    'CANCEL sip:carol@ims.test SIP/2.0', 'Via: SIP/2.0/WSS alice.invalid;branch=z9hG4bKcr-1', 'Max-Forwards: 70',
    'From: <sip:alice@ims.test>;tag=tcr-1', 'To: <sip:carol@ims.test>', 'Call-ID: cr-1', 'CSeq: 1 CANCEL',
  ]);
  t.equal((await alice.response('cr-1', 'CANCEL')).status, 200, 'RFC 3261 §9.2: the CANCEL is answered');
  t.ok(await atCore(core, 'CANCEL', 'cr-1'), 'and propagated toward the IMS');
});

t.test('issue 15: mw.overload: beyond maxOutstanding unanswered requests toward Mw a request waits in the bounded queue; a full queue or a wait too long gets 503 + Retry-After and nothing on Mw; an answer frees the slot', async (t) => {
  const { core, metrics, url } = await startStack(t, {}, { mw: { overload: { maxOutstanding: 1, maxQueued: 1, maxQueueWaitSeconds: 0.5, retryAfterSeconds: 3 } } });
  const clients = await Promise.all(['a', 'b', 'c', 'd'].map(() => RawSipWsClient.open(t, url)));
  const [a, b, c, d] = clients as [RawSipWsClient, RawSipWsClient, RawSipWsClient, RawSipWsClient];
  sendRegister(a, 'alice', 'mo-1');
  const held = await atCore(core, 'REGISTER', 'mo-1'); // the IMS core is slow: no answer yet
  sendRegister(b, 'bob', 'mo-2'); // queued
  await delay(50);
  sendRegister(c, 'carol', 'mo-3'); // the queue is full
  const full = await c.response('mo-3', 'REGISTER');
  t.equal(full.status, 503, 'a full queue refuses at once');
  t.equal(full.reason, 'Service Unavailable - too many requests toward the IMS core');
  t.equal(getHeader(full, 'Retry-After'), '3');
  const waited = await b.response('mo-2', 'REGISTER');
  t.equal(waited.status, 503, 'the queued request waited maxQueueWaitSeconds, then 503');
  t.ok(await nothingAtCore(core, 'mo-2') && await nothingAtCore(core, 'mo-3'), 'neither reached the IMS core');
  t.equal(await refusedCount(metrics, 'mw_overload'), 2, 'counted in /metrics');

  // Queued, then served as soon as the slot is free (the core answers the first).
  sendRegister(d, 'dave', 'mo-4');
  await delay(100);
  t.ok(!core.received.some((m) => getHeader(m, 'Call-ID') === 'mo-4'), 'still queued while the first is unanswered');
  core.answer(held, 100);
  t.ok(await atCore(core, 'REGISTER', 'mo-4'), 'a 100 Trying frees the slot: the queued REGISTER goes');
});

t.test('issue 15: bytesPerConnection: a client sending faster than its byte budget is read no faster than the budget (TCP slows it); another connection is served at once', async (t) => {
  // 20 requests of ~2 KB = ~40 KB at 16 KB/s with a 4 KB burst: the last one is read after ~2.2 s.
  const { metrics, url } = await startStack(t, { bytesPerConnection: { ratePerSecond: 16_384, burst: 4_096 } }, { w2: { maxFrameBytes: 4_096 } });
  const flooder = await RawSipWsClient.open(t, url);
  const other = await RawSipWsClient.open(t, url);
  const pad = 'x'.repeat(1_800);
  const options = (client: RawSipWsClient, callId: string): void => client.send([
    'OPTIONS sip:carol@ims.test SIP/2.0', `Via: SIP/2.0/WSS f.invalid;branch=z9hG4bK${callId}`, 'Max-Forwards: 70',
    `From: <sip:f@ims.test>;tag=${callId}`, 'To: <sip:carol@ims.test>', `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', `X-Pad: ${pad}`,
  ]);
  const started = Date.now();
  for (let i = 0; i < 20; i++) options(flooder, `bf-${i}`);
  await delay(200);
  const otherStarted = Date.now();
  options(other, 'bo-1');
  await other.response('bo-1', 'OPTIONS');
  const otherMs = Date.now() - otherStarted;
  t.ok(otherMs < 1_000, `another connection is answered at once (${otherMs} ms)`);
  for (let i = 0; i < 20; i++) await flooder.response(`bf-${i}`, 'OPTIONS').catch(async () => flooder.response(`bf-${i}`, 'OPTIONS'));
  const floodMs = Date.now() - started;
  t.ok(floodMs >= 1_500, `the flooder's 40 KB took at least ~(40-4)/16 s to be read (${floodMs} ms)`);
  t.ok((await refusedCount(metrics, 'bytes_rate') ?? 0) >= 1, 'throttling counted in /metrics (bytes_rate)');
});

t.test('issue 15: framesPerConnection: beyond its burst a client sending many small messages is handed to the plugin at the rate, not a socket read at once (TCP slows it); another connection is served at once', async (t) => {
  // 40 OPTIONS of ~300 bytes at 20/s with a burst of 5: far within the byte budget, the last one is read after ~1.75 s.
  const { metrics, url } = await startStack(t, { framesPerConnection: { ratePerSecond: 20, burst: 5 } });
  const flooder = await RawSipWsClient.open(t, url);
  const other = await RawSipWsClient.open(t, url);
  const options = (client: RawSipWsClient, callId: string): void => client.send([
    'OPTIONS sip:carol@ims.test SIP/2.0', `Via: SIP/2.0/WSS f.invalid;branch=z9hG4bK${callId}`, 'Max-Forwards: 70',
    `From: <sip:f@ims.test>;tag=${callId}`, 'To: <sip:carol@ims.test>', `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS',
  ]);
  const started = Date.now();
  for (let i = 0; i < 40; i++) options(flooder, `ff-${i}`);
  await delay(200);
  const otherStarted = Date.now();
  options(other, 'fo-1');
  await other.response('fo-1', 'OPTIONS');
  const otherMs = Date.now() - otherStarted;
  t.ok(otherMs < 1_000, `another connection of the same address is answered at once (${otherMs} ms)`);
  for (let i = 0; i < 40; i++) await flooder.response(`ff-${i}`, 'OPTIONS').catch(async () => flooder.response(`ff-${i}`, 'OPTIONS'));
  const floodMs = Date.now() - started;
  t.ok(floodMs >= 1_500, `the flooder's 40 messages took at least ~(40-5)/20 s to be read (${floodMs} ms)`);
  t.ok((await refusedCount(metrics, 'frames_rate') ?? 0) >= 1, 'throttling counted in /metrics (frames_rate)');
  t.equal(await refusedCount(metrics, 'flood'), 0, 'nobody was cut off');
});

t.test('issue 15: connectionRatePerIp: a new connection beyond the address\'s bucket is closed at accept, before any upgrade, and counted; the bucket refills', async (t) => {
  const { metrics, url } = await startStack(t, { connectionRatePerIp: { ratePerSecond: 2, burst: 2 } });
  await RawSipWsClient.open(t, url);
  await RawSipWsClient.open(t, url);
  await t.rejects(RawSipWsClient.open(t, url), 'the third connection in a row is closed before its handshake is answered');
  t.equal(await refusedCount(metrics, 'connection_rate_per_ip'), 1, 'counted in /metrics');
  await delay(700);
  t.ok(await RawSipWsClient.open(t, url), 'a token is back after 1/rate: the address may connect again');
});
