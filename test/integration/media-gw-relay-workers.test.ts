/**
 * Relays on worker threads (media-gw/relay/relay-worker-pool.ts): the gateway thread keeps the
 * control, each worker owns its calls' sockets on its slice of the port ranges. The media path
 * through a worker relay (ICE, DTLS, SRTP ⇄ RTP, re-offers) is covered by
 * media-gw-gateway-calls.test.ts, which runs every call scenario in both modes.
 */
import t from 'tap';
import { createSocket } from 'node:dgram';
import { RelayWorkerPool, sliceOfRange } from '../../media-gw/relay/relay-worker-pool.js';

const WEBRTC_PORTS = { min: 38900, max: 38919 };
const IMS_PORTS = { min: 38920, max: 38959 };

function bindable(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

t.test('worker threads: each worker gets an equal slice of a port range, the last one the remainder', async (t) => {
  t.same(sliceOfRange({ min: 100, max: 199 }, 0, 2), { min: 100, max: 149 });
  t.same(sliceOfRange({ min: 100, max: 199 }, 1, 2), { min: 150, max: 199 });
  t.same(sliceOfRange({ min: 100, max: 200 }, 2, 3), { min: 166, max: 200 });
  t.throws(() => new RelayWorkerPool({ workers: 0, webrtcPorts: WEBRTC_PORTS, imsPorts: IMS_PORTS }), { code: 'EPC_ERR_CONFIG_INVALID' });
});

t.test('worker threads: calls go to the least-loaded worker, on its own ports; the call limit counts all workers; closeAll frees every port', async (t) => {
  const pool = new RelayWorkerPool({ workers: 2, webrtcPorts: WEBRTC_PORTS, imsPorts: IMS_PORTS, maxCalls: 4 });
  t.teardown(() => pool.terminate());
  const relays = await Promise.all([0, 1, 2, 3].map(() => pool.allocate({ streams: [{}] })));
  t.equal(pool.size, 4);
  const webrtcPorts = relays.map((relay) => relay.webrtc.localAddress.port);
  const inFirstSlice = webrtcPorts.filter((port) => port <= sliceOfRange(WEBRTC_PORTS, 0, 2).max).length;
  t.equal(inFirstSlice, 2, `two calls per worker (WebRTC ports ${webrtcPorts.join(', ')})`);
  t.equal(new Set(webrtcPorts).size, 4, 'no port handed out twice');
  for (const relay of relays) {
    const leg = relay.imsLegs[0];
    t.ok(leg !== undefined && leg.localRtp.port % 2 === 0 && leg.localRtcp.port === leg.localRtp.port + 1, 'RFC 3550 §11: even RTP port, RTCP on the next');
    t.equal(relay.ssrcTowardWebRtc(0), relay.ssrcTowardWebRtc(0), 'the announced SSRC is known in the gateway thread');
  }
  t.notOk(await bindable(webrtcPorts[0] as number), 'the worker holds its port');
  await t.rejects(pool.allocate({ streams: [{}] }), { code: 'EPC_ERR_MEDIA' }, 'the fifth call is refused');
  const counters = await relays[0]?.readCounters();
  t.equal(counters?.length, 2, 'counters of the WebRTC leg and the IMS leg, read from the worker');
  await pool.closeAll();
  t.equal(pool.size, 0);
  for (const port of webrtcPorts) t.ok(await bindable(port), `port ${port} is free again`);
  const again = await pool.allocate({ streams: [{ rtcpMux: true }] });
  t.ok(again.imsLegs[0]?.rtcpMuxed, 'the workers keep serving after closeAll');
  await again.close();
});

t.test('issue #4 idle media, R-AGW-4: an event on a worker reaches the relay delegate in the gateway thread', async (t) => {
  const pool = new RelayWorkerPool({ workers: 1, webrtcPorts: { min: 38960, max: 38969 }, imsPorts: { min: 38970, max: 38979 } });
  t.teardown(() => pool.terminate());
  const relay = await pool.allocate({ streams: [{}] });
  let idle = 0;
  relay.delegate = { onIdle: () => { idle++; } };
  relay.armIdleTimer(100);
  await relay.settled();
  await new Promise((resolve) => setTimeout(resolve, 400));
  t.equal(idle, 1, 'one idle event after 100 ms without RTP');
  await relay.close();
  t.ok(relay.closed);
  await relay.settled();
  t.same(await relay.readCounters(), [], 'a closed relay reads no counters');
});
