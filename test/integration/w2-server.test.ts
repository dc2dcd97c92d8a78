import t from 'tap';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { defineW2Plugin, W2_CONTRACT_VERSION } from '../../core/contract/contract.js';
import type { SessionCloseReason, W2Connection } from '../../core/contract/session.js';
import type { W2ObserverEvents } from '../../core/contract/host.js';
import { pino } from 'pino';
import { loadConfigFile } from '../../core/config/index.js';
import { createEpcscfServer } from '../../core/server/index.js';
import { closeOf, connect, nextMessage, refusedStatus, startServer, waitFor } from '../unit/server/w2-harness.js';

const repoRoot = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

function recordingPlugin(name: string, path: string, subprotocols: string[], extra: { allowedOrigins?: string[] } = {}) {
  const closes: SessionCloseReason[][] = [];
  const connections: W2Connection[] = [];
  const plugin = defineW2Plugin({
    meta: { name, version: '1.0.0', contract: W2_CONTRACT_VERSION },
    bindings: [{ path, subprotocols, ...extra }],
    init: () => ({ openSession: (conn) => {
      const mine: SessionCloseReason[] = [];
      closes.push(mine);
      connections.push(conn);
      return {
        onFrame: async (frame) => {
          if (frame === 'throw') throw new Error('boom');
          if (frame === 'reject') return Promise.reject(new Error('async boom'));
          if (frame === 'close-me') return conn.close(4000, 'bye');
          await conn.send(frame);
        },
        onClose: (reason) => { mine.push(reason); },
        describe: () => ({ subprotocol: conn.subprotocol }),
      };
    } }),
  });
  return { plugin, closes, connections };
}

t.test('examples/plugin-echo loaded by file path echoes text and binary frames over a real WebSocket', async (t) => {
  const { base, server } = await startServer(t, {
    config: { plugins: [{ name: './examples/plugin-echo/index.js' }] },
    configDir: repoRoot,
  });
  t.equal(server.plugins.plugins[0]?.origin, 'file');
  const ws = await connect(t, `${base}/echo`, 'echo');
  ws.send('hello');
  const text = await nextMessage(ws);
  t.equal(text.isBinary, false);
  t.equal(text.data.toString(), 'hello');
  ws.send(Buffer.from([0, 1, 2, 255]));
  const binary = await nextMessage(ws);
  t.equal(binary.isBinary, true, 'RFC 6455 §5.6: bytes come back as a binary frame');
  t.same([...binary.data], [0, 1, 2, 255]);
});

t.test('examples/plugin-echo/epcscf.yaml boots through loadConfigFile + createEpcscfServer (listen overridden by EPCSCF_W2_LISTEN)', async (t) => {
  const config = await loadConfigFile(`${repoRoot}/examples/plugin-echo/epcscf.yaml`, { env: { EPCSCF_W2_LISTEN: '127.0.0.1:0' } });
  const server = await createEpcscfServer(config, { logger: pino({ level: 'silent' }) });
  t.teardown(() => server.close());
  const { port } = await server.listen();
  t.not(port, 8080);
  const ws = await connect(t, `ws://127.0.0.1:${port}/echo`, 'echo');
  ws.send('from the example config');
  t.equal((await nextMessage(ws)).data.toString(), 'from the example config');
});

t.test('RFC 6455 §4.2.2: the server echoes the one subprotocol it selected from the offer', async (t) => {
  const a = recordingPlugin('a', '/sip', ['sip']);
  const b = recordingPlugin('b', '/sip', ['x-other']);
  const { base, server } = await startServer(t, { plugins: [a.plugin, b.plugin] });
  const ws = await connect(t, `${base}/sip`, ['foo', 'sip']);
  t.equal(ws.protocol, 'sip', 'not the first offered token (ws default) but the one served');
  t.equal(a.connections[0]?.subprotocol, 'sip');
  const other = await connect(t, `${base}/sip`, ['x-other']);
  t.equal(other.protocol, 'x-other', 'same path, other subprotocol → the other plugin');
  t.equal(b.connections.length, 1);
  const sessions = server.w2.sessions();
  t.same(sessions.map((s) => [s.plugin, s.subprotocol, s.description]).sort(), [['a', 'sip', { subprotocol: 'sip' }], ['b', 'x-other', { subprotocol: 'x-other' }]], 'admin view: describe() of each session');
});

t.test('R-WS-3: an upgrade that offers no served subprotocol is refused with 400, no upgrade', async (t) => {
  const a = recordingPlugin('a', '/sip', ['sip']);
  const { base } = await startServer(t, { plugins: [a.plugin] });
  t.equal(await refusedStatus(t, `${base}/sip`, ['xmpp']), 400);
  t.equal(await refusedStatus(t, `${base}/sip`, []), 400, 'no Sec-WebSocket-Protocol at all');
  t.equal(await refusedStatus(t, `${base}/nowhere`, ['sip']), 404, 'unknown path');
  t.equal(a.connections.length, 0, 'the plugin never saw a connection');
});

