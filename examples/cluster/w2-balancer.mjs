// The W2 load balancer of `npm run cluster` (start.mjs) and of the cluster fault tests
// (test/interop/cluster-failover-sip-ws.test.ts), issue #15: one TCP port in front of the nodes'
// W2 ports. Each new connection goes to the next node, round robin, skipping one that refuses
// (a dead or stopping node), so a client that reconnects lands on a survivor. It only moves bytes:
// a node that dies cuts its connections here too, and a close frame (1001 on SIGTERM) passes through.
import { connect, createServer } from 'node:net';

/**
 * Starts the balancer on `host:port` (0 = any free port) over `backends` (W2 ports on `host`).
 * Resolves with { port, close() } once it listens.
 */
export function startW2Balancer({ host = '127.0.0.1', port = 0, backends }) {
  if (!Array.isArray(backends) || backends.length === 0) throw new Error('startW2Balancer: at least one backend port');
  let next = 0;
  const sockets = new Set();
  const server = createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.once('error', () => undefined); // 'close' follows
    client.pause();
    const tryBackend = (left) => {
      if (left === 0 || client.destroyed) { client.destroy(); return; }
      const backend = backends[next++ % backends.length];
      const upstream = connect({ host, port: backend });
      // A refused attempt errors and closes: only a connected upstream is tied to the client.
      upstream.once('error', () => { if (!tied) tryBackend(left - 1); });
      let tied = false;
      upstream.once('connect', () => {
        tied = true;
        upstream.pipe(client);
        client.pipe(upstream);
        client.resume();
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
        upstream.on('error', () => undefined); // 'close' follows
      });
    };
    tryBackend(backends.length);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({
      port: server.address().port,
      close: () => new Promise((done) => {
        server.close(() => done());
        // Open pipes would keep close() waiting: a stopped balancer cuts them.
        for (const socket of sockets) socket.destroy();
      }),
    }));
  });
}
