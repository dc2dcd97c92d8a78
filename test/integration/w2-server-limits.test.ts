/**
 * Issue 11 #5 and #11: the W2 listener is bounded per node, per source IP and per connection
 * (w2.limits), and a client the flood guard cuts off learns it at once. Real server on
 * loopback, raw TCP sockets for the slow clients, `ws` for the normal ones.
 */
import t from 'tap';
import type { Test } from 'tap';
import { connect as tcpConnect, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import type { W2Plugin } from '../../core/contract/contract.js';
import { defineW2Plugin, W2_CONTRACT_VERSION } from '../../core/contract/contract.js';
import type { W2Observer, W2ObserverEvents } from '../../core/contract/host.js';
import type { SessionCloseReason } from '../../core/contract/session.js';
import sipWs from '../../plugins/sip-ws/index.js';
import { closeOf, connect, startServer, waitFor } from '../unit/server/w2-harness.js';

const sipWsPlugin = sipWs as unknown as W2Plugin<never>;

function echoPlugin() {
  const closes: SessionCloseReason[] = [];
  const plugin = defineW2Plugin({
    meta: { name: 'echo', version: '1.0.0', contract: W2_CONTRACT_VERSION },
    bindings: [{ path: '/echo', subprotocols: ['echo'] }],
    init: () => ({
      openSession: (conn) => ({
        onFrame: (frame) => conn.send(frame),
        onClose: (reason) => { closes.push(reason); },
      }),
    }),
  });
  return { plugin, closes };
}

/** Refusals the server reports, by reason; `at` is when the first of each came. */
function refusals(observer: W2Observer): Record<string, number> & { at: Record<string, number> } {
  const counts = { at: {} } as Record<string, number> & { at: Record<string, number> };
  observer.on('refused', (info) => {
    counts[info.reason] = (counts[info.reason] ?? 0) + 1;
    counts.at[info.reason] ??= Date.now();
  });
  return counts;
}

/** A raw TCP client that sends the first bytes of an upgrade and then one byte at a time, slowly. */
function trickler(t: Test, port: number): { socket: Socket; closed: Promise<{ afterMs: number; data: string }> } {
  const socket = tcpConnect({ host: '127.0.0.1', port });
  t.teardown(() => socket.destroy());
  const started = Date.now();
  let data = '';
  socket.on('data', (chunk) => { data += chunk.toString('latin1'); });
  socket.on('error', () => undefined);
  const head = 'GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Slow: ';
  socket.write(head.slice(0, 10));
  let sent = 10;
  const timer = setInterval(() => {
    if (socket.destroyed) return;
    socket.write(sent < head.length ? head.charAt(sent) : 'a');
    sent += 1;
  }, 100);
  timer.unref();
  const closed = new Promise<{ afterMs: number; data: string }>((resolve) => socket.once('close', () => {
    clearInterval(timer);
    resolve({ afterMs: Date.now() - started, data });
  }));
  return { socket, closed };
}

function portOf(base: string): number {
  return Number(new URL(base.replace(/^ws/, 'http')).port);
}

t.test('issue 11 #5: beyond maxConnectionsPerIp a slow socket is refused at once, and a normal client still connects once one leaves', async (t) => {
  const echo = echoPlugin();
  const observer = new EventEmitter<W2ObserverEvents>();
  const counted = refusals(observer);
  const { base } = await startServer(t, {
    plugins: [echo.plugin], observer,
    config: { w2: { limits: { maxConnectionsPerIp: 4, upgradeTimeoutSeconds: 30 } } },
  });
  const port = portOf(base);
  const slow = [1, 2, 3, 4].map(() => trickler(t, port));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const excess = trickler(t, port);
  const { afterMs } = await excess.closed;
  t.ok(afterMs < 1_000, `the fifth connection from 127.0.0.1 is closed at once (${afterMs} ms)`);
  await t.rejects(connect(t, `${base}/echo`, 'echo'), 'a normal client from the same IP is refused too while the cap is full');
  t.equal(counted['connections_per_ip'], 2, 'both refusals are counted');
  slow[0]?.socket.destroy();
  await slow[0]?.closed;
  await new Promise((resolve) => setTimeout(resolve, 50));
  const ws = await connect(t, `${base}/echo`, 'echo');
  const reply = new Promise<string>((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString())));
  ws.send('still served');
  t.equal(await reply, 'still served', 'a slot freed by a leaving client serves a normal client');
  for (const s of slow) s.socket.destroy();
});

