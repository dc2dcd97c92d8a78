import t from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { ImsLeg } from '../../../media-gw/rtp/ims-leg.js';
import { UdpPortAllocator } from '../../../media-gw/rtp/port-allocator.js';
import { allocatePort, releasePort } from '../../support/peers/ports.js';

async function peer(): Promise<{ socket: Socket; port: number; got: Buffer[] }> {
  const socket = createSocket('udp4');
  const got: Buffer[] = [];
  socket.on('message', (data) => got.push(data));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, got };
}

const rtp = (seq: number): Buffer => {
  const p = Buffer.alloc(20);
  p[0] = 0x80;
  p.writeUInt16BE(seq, 2);
  return p;
};
const rr = (): Buffer => Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1]);
const settle = () => new Promise((r) => setTimeout(r, 50));

t.test('RFC 3550 §11: IMS legs bind RTP on an even port and RTCP on the next one, inside the range', async (t) => {
  const allocator = new UdpPortAllocator({ min: 35001, max: 35010 });
  const [a, b] = await allocator.bindPair();
  const [c, d] = await allocator.bindPair();
  t.teardown(() => [a, b, c, d].forEach((s) => s.close()));
  t.equal(a.address().port % 2, 0);
  t.equal(b.address().port, a.address().port + 1);
  t.not(c.address().port, a.address().port, 'the cursor moves on');
  t.ok(d.address().port <= 35010 && a.address().port >= 35001);
});

t.test('resource control: an exhausted port range fails with EPC_ERR_MEDIA', async (t) => {
  // One port claimed through the shared lock so no other test process or ephemeral socket has it.
  const port = await allocatePort();
  t.teardown(() => releasePort(port));
  const allocator = new UdpPortAllocator({ min: port, max: port });
  const only = await allocator.bindOne();
  t.teardown(() => only.close());
  await t.rejects(allocator.bindOne(), { code: 'EPC_ERR_MEDIA' });
  await t.rejects(allocator.bindPair(), { code: 'EPC_ERR_MEDIA' }, 'a one-port range holds no RTP/RTCP pair');
  t.throws(() => new UdpPortAllocator({ min: 10, max: 5 }), { code: 'EPC_ERR_CONFIG_INVALID' });
});

t.test('RFC 4961 symmetric RTP: the leg latches to where packets come from, not the SDP address', async (t) => {
  const allocator = new UdpPortAllocator({ min: 35030, max: 35039 });
  const [rtpSocket, rtcpSocket] = await allocator.bindPair();
  const sdpAddress = await peer();
  const realSource = await peer();
  const intruder = await peer();
  const leg = new ImsLeg({ rtpSocket, rtcpSocket, remoteRtp: { address: '127.0.0.1', port: sdpAddress.port }, relatchAfterMs: 200 });
  const inbound: Buffer[] = [];
  leg.delegate = { onRtp: (p) => inbound.push(p), onRtcp: () => {} };
  t.teardown(async () => {
    await leg.close();
    [sdpAddress, realSource, intruder].forEach((p) => p.socket.close());
  });
  leg.sendRtp(rtp(1));
  await settle();
  t.equal(sdpAddress.got.length, 1, 'before latching we send to the SDP address');
  realSource.socket.send(rtp(2), leg.localRtp.port, '127.0.0.1');
  await settle();
  leg.sendRtp(rtp(3));
  await settle();
  t.equal(realSource.got.length, 1, 'after the first packet we send where it came from');
  intruder.socket.send(rtp(4), leg.localRtp.port, '127.0.0.1');
  await settle();
  t.equal(inbound.length, 1, 'a second source is refused while the latched one is live');
  t.ok(leg.rtpPinned, 'the RTP socket is connected to the latched source (the kernel filters the others)');
  await new Promise((r) => setTimeout(r, 250));
  t.notOk(leg.rtpPinned, 'the silence watchdog disconnected it after the re-latch time');
  intruder.socket.send(rtp(5), leg.localRtp.port, '127.0.0.1');
  await settle();
  t.equal(inbound.length, 2, 're-latched after the old source went silent');
  leg.sendRtp(rtp(6));
  await settle();
  t.equal(intruder.got.length, 1, 'and we send to the new source');
  t.ok(leg.rtpPinned, 'connected to the new source');
});