t.test('R-WS-4: an Origin outside the binding allow-list gets 403 without upgrade; a listed one connects', async (t) => {
  const a = recordingPlugin('a', '/sip', ['sip']);
  const { base } = await startServer(t, { plugins: [a.plugin], config: { w2: { allowedOrigins: ['https://wwsf.example.com'] } } });
  t.equal(await refusedStatus(t, `${base}/sip`, 'sip', { origin: 'https://evil.example.net' }), 403);
  t.equal(await refusedStatus(t, `${base}/sip`, 'sip'), 403, 'no Origin while a list is set');
  const ws = await connect(t, `${base}/sip`, 'sip', { origin: 'https://WWSF.example.com:443' });
  t.equal(ws.protocol, 'sip', 'RFC 6454 origin comparison: case of host and default port do not matter');
  t.equal(a.connections[0]?.origin, 'https://WWSF.example.com:443');
});

t.test('R-WS-4: an empty allow-list admits any Origin; a plugin entry may override the server list', async (t) => {
  const open = recordingPlugin('open', '/open', ['sip']);
  const strict = recordingPlugin('strict', '/strict', ['sip']);
  const { base } = await startServer(t, {
    plugins: [open.plugin, strict.plugin],
    config: { plugins: [{ name: 'open' }, { name: 'strict', allowedOrigins: ['https://a.test'] }] },
  });
  await connect(t, `${base}/open`, 'sip', { origin: 'https://anything.test' });
  t.equal(await refusedStatus(t, `${base}/strict`, 'sip', { origin: 'https://b.test' }), 403);
  await connect(t, `${base}/strict`, 'sip', { origin: 'https://a.test' });
  t.equal(strict.connections.length, 1);
});

t.test('RFC 7231 §6.5.15: a plain GET on a W2 path answers 426; later routes work (health is core/admin\'s)', async (t) => {
  const a = recordingPlugin('a', '/sip', ['sip']);
  const { base, server } = await startServer(t, { plugins: [a.plugin] });
  const http = base.replace('ws://', 'http://');
  const plain = await fetch(`${http}/sip`);
  t.equal(plain.status, 426);
  t.equal(plain.headers.get('upgrade'), 'websocket');
  t.equal((await fetch(`${http}/health`)).status, 404, 'the W2 server alone serves no /health: core/admin does');
  t.equal((await server.w2.app.inject({ method: 'GET', url: '/sip' })).statusCode, 426, 'inject() reaches the HTTP routes');
});

t.test('RFC 6455 §7.4.1: an oversized message closes that connection with 1009; another client keeps working', async (t) => {
  const a = recordingPlugin('a', '/sip', ['sip']);
  const { base } = await startServer(t, { plugins: [a.plugin], config: { w2: { maxFrameBytes: 1024 } } });
  const big = await connect(t, `${base}/sip`, 'sip');
  const small = await connect(t, `${base}/sip`, 'sip');
  const closing = closeOf(big);
  big.send('x'.repeat(4096));
  t.equal((await closing).code, 1009);
  small.send('still here');
  t.equal((await nextMessage(small)).data.toString(), 'still here');
  await waitFor(() => a.closes[0]?.length === 1);
  t.equal(a.closes[0]?.[0]?.cause, 'frame-limit');
});

t.test('binding maxFrameBytes below the server ceiling is enforced with 1009 too', async (t) => {
  const plugin = defineW2Plugin({
    meta: { name: 'tiny', version: '1.0.0', contract: W2_CONTRACT_VERSION },
    bindings: [{ path: '/tiny', subprotocols: ['tiny'], maxFrameBytes: 16 }],
    init: () => ({ openSession: (conn) => ({ onFrame: (f) => conn.send(f), onClose: () => {} }) }),
  });
  const { base } = await startServer(t, { plugins: [plugin] });
  const ws = await connect(t, `${base}/tiny`, 'tiny');
  ws.send('0123456789abcdef');
  t.equal((await nextMessage(ws)).data.toString(), '0123456789abcdef', '16 bytes pass');
  const closing = closeOf(ws);
  ws.send('0123456789abcdefX');
  t.equal((await closing).code, 1009);
});

t.test('R-WS-7 / style-anchors §10.6: a hook that throws closes only that session with 1011 and is counted', async (t) => {
  const a = recordingPlugin('a', '/sip', ['sip']);
  const { base, server } = await startServer(t, { plugins: [a.plugin] });
  const errors: W2ObserverEvents['pluginerror'][0][] = [];
  server.observer.on('pluginerror', (info) => errors.push(info));
  const faulty = await connect(t, `${base}/sip`, 'sip');
  const rejecting = await connect(t, `${base}/sip`, 'sip');
  const healthy = await connect(t, `${base}/sip`, 'sip');
  const faultyClose = closeOf(faulty);
  const rejectingClose = closeOf(rejecting);
  faulty.send('throw');
  rejecting.send('reject');
  t.equal((await faultyClose).code, 1011, 'synchronous throw');
  t.equal((await rejectingClose).code, 1011, 'rejected promise');
  healthy.send('ok');
  t.equal((await nextMessage(healthy)).data.toString(), 'ok', 'the other session is unaffected');
  await waitFor(() => server.w2.stats().sessions === 1);
  t.same(server.w2.stats().faults, { a: 2 });
  t.equal(errors.length, 2);
  t.equal(errors[0]?.hook, 'onFrame');
  t.equal(a.closes[0]?.length, 1);
  t.equal(a.closes[0]?.[0]?.cause, 'fault');
  t.equal(a.closes[0]?.[0]?.code, 1011);
});

