import t, { type Test } from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { EpcError } from '../../../core/errors.js';
import type { NgQueryResult } from '../../../media-gw/ng/control.js';
import { NgClient } from '../../../media-gw/ng/ng-client.js';
import { handleNgDatagram, NgServer } from '../../../media-gw/ng/ng-server.js';
import { encodeNgRequest, formatNgFrame, parseNgFrame } from '../../../media-gw/ng/protocol.js';
import { ReplyCache } from '../../../media-gw/ng/reply-cache.js';
import { FakeGateway } from './fake-gateway.js';
import { answerTowardWic, offerTowardIms, plainRtpAnswer } from './ims-alg-requests.js';

async function serverWithClient(t: Test, gateway = new FakeGateway()): Promise<{ gateway: FakeGateway; server: NgServer; client: NgClient }> {
  const server = await NgServer.listen({ control: gateway });
  const client = new NgClient({ address: '127.0.0.1', port: server.address().port, timeoutMs: 200, retries: 1 });
  t.teardown(async () => { await client.close(); await server.close(); });
  return { gateway, server, client };
}

/** Sends raw datagrams and collects the replies. */
async function rawPeer(t: Test, port: number): Promise<{ send(data: Buffer | string): void; replies(n: number, waitMs?: number): Promise<Buffer[]> }> {
  const socket: Socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  t.teardown(() => socket.close());
  return {
    send: (data) => socket.send(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, port, '127.0.0.1'),
    async replies(n, waitMs = 1000) {
      const deadline = Date.now() + waitMs;
      while (received.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      return received;
    },
  };
}

t.test('ng server: ping → pong without touching the gateway', async (t) => {
  const { gateway, client } = await serverWithClient(t);
  await t.resolves(client.ping());
  t.equal(gateway.calls.length, 0);
});

t.test('ng server: the IMS-ALG\'s rtpengine requests reach the gateway exactly as typed (same shapes as the rtpengine interop test)', async (t) => {
  const { gateway, client } = await serverWithClient(t);
  const offer = offerTowardIms('call-1', 'wic-tag');
  const answer = answerTowardWic('call-1', 'wic-tag', 'ims-tag', plainRtpAnswer('127.0.0.1', 4000));
  t.same(await client.offer(offer), { sdp: 'offer-reply call-1 1' }, 'offer reply SDP');
  t.same(await client.answer(answer), { sdp: 'answer-reply call-1' }, 'answer reply SDP');
  const byTag = (q: NgQueryResult): NgQueryResult => ({ ...q, streams: [...q.streams].sort((a, b) => a.tag.localeCompare(b.tag)) });
  t.same(byTag(await client.query({ callId: 'call-1' })), byTag(gateway.queryResult), 'query result round trip');
  await client.delete({ callId: 'call-1', fromTag: 'wic-tag' });
  t.same(gateway.calls, [
    { command: 'offer', request: offer },
    { command: 'answer', request: answer },
    { command: 'query', request: { callId: 'call-1' } },
    { command: 'delete', request: { callId: 'call-1', fromTag: 'wic-tag' } },
  ]);
});

t.test('ng server: gateway failures become `result: error` with the error-reason', async (t) => {
  const { gateway, client } = await serverWithClient(t);
  await t.rejects(client.query({ callId: 'unknown' }), { code: 'EPC_ERR_MEDIA', message: 'ng query failed: Unknown call-id' });
  gateway.failure = new EpcError('EPC_ERR_MEDIA', 'no free ports');
  await t.rejects(client.offer(offerTowardIms('c', 'f')), { message: 'ng offer failed: no free ports' });
  gateway.failure = new TypeError('x is undefined');
  await t.rejects(client.offer(offerTowardIms('c2', 'f')), { message: 'ng offer failed: internal error' },
    'a gateway bug is not described to the network');
});

t.test('ng server: malformed datagrams — rtpengine\'s error replies, or silence without a cookie', async (t) => {
  const { gateway, server } = await serverWithClient(t);
  const peer = await rawPeer(t, server.address().port);
  peer.send('no-space-at-all');
  peer.send('c1 d7:command');
  peer.send('c2 d7:command5:boguse');
  peer.send('c3 d7:command5:offere');
  peer.send('c4 l4:spame');
  const replies = (await peer.replies(4)).map((r) => parseNgFrame(r));
  await new Promise((r) => setTimeout(r, 50));
  t.equal(replies.length, 4, 'four replies: the cookie-less datagram is dropped');
  const byCookie = Object.fromEntries(replies.map((f) => [f.cookie, { ...f.dict }]));
  t.same(byCookie, {
    c1: { result: 'error', 'error-reason': 'Could not decode dictionary' },
    c2: { result: 'error', 'error-reason': 'Unrecognized command' },
    c3: { result: 'error', 'error-reason': 'No call-id in message' },
    c4: { result: 'error', 'error-reason': 'ng message body is not a dictionary' },
  });
  t.equal(gateway.calls.length, 0);
});

t.test('rtpengine ng: a retransmission (same cookie) is answered with the first reply — the command runs once', async (t) => {
  const gateway = new FakeGateway();
  gateway.delayMs = 100;
  const { server } = await serverWithClient(t, gateway);
  const peer = await rawPeer(t, server.address().port);
  const datagram = formatNgFrame('retx-1', encodeNgRequest({ command: 'offer', ...offerTowardIms('c', 'f') }));
  peer.send(datagram);
  await new Promise((r) => setTimeout(r, 20));
  peer.send(datagram); // while the offer is still running
  const [first, second] = await peer.replies(2);
  peer.send(datagram); // after it completed
  const all = await peer.replies(3);
  t.equal(gateway.calls.length, 1, 'the gateway saw one offer');
  t.ok(first && second && all[2], 'three replies');
  t.same(second, first, 'in-progress retransmission: same reply');
  t.same(all[2], first, 'late retransmission: same reply from the cache');
  t.equal(parseNgFrame(first as Buffer).dict['sdp'], 'offer-reply c 1');
  const other = formatNgFrame('retx-2', encodeNgRequest({ command: 'offer', ...offerTowardIms('c', 'f') }));
  peer.send(other);
  await peer.replies(4);
  t.equal(gateway.calls.length, 2, 'a new cookie is a new request');
});

t.test('ng server: handleNgDatagram keys the cache by sender, so two clients may use the same cookie', async (t) => {
  const gateway = new FakeGateway();
  const cache = new ReplyCache();
  const datagram = formatNgFrame('same', encodeNgRequest({ command: 'query', callId: 'c' }));
  await handleNgDatagram(datagram, { control: gateway, cache, peer: '127.0.0.1:1000' });
  await handleNgDatagram(datagram, { control: gateway, cache, peer: '127.0.0.1:2000' });
  await handleNgDatagram(datagram, { control: gateway, cache, peer: '127.0.0.1:1000' });
  t.equal(gateway.calls.length, 2);
  t.equal(await handleNgDatagram(Buffer.from('nocookie'), { control: gateway, cache, peer: 'p' }), undefined);
});

t.test('ng server: close is idempotent and the port is released', async (t) => {
  const server = await NgServer.listen({ control: new FakeGateway() });
  const { port } = server.address();
  await server.close();
  await server.close();
  const again = await NgServer.listen({ control: new FakeGateway(), port });
  t.equal(again.address().port, port);
  await again.close();
  await t.rejects(NgServer.listen({ control: new FakeGateway(), address: '192.0.2.1' }), { code: 'EPC_ERR_MEDIA', message: /cannot bind/ });
});
