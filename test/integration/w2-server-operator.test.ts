import t from 'tap';
import { request } from 'node:http';
import { defineW2Plugin, W2_CONTRACT_VERSION } from '../../core/contract/contract.js';
import type { SessionCloseReason } from '../../core/contract/session.js';
import { closeOf, connect, nextMessage, startServer, waitFor } from '../unit/server/w2-harness.js';

function echoPlugin(closes: SessionCloseReason[]) {
  return defineW2Plugin({
    meta: { name: 'echo', version: '1.0.0', contract: W2_CONTRACT_VERSION },
    bindings: [{ path: '/echo', subprotocols: ['echo'] }],
    init: () => ({ openSession: (conn) => ({ onFrame: (f) => conn.send(f), onClose: (reason) => { closes.push(reason); } }) }),
  });
}

t.test('RFC 6455 §7.4: an operator closes one session with its code and reason; the plugin gets onClose once, the others stay', async (t) => {
  const closes: SessionCloseReason[] = [];
  const { base, server } = await startServer(t, { plugins: [echoPlugin(closes)] });
  const before = Date.now();
  const target = await connect(t, `${base}/echo`, 'echo');
  const other = await connect(t, `${base}/echo`, 'echo');
  await waitFor(() => server.w2.sessions().length === 2);
  const sessions = server.w2.sessions();
  t.ok(sessions.every((s) => s.openedAt >= before && s.openedAt <= Date.now()), 'openedAt is the upgrade time (epoch ms)');
  const closing = closeOf(target);
  const id = sessions[0]?.id as string;
  t.equal(server.w2.closeSession(id, 1008, 'registration terminated by operator'), true);
  t.same(await closing, { code: 1008, reason: 'registration terminated by operator' });
  await waitFor(() => closes.length === 1);
  t.equal(closes[0]?.code, 1008);
  t.equal(closes[0]?.cause, 'operator', 'the plugin learns an operator closed it');
  t.equal(server.w2.closeSession(id), false, 'a closed session cannot be closed again');
  t.equal(server.w2.closeSession('no-such-session'), false);
  other.send('still here');
  t.equal((await nextMessage(other)).data.toString(), 'still here');
  t.equal(server.w2.stats().sessions, 1);
});

t.test('stats().accepting turns false at shutdown, and an upgrade for an unknown path is refused with 404 and a JSON reason', async (t) => {
  const { base, server } = await startServer(t, { plugins: [echoPlugin([])] });
  t.equal(server.w2.stats().accepting, true);
  const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${base.replace('ws://', 'http://')}/nowhere`, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'echo' },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('upgrade', () => reject(new Error('upgraded')));
    req.on('error', reject);
    req.end();
  });
  t.equal(refused.status, 404);
  t.match(JSON.parse(refused.body), { error: 'Not Found', message: /\/nowhere/ });
  await server.close();
  t.equal(server.w2.stats().accepting, false);
});