t.test('contract: openSession throwing or returning a session without onClose refuses the connection with 1011', async (t) => {
  const throwing = defineW2Plugin({
    meta: { name: 'throwing', version: '1.0.0', contract: W2_CONTRACT_VERSION },
    bindings: [{ path: '/t', subprotocols: ['t'] }],
    init: () => ({ openSession: () => { throw new Error('no'); } }),
  });
  const hookless = defineW2Plugin({
    meta: { name: 'hookless', version: '1.0.0', contract: W2_CONTRACT_VERSION },
    bindings: [{ path: '/h', subprotocols: ['h'] }],
    init: () => ({ openSession: () => ({ onFrame: () => {} }) as never }),
  });
  const { base, server } = await startServer(t, { plugins: [throwing, hookless] });
  const errors: string[] = [];
  server.observer.on('pluginerror', (info) => errors.push(`${info.plugin}:${(info.error as { code?: string }).code ?? 'Error'}`));
  const a = await connect(t, `${base}/t`, 't');
  t.equal((await closeOf(a)).code, 1011);
  const b = await connect(t, `${base}/h`, 'h');
  t.equal((await closeOf(b)).code, 1011);
  t.same(errors, ['throwing:Error', 'hookless:EPC_ERR_PLUGIN_MISSING_HOOK']);
});

t.test('contract: onClose is called exactly once per session — client close, plugin close, fault', async (t) => {
  const a = recordingPlugin('a', '/sip', ['sip']);
  const { base, server } = await startServer(t, { plugins: [a.plugin] });
  const client = await connect(t, `${base}/sip`, 'sip');
  const byPlugin = await connect(t, `${base}/sip`, 'sip');
  const faulty = await connect(t, `${base}/sip`, 'sip');
  await waitFor(() => a.connections.length === 3);
  client.close(1000, 'done');
  const pluginClose = closeOf(byPlugin);
  byPlugin.send('close-me');
  t.equal((await pluginClose).code, 4000);
  faulty.send('throw');
  await closeOf(faulty);
  await waitFor(() => server.w2.stats().sessions === 0);
  await new Promise((r) => setTimeout(r, 50)); // room for a wrong second call
  t.same(a.closes.map((c) => c.length), [1, 1, 1]);
  t.same(a.closes.map((c) => c[0]?.cause), ['remote', 'plugin', 'fault']);
  t.equal(a.closes[0]?.[0]?.code, 1000);
  await t.rejects(a.connections[0]!.send('late'), { code: 'EPC_ERR_INVALID_STATE' }, 'send after close rejects');
});

t.test('R-WS-10: an idle client is pinged; one that never answers the ping is dropped', async (t) => {
  const a = recordingPlugin('a', '/sip', ['sip']);
  const { base } = await startServer(t, { plugins: [a.plugin], config: { w2: { pingIntervalSeconds: 0.1 } } });
  const silent = await connect(t, `${base}/sip`, 'sip', { autoPong: false });
  const polite = await connect(t, `${base}/sip`, 'sip');
  let pings = 0;
  polite.on('ping', () => pings++);
  const dropped = closeOf(silent);
  t.equal((await dropped).code, 1006, 'terminated, no close frame');
  await waitFor(() => pings >= 2);
  t.equal(polite.readyState, polite.OPEN, 'a client that answers pings stays');
  t.equal(a.closes[0]?.[0]?.cause, 'keepalive');
});

t.test('contract: frames reach onFrame one at a time and in order, even when the client outpaces the plugin', async (t) => {
  const received: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const slow = defineW2Plugin({
    meta: { name: 'slow', version: '1.0.0', contract: W2_CONTRACT_VERSION },
    bindings: [{ path: '/slow', subprotocols: ['slow'] }],
    init: () => ({ openSession: async (conn) => {
      await new Promise((r) => setTimeout(r, 20)); // frames arriving before the session exists wait for it
      return {
        onFrame: async (frame) => {
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          await new Promise((r) => setImmediate(r));
          received.push(String(frame));
          inFlight--;
          if (received.length === 200) await conn.send('done');
        },
        onClose: () => {},
      };
    } }),
  });
  const { base } = await startServer(t, { plugins: [slow] });
  const ws = await connect(t, `${base}/slow`, 'slow');
  const done = nextMessage(ws);
  for (let i = 0; i < 200; i++) ws.send(`f${i}`);
  t.equal((await done).data.toString(), 'done');
  t.equal(maxInFlight, 1);
  t.same(received, Array.from({ length: 200 }, (_, i) => `f${i}`));
});