t.test('issue 11 #5: beyond maxConnections (per node) a new connection is refused at once', async (t) => {
  const echo = echoPlugin();
  const observer = new EventEmitter<W2ObserverEvents>();
  const counted = refusals(observer);
  const { base } = await startServer(t, {
    plugins: [echo.plugin], observer,
    config: { w2: { limits: { maxConnections: 2, upgradeTimeoutSeconds: 30 } } },
  });
  const a = await connect(t, `${base}/echo`, 'echo');
  await connect(t, `${base}/echo`, 'echo');
  await t.rejects(connect(t, `${base}/echo`, 'echo'), 'the third connection is dropped');
  await waitFor(() => counted['connections'] === 1);
  const gone = closeOf(a);
  a.close();
  await gone;
  await new Promise((resolve) => setTimeout(resolve, 50));
  const c = await connect(t, `${base}/echo`, 'echo');
  t.equal(c.readyState, c.OPEN, 'connections are admitted again once one left');
});

t.test('issue 11 #5: an upgrade whose request head is not complete by upgradeTimeoutSeconds gets 408 and is disconnected', async (t) => {
  const echo = echoPlugin();
  const observer = new EventEmitter<W2ObserverEvents>();
  const counted = refusals(observer);
  const { base } = await startServer(t, {
    plugins: [echo.plugin], observer,
    config: { w2: { limits: { upgradeTimeoutSeconds: 0.5 } } },
  });
  const slow = trickler(t, portOf(base));
  const { afterMs, data } = await slow.closed;
  t.ok(afterMs >= 450 && afterMs < 2_000, `cut after the 0.5 s deadline, not Node's 60 s (${afterMs} ms)`);
  t.match(data, /^HTTP\/1\.1 408 /, 'answered 408 Request Timeout');
  t.equal(counted['upgrade_timeout'], 1, 'counted as upgrade_timeout');
});

t.test('issue 11 #5: a WebSocket that sends no message by firstFrameTimeoutSeconds is closed with 1008; one that speaks stays', async (t) => {
  const echo = echoPlugin();
  const observer = new EventEmitter<W2ObserverEvents>();
  const counted = refusals(observer);
  const { base, server } = await startServer(t, {
    plugins: [echo.plugin], observer,
    config: { w2: { limits: { firstFrameTimeoutSeconds: 0.4 } } },
  });
  const silent = await connect(t, `${base}/echo`, 'echo');
  const talker = await connect(t, `${base}/echo`, 'echo');
  talker.send('hello');
  const started = Date.now();
  const { code } = await closeOf(silent);
  const afterMs = Date.now() - started;
  t.equal(code, 1008, 'RFC 6455 §7.4.1: policy violation');
  t.ok(afterMs < 1_500, `closed soon after the deadline (${afterMs} ms)`);
  t.equal(counted['first_frame_timeout'], 1);
  await waitFor(() => echo.closes.length === 1);
  t.equal(echo.closes[0]?.cause, 'deadline', 'the plugin hears why');
  await new Promise((resolve) => setTimeout(resolve, 600));
  t.equal(talker.readyState, talker.OPEN, 'a client that spoke is not subject to the deadline');
  t.equal(server.w2.sessions().length, 1);
});

t.test('issue 11 #11: a sip-ws client cut off for flooding gets 1008 within ~1-2 s even while it keeps flooding', async (t) => {
  const observer = new EventEmitter<W2ObserverEvents>();
  const counted = refusals(observer);
  const { base } = await startServer(t, {
    plugins: [sipWsPlugin], observer,
    config: { plugins: [{ name: 'sip-ws', options: { floodBurst: 20, floodRatePerSecond: 5 } }], w2: { limits: { closeTimeoutSeconds: 1 } } },
  });
  const flooder = await connect(t, `${base}/sip`, 'sip');
  const closed = closeOf(flooder);
  // Keeps the server busy: the session stops reading past its backlog, as a real flood does.
  const frame = `OPTIONS sip:ims.test SIP/2.0\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bKf\r\nMax-Forwards: 70\r\nFrom: <sip:a@ims.test>;tag=1\r\nTo: <sip:ims.test>\r\nCall-ID: f\r\nCSeq: 1 OPTIONS\r\n\r\n`;
  const pump = setInterval(() => {
    if (flooder.readyState !== flooder.OPEN) return;
    for (let i = 0; i < 200; i++) flooder.send(frame);
  }, 5);
  t.teardown(() => clearInterval(pump));
  const { code, reason } = await closed;
  const toldAt = Date.now();
  clearInterval(pump);
  t.equal(code, 1008);
  t.equal(reason, 'flood');
  t.equal(counted['flood'], 1, 'the cut-off is counted as flood');
  const lagMs = toldAt - (counted.at['flood'] ?? 0);
  t.ok(lagMs < 2_500, `the client is told within ~1-2 s of the rule tripping (${lagMs} ms), not ws's 30 s close timeout`);
});
