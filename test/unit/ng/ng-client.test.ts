import t, { type Test } from 'tap';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { NgClient } from '../../../media-gw/ng/ng-client.js';
import { formatNgFrame, parseNgFrame } from '../../../media-gw/ng/protocol.js';
import { ReplyCache } from '../../../media-gw/ng/reply-cache.js';

/** A scripted ng peer: `respond` decides, per received datagram, what (if anything) to send back. */
async function scriptedPeer(t: Test, respond: (data: Buffer, index: number, all: readonly Buffer[]) => Buffer | string | undefined | readonly Buffer[]): Promise<{ port: number; received: Buffer[] }> {
  const socket: Socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (data: Buffer, remote: RemoteInfo) => {
    received.push(data);
    const reply = respond(data, received.length - 1, received);
    const replies = reply === undefined ? [] : Array.isArray(reply) ? reply : [reply];
    for (const r of replies as (Buffer | string)[]) socket.send(typeof r === 'string' ? Buffer.from(r, 'latin1') : r, remote.port, remote.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  t.teardown(() => socket.close());
  return { port: socket.address().port, received };
}

const cookieOf = (data: Buffer): string => parseNgFrame(data).cookie;

t.test('NgClient: no reply → EPC_ERR_MEDIA after 1 attempt + `retries` retransmissions of the same datagram', async (t) => {
  const peer = await scriptedPeer(t, () => undefined);
  const client = new NgClient({ address: '127.0.0.1', port: peer.port, timeoutMs: 40, retries: 2 });
  t.teardown(() => client.close());
  const started = Date.now();
  await t.rejects(client.ping(), { code: 'EPC_ERR_MEDIA', message: `ng ping to 127.0.0.1:${peer.port}: no reply after 3 attempts (40 ms each)` });
  t.ok(Date.now() - started >= 110, 'waited timeoutMs per attempt');
  t.equal(peer.received.length, 3);
  t.ok(peer.received.every((d) => d.equals(peer.received[0] as Buffer)), 'retransmissions are byte-identical (same cookie)');
});

t.test('NgClient: a reply to a retransmission completes the request', async (t) => {
  const peer = await scriptedPeer(t, (data, i) => (i === 1 ? formatNgFrame(cookieOf(data), { result: 'pong' }) : undefined));
  const client = new NgClient({ address: '127.0.0.1', port: peer.port, timeoutMs: 40, retries: 3 });
  t.teardown(() => client.close());
  await t.resolves(client.ping());
  t.equal(peer.received.length, 2, 'no more retransmissions after the reply');
});

t.test('NgClient: replies are matched by cookie, in any order', async (t) => {
  // Hold the first request; when the second arrives, answer the second, then the first.
  const echoSdp = (data: Buffer): Buffer => {
    const { cookie, dict } = parseNgFrame(data);
    return formatNgFrame(cookie, { result: 'ok', sdp: `reply to ${String(dict['call-id'])}` });
  };
  const peer = await scriptedPeer(t, (data, i, all) => (i === 1 ? [echoSdp(data), echoSdp(all[0] as Buffer)] : []));
  const client = new NgClient({ address: '127.0.0.1', port: peer.port, timeoutMs: 500, retries: 0 });
  t.teardown(() => client.close());
  const a = client.offer({ callId: 'a', fromTag: 'f', sdp: 'v=0' });
  const b = client.offer({ callId: 'b', fromTag: 'f', sdp: 'v=0' });
  t.same(await Promise.all([a, b]), [{ sdp: 'reply to a' }, { sdp: 'reply to b' }]);
  t.not(cookieOf(peer.received[0] as Buffer), cookieOf(peer.received[1] as Buffer), 'each request has its own cookie');
});

t.test('NgClient: `result: error` → EPC_ERR_MEDIA with the error-reason; protocol violations too', async (t) => {
  const peer = await scriptedPeer(t, (data) => {
    const { cookie, dict } = parseNgFrame(data);
    if (dict['call-id'] === 'err') return formatNgFrame(cookie, { result: 'error', 'error-reason': 'Unknown call-id' });
    if (dict['call-id'] === 'nosdp') return formatNgFrame(cookie, { result: 'ok' });
    if (dict['call-id'] === 'garbage') return `${cookie} d6:result`;
    return formatNgFrame(`other-${cookie}`, { result: 'ok', sdp: 'v=0' });
  });
  const client = new NgClient({ address: '127.0.0.1', port: peer.port, timeoutMs: 60, retries: 0 });
  t.teardown(() => client.close());
  await t.rejects(client.answer({ callId: 'err', fromTag: 'f', toTag: 'g', sdp: 'v=0' }),
    { code: 'EPC_ERR_MEDIA', message: 'ng answer failed: Unknown call-id' });
  await t.rejects(client.offer({ callId: 'nosdp', fromTag: 'f', sdp: 'v=0' }), { code: 'EPC_ERR_MEDIA', message: /reply has no SDP/ });
  await t.rejects(client.offer({ callId: 'garbage', fromTag: 'f', sdp: 'v=0' }), { message: /no reply after 1 attempts/ },
    'an undecodable reply is dropped, so the request times out');
  await t.rejects(client.offer({ callId: 'stranger', fromTag: 'f', sdp: 'v=0' }), { message: /no reply/ },
    'a reply under another cookie is not ours');
});

t.test('NgClient: close rejects waiting requests and later calls; configuration is checked', async (t) => {
  const peer = await scriptedPeer(t, () => undefined);
  const client = new NgClient({ address: '127.0.0.1', port: peer.port, timeoutMs: 5000, retries: 0 });
  const waiting = client.query({ callId: 'c' });
  while (peer.received.length < 1) await new Promise((r) => setTimeout(r, 5));
  await client.close();
  await t.rejects(waiting, { code: 'EPC_ERR_MEDIA', message: 'ng client closed' });
  await t.rejects(client.ping(), { code: 'EPC_ERR_MEDIA', message: 'ng client closed' });
  await client.close();
  t.throws(() => new NgClient({ address: 'rtpengine.local', port: 22222 }), { code: 'EPC_ERR_CONFIG_INVALID' });
  t.throws(() => new NgClient({ address: '127.0.0.1', port: 70000 }), { code: 'EPC_ERR_CONFIG_INVALID' });
});

t.test('NgClient: IPv6 gateway address', async (t) => {
  const socket = createSocket('udp6');
  socket.on('message', (data, remote) => socket.send(formatNgFrame(cookieOf(data), { result: 'pong' }), remote.port, remote.address));
  await new Promise<void>((resolve) => socket.bind(0, '::1', () => resolve()));
  t.teardown(() => socket.close());
  const client = new NgClient({ address: '::1', port: socket.address().port, timeoutMs: 200, retries: 0 });
  t.teardown(() => client.close());
  await t.resolves(client.ping());
});

t.test('rtpengine ng reply cache: TTL and size bound', async (t) => {
  let now = 0;
  const cache = new ReplyCache({ ttlMs: 1000, maxEntries: 2, now: () => now });
  let produced = 0;
  const produce = async (): Promise<Buffer> => Buffer.from(String(++produced));
  t.equal(cache.reply('a', produce).fresh, true);
  t.equal(cache.reply('a', produce).fresh, false, 'within the TTL: cached');
  now = 999;
  t.equal((await cache.reply('a', produce).reply).toString(), '1', 'still the first reply');
  now = 1000;
  t.equal(cache.reply('a', produce).fresh, true, 'after the TTL: produced again');
  cache.reply('b', produce);
  cache.reply('c', produce);
  t.equal(cache.size, 2, 'bounded');
  t.equal(cache.reply('a', produce).fresh, true, 'the oldest entry went first');
});
