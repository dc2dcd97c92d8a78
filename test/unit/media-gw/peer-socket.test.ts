import t from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { PeerSocket } from '../../../media-gw/rtp/peer-socket.js';
import { allocatePort, releasePort } from '../../support/peers/ports.js';

/**
 * A socket on an explicit port, as the gateway's port allocator binds them: Linux keeps an
 * explicitly bound port across a disconnect (udp_disconnect, SOCK_BINDPORT_LOCK) but drops an
 * ephemeral one.
 */
async function bound(): Promise<{ socket: Socket; port: number; got: Buffer[]; from: number[] }> {
  const port = await allocatePort();
  const socket = createSocket('udp4');
  socket.once('close', () => releasePort(port));
  const got: Buffer[] = [];
  const from: number[] = [];
  socket.on('message', (data, rinfo) => {
    got.push(data);
    from.push(rinfo.port);
  });
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  return { socket, port, got, from };
}
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

t.test('connected media socket: sends asked for while connect(2) is in flight are all delivered, in order', async (t) => {
  const local = await bound();
  const far = await bound();
  t.teardown(() => [local, far].forEach((s) => s.socket.close()));
  const peer = new PeerSocket(local.socket);
  t.ok(peer.send(Buffer.from([1]), far.port, '127.0.0.1'), 'unconnected send');
  peer.pin(far.port, '127.0.0.1');
  t.ok(peer.pinned && peer.isPinnedTo(far.port, '127.0.0.1'));
  // Without holding, these would be lost to EISCONN once the connect lands before the deferred send.
  for (let i = 2; i <= 4; i++) t.ok(peer.send(Buffer.from([i]), far.port, '127.0.0.1'));
  await settle();
  t.ok(peer.send(Buffer.from([5]), far.port, '127.0.0.1'), 'connected send');
  await settle();
  t.same(far.got.map((b) => b[0]), [1, 2, 3, 4, 5]);
  t.equal(peer.errors, 0);
});

t.test('connected media socket: it hears only its far end while pinned, everyone again once unpinned', async (t) => {
  const local = await bound();
  const far = await bound();
  const other = await bound();
  t.teardown(() => [local, far, other].forEach((s) => s.socket.close()));
  const peer = new PeerSocket(local.socket);
  peer.pin(far.port, '127.0.0.1');
  await settle();
  far.socket.send(Buffer.from([1]), local.port, '127.0.0.1');
  other.socket.send(Buffer.from([2]), local.port, '127.0.0.1');
  await settle();
  t.same(local.from, [far.port], 'the kernel filtered the other source');
  t.equal(peer.send(Buffer.from([3]), other.port, '127.0.0.1'), false, 'no send to another far end while pinned');
  peer.unpin();
  t.notOk(peer.pinned);
  t.equal(local.socket.address().port, local.port, 'the explicitly bound port survives the disconnect');
  other.socket.send(Buffer.from([4]), local.port, '127.0.0.1');
  t.ok(peer.send(Buffer.from([5]), other.port, '127.0.0.1'));
  await settle();
  t.same(local.from, [far.port, other.port]);
  t.same(other.got.map((b) => b[0]), [5]);
});

t.test('connected media socket: an ICMP port unreachable from a vanished far end is counted, not thrown', async (t) => {
  const local = await bound();
  const far = await bound();
  t.teardown(() => local.socket.close());
  const peer = new PeerSocket(local.socket);
  peer.pin(far.port, '127.0.0.1');
  await settle();
  await new Promise<void>((resolve) => far.socket.close(resolve));
  // Linux reports the ICMP error on a connected UDP socket (ECONNREFUSED on the next recvmsg or send).
  for (let i = 0; i < 3; i++) {
    peer.send(Buffer.from([i]), far.port, '127.0.0.1');
    await settle();
  }
  t.ok(peer.errors >= 1, `errors counted (${peer.errors})`);
});

t.test('connected media socket: re-pinning to another far end reconnects; close stops sending', async (t) => {
  const local = await bound();
  const a = await bound();
  const b = await bound();
  t.teardown(() => [local, a, b].forEach((s) => s.socket.close()));
  const peer = new PeerSocket(local.socket);
  peer.pin(a.port, '127.0.0.1');
  peer.pin(b.port, '127.0.0.1');
  t.ok(peer.isPinnedTo(b.port, '127.0.0.1'), 'the last pin wins even while the first connect is in flight');
  peer.send(Buffer.from([1]), b.port, '127.0.0.1');
  await settle();
  peer.send(Buffer.from([2]), b.port, '127.0.0.1');
  await settle();
  t.same(b.got.map((x) => x[0]), [1, 2]);
  t.same(a.got, []);
  peer.close();
  t.equal(peer.send(Buffer.from([3]), b.port, '127.0.0.1'), false);
});
