// The W2 load balancer of `npm run cluster` and the cluster fault tests (examples/cluster/w2-balancer.mjs,
// issue #15): round robin over the nodes, a node that refuses (dead, stopping) is skipped so a
// reconnecting client lands on a survivor, and a node that goes cuts its clients' connections.
import { createServer, connect, type Server, type Socket } from 'node:net';
import t from 'tap';
import { startW2Balancer } from '../../examples/cluster/w2-balancer.mjs';
import { allocatePort, releasePort } from '../support/peers/ports.js';

/** A backend that greets each connection with its name. */
function greeter(name: string): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.write(name);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    resolve({ server, port: typeof address === 'object' && address ? address.port : 0, sockets });
  }));
}

/** The greeting a new connection through the balancer gets, and the open client socket. */
function dial(port: number): Promise<{ greeting: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('data', (data) => resolve({ greeting: data.toString(), socket }));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before any greeting')));
  });
}

t.test('issue #15 W2 load balancer: round robin; a refusing node is skipped (the client reaches the next one); a node that dies cuts its clients', async (t) => {
  const a = await greeter('A');
  t.teardown(() => new Promise<void>((resolve) => a.server.close(() => resolve())));
  const b = await greeter('B');
  const dead = await allocatePort(); // nothing listens there: connections are refused
  t.teardown(() => releasePort(dead));
  const balancer = await startW2Balancer({ backends: [a.port, dead, b.port] });
  t.teardown(() => balancer.close());

  const first = await dial(balancer.port);
  t.equal(first.greeting, 'A', 'the first connection goes to the first node');
  const second = await dial(balancer.port);
  t.equal(second.greeting, 'B', 'the second skips the refusing node and reaches the next one, not a dropped connection');
  const third = await dial(balancer.port);
  t.equal(third.greeting, 'A', 'round robin goes on');

  const cut = new Promise<void>((resolve) => second.socket.once('close', () => resolve()));
  for (const socket of b.sockets) socket.destroy();
  b.server.close();
  await cut;
  t.pass('node B going away closes its client\'s connection through the balancer');
  const fourth = await dial(balancer.port);
  t.equal(fourth.greeting, 'A', 'a reconnecting client lands on the survivor');
  for (const { socket } of [first, third, fourth]) socket.destroy();
});
