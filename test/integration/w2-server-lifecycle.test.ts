import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineW2Plugin, W2_CONTRACT_VERSION } from '../../core/contract/contract.js';
import { closeOf, connect, nextMessage, startServer } from '../unit/server/w2-harness.js';

t.test('RFC 6455 §7.4.1: shutdown closes every session with 1001, onClose("shutdown") runs before plugin close(), close() in reverse load order', async (t) => {
  const events: string[] = [];
  const make = (name: string) => defineW2Plugin({
    meta: { name, version: '1.0.0', contract: W2_CONTRACT_VERSION },
    bindings: [{ path: `/${name}`, subprotocols: ['sip'] }],
    init: () => {
      events.push(`init ${name}`);
      return {
        close: () => { events.push(`close ${name}`); },
        openSession: (conn) => ({
          onFrame: (f) => conn.send(f),
          onClose: (reason) => { events.push(`onClose ${name} ${reason.cause} ${reason.code}`); },
        }),
      };
    },
  });
  const { base, server } = await startServer(t, { plugins: [make('first'), make('second')] });
  const a = await connect(t, `${base}/first`, 'sip');
  const b = await connect(t, `${base}/second`, 'sip');
  const closes = Promise.all([closeOf(a), closeOf(b)]);
  await server.close();
  const [ca, cb] = await closes;
  t.equal(ca.code, 1001);
  t.equal(cb.code, 1001);
  t.same(events, [
    'init first', 'init second',
    'onClose first shutdown 1001', 'onClose second shutdown 1001',
    'close second', 'close first',
  ]);
  await server.close(); // idempotent
  t.equal(events.length, 6, 'a second close() does nothing');
});

t.test('shutdown does not wait forever for a client that ignores the close handshake', async (t) => {
  const plugin = defineW2Plugin({
    meta: { name: 'p', version: '1.0.0', contract: W2_CONTRACT_VERSION },
    bindings: [{ path: '/p', subprotocols: ['p'] }],
    init: () => ({ openSession: () => ({ onFrame: () => {}, onClose: () => {} }) }),
  });
  const { base, server } = await startServer(t, { plugins: [plugin], shutdownGraceMs: 100 });
  const ws = await connect(t, `${base}/p`, 'p');
  // Stop reading: the server's close frame is never answered.
  (ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const started = Date.now();
  await server.close();
  t.ok(Date.now() - started < 2_000, `closed in ${Date.now() - started} ms`);
});

t.test('R-WS-9: wss:// with the TLS cert and key from the config', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-w2-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const echo = defineW2Plugin({
    meta: { name: 'echo', version: '1.0.0', contract: W2_CONTRACT_VERSION },
    bindings: [{ path: '/echo', subprotocols: ['echo'] }],
    init: () => ({ openSession: (conn) => ({ onFrame: (f) => conn.send(conn.secure ? `secure:${String(f)}` : 'plain'), onClose: () => {} }) }),
  });
  const { base } = await startServer(t, {
    plugins: [echo],
    configDir: dir,
    config: { w2: { tls: { cert: 'cert.pem', key: 'key.pem' } } }, // relative to the config directory
  });
  t.match(base, /^wss:\/\//);
  const ws = await connect(t, `${base}/echo`, 'echo', { ca: readFileSync(join(dir, 'cert.pem')) });
  ws.send('hi');
  t.equal((await nextMessage(ws)).data.toString(), 'secure:hi');
});