t.test('RFC 4961 / RFC 3264 §8: a new SDP address (re-INVITE) disconnects the latched socket and latching starts afresh', async (t) => {
  const allocator = new UdpPortAllocator({ min: 35050, max: 35059 });
  const [rtpSocket, rtcpSocket] = await allocator.bindPair();
  const first = await peer();
  const second = await peer();
  const leg = new ImsLeg({ rtpSocket, rtcpSocket, remoteRtp: { address: '127.0.0.1', port: first.port } });
  const inbound: Buffer[] = [];
  leg.delegate = { onRtp: (p) => inbound.push(p), onRtcp: () => {} };
  t.teardown(async () => {
    await leg.close();
    [first, second].forEach((p) => p.socket.close());
  });
  first.socket.send(rtp(1), leg.localRtp.port, '127.0.0.1');
  await settle();
  t.ok(leg.rtpPinned, 'latched and connected to the first far end');
  leg.sendRtp(rtp(2));
  leg.setRemote({ address: '127.0.0.1', port: second.port });
  t.notOk(leg.rtpPinned, 'the new SDP address unpins at once');
  leg.sendRtp(rtp(3));
  await settle();
  t.equal(first.got.length, 1, 'the packet before the change went to the first far end');
  t.equal(second.got.length, 1, 'the packet after it to the SDP address of the re-INVITE');
  second.socket.send(rtp(4), leg.localRtp.port, '127.0.0.1');
  await settle();
  t.equal(inbound.length, 2, 'the new far end is heard');
  t.ok(leg.rtpPinned, 'and latched');
  first.socket.send(rtp(5), leg.localRtp.port, '127.0.0.1');
  await settle();
  t.equal(inbound.length, 2, 'the old far end is no longer heard');
});

t.test('RFC 3264 §8.4: old-style hold (c=0.0.0.0) unpins and sends nothing', async (t) => {
  const allocator = new UdpPortAllocator({ min: 35060, max: 35069 });
  const [rtpSocket, rtcpSocket] = await allocator.bindPair();
  const far = await peer();
  const leg = new ImsLeg({ rtpSocket, rtcpSocket, remoteRtp: { address: '127.0.0.1', port: far.port } });
  leg.delegate = { onRtp: () => {}, onRtcp: () => {} };
  t.teardown(async () => {
    await leg.close();
    far.socket.close();
  });
  far.socket.send(rtp(1), leg.localRtp.port, '127.0.0.1');
  await settle();
  t.ok(leg.rtpPinned);
  leg.setRemote(undefined);
  t.notOk(leg.rtpPinned);
  t.equal(leg.sendRtp(rtp(2)), false, 'nothing is sent while held');
  await settle();
  t.equal(far.got.length, 0);
});

t.test('R-ALG-11: RTCP goes to port+1 by default, or rides the RTP port when the far end muxes', async (t) => {
  const allocator = new UdpPortAllocator({ min: 35040, max: 35049 });
  const [rtpSocket, rtcpSocket] = await allocator.bindPair();
  const far = await peer();
  const farRtcp = createSocket('udp4');
  const farRtcpGot: Buffer[] = [];
  farRtcp.on('message', (d) => farRtcpGot.push(d));
  await new Promise<void>((resolve) => farRtcp.bind(far.port + 1, '127.0.0.1', resolve));
  const pairLeg = new ImsLeg({ rtpSocket, rtcpSocket, remoteRtp: { address: '127.0.0.1', port: far.port } });
  const muxSocket = await allocator.bindOne();
  const muxLeg = new ImsLeg({ rtpSocket: muxSocket, remoteRtp: { address: '127.0.0.1', port: far.port } });
  const muxRtcp: Buffer[] = [];
  muxLeg.delegate = { onRtp: () => {}, onRtcp: (p) => muxRtcp.push(p) };
  t.teardown(async () => {
    await pairLeg.close();
    await muxLeg.close();
    far.socket.close();
    farRtcp.close();
  });
  pairLeg.sendRtcp(rr());
  muxLeg.sendRtcp(rr());
  await settle();
  t.equal(farRtcpGot.length, 1, 'non-muxed RTCP went to port+1');
  t.equal(far.got.length, 1, 'muxed RTCP went to the RTP port');
  far.socket.send(rr(), muxLeg.localRtp.port, '127.0.0.1');
  await settle();
  t.equal(muxRtcp.length, 1, 'RTCP arriving on the muxed port is told apart by packet type (RFC 5761 §4)');
  t.ok(muxLeg.rtcpMuxed);
});
