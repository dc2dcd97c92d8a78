import { connect, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import t, { type Test } from 'tap';
import { callId, createRequest, createResponse, serializeMessage, topVia, type SipRequest } from '../../../core/sip/index.js';
import {
  TcpTransport, viaResponseTarget, type InboundSipMessage, type TcpTransportOptions, type TransportFault,
} from '../../../core/sip/transport/index.js';
import { until } from '../../support/transport-helpers.js';

function request(id: string, viaPort = 5060, body = ''): SipRequest {
  return createRequest({
    method: 'MESSAGE', uri: 'sip:bob@ims.test',
    headers: [
      ['Via', `SIP/2.0/TCP 127.0.0.1:${viaPort};branch=z9hG4bK-${id}`],
      ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=a'], ['To', '<sip:bob@ims.test>'],
      ['Call-ID', id], ['CSeq', '1 MESSAGE'], ['Content-Type', 'text/plain'],
    ],
    body,
  });
}

async function listening(t: Test, opts: TcpTransportOptions = {}): Promise<{ tcp: TcpTransport; port: number; inbound: InboundSipMessage[]; faults: TransportFault[] }> {
  const tcp = new TcpTransport(opts);
  const { port } = await tcp.listen('127.0.0.1', 0);
  t.teardown(() => tcp.close());
  const inbound: InboundSipMessage[] = [];
  const faults: TransportFault[] = [];
  tcp.onMessage((m) => inbound.push(m));
  tcp.onFault((f) => faults.push(f));
  return { tcp, port, inbound, faults };
}

async function rawClient(t: Test, port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  t.teardown(() => { socket.destroy(); });
  await once(socket, 'connect');
  return socket;
}

t.test('RFC 3261 §18.3: concatenated and split messages on one TCP connection arrive whole and in order', async (t) => {
  const { port, inbound } = await listening(t);
  const socket = await rawClient(t, port);
  const [a, b, c] = ['c-1', 'c-2', 'c-3'].map((id) => serializeMessage(request(id, 5060, `body of ${id}`)));
  socket.write(Buffer.concat([a!, b!]));
  socket.write(c!.subarray(0, 10));
  await new Promise((resolve) => setTimeout(resolve, 20));
  socket.write(c!.subarray(10, 200));
  socket.write(c!.subarray(200));
  await until(() => inbound.length === 3, 'three messages');
  t.same(inbound.map((m) => callId(m.message)), ['c-1', 'c-2', 'c-3']);
  t.same(new Set(inbound.map((m) => m.source.connectionId)).size, 1, 'all on one connection');
  t.match(inbound[0]!.source, { transport: 'tcp', remoteAddress: '127.0.0.1', remotePort: socket.localPort, localPort: port });
});

t.test('RFC 5626 §3.5.1: a CRLFCRLF ping on TCP is answered with a CRLF pong', async (t) => {
  const { port } = await listening(t);
  const socket = await rawClient(t, port);
  socket.write('\r\n\r\n');
  const [pong] = (await once(socket, 'data')) as [Buffer];
  t.equal(pong.toString('latin1'), '\r\n');
});

t.test('R-size: an oversized message closes the connection with EPC_ERR_SIP_TOO_LARGE', async (t) => {
  const { port, faults, inbound, tcp } = await listening(t, { maxMessageSize: 2048 });
  const socket = await rawClient(t, port);
  socket.on('error', () => {});
  socket.resume(); // read the 513 that precedes the close (a paused socket never sees the FIN)
  socket.write(serializeMessage(request('big', 5060, 'x'.repeat(5000))));
  await once(socket, 'close');
  t.equal(inbound.length, 0);
  t.equal(faults[0]?.error.code, 'EPC_ERR_SIP_TOO_LARGE');
  t.equal(faults[0]?.action, 'closed');
  t.match(faults[0]?.error.message, /exceeds the 2048-byte limit/);
  t.equal(tcp.stats.framingErrors, 1);
});

t.test('RFC 3261 §18.3: garbage closes only its own connection with a clear framing error', async (t) => {
  const { port, faults, inbound } = await listening(t);
  const good = await rawClient(t, port);
  const bad = await rawClient(t, port);
  bad.on('error', () => {});
  const badPort = bad.localPort;
  bad.write('HELLO THERE\r\nNo-Length: here\r\n\r\n');
  await once(bad, 'close');
  t.equal(faults[0]?.error.code, 'EPC_ERR_SIP_FRAMING');
  t.match(faults[0]?.error.message, /Content-Length missing on a stream transport/);
  t.equal(faults[0]?.source?.remotePort, badPort, 'the fault names the offending peer');
  good.write(serializeMessage(request('still-alive')));
  await until(() => inbound.length === 1, 'the good connection to keep working');
  t.equal(callId(inbound[0]!.message), 'still-alive');
});

t.test('RFC 3261 §18.2.1: a malformed request on TCP is answered 400 on the same connection', async (t) => {
  const { port } = await listening(t);
  const socket = await rawClient(t, port);
  const wire = serializeMessage(request('bad-mf')).toString('latin1').replace('Max-Forwards: 70', 'Max-Forwards: 999');
  socket.write(wire);
  let text = '';
  socket.on('data', (d: Buffer) => { text += d.toString('latin1'); });
  await until(() => text.includes('\r\n\r\n'), 'an answer');
  t.match(text, /^SIP\/2\.0 400 Max-Forwards larger than 255\r\n/);
  t.match(text, /\r\nVia: SIP\/2\.0\/TCP 127\.0\.0\.1:5060;branch=z9hG4bK-bad-mf/);
  t.match(text, /\r\nCall-ID: bad-mf\r\n/);
});

t.test('RFC 5923 / RFC 3261 §18.2.2: one TCP connection carries several requests and the responses come back on it', async (t) => {
  const server = await listening(t);
  const client = await listening(t);
  const target = { transport: 'tcp' as const, host: '127.0.0.1', port: server.port };
  // Concurrent sends must share the connection that is still being set up.
  await Promise.all(['r-1', 'r-2', 'r-3'].map((id) => client.tcp.send(request(id, client.port), target)));
  await client.tcp.send(request('r-4', client.port), target);
  await until(() => server.inbound.length === 4, 'four requests');
  t.equal(client.tcp.stats.connectionsOpened, 1, 'the client opened one connection');
  t.equal(server.tcp.stats.connectionsOpened, 1, 'the server accepted one connection');
  const first = server.inbound[0]!;
  t.same(new Set(server.inbound.map((m) => m.source.connectionId)).size, 1);
  await server.tcp.send(createResponse(first.message as SipRequest, 200), viaResponseTarget(topVia(first.message), first.source));
  await until(() => client.inbound.length === 1, 'the response');
  t.equal(client.inbound[0]!.message.kind, 'response');
  t.equal(server.tcp.stats.connectionsOpened, 1, 'the response reused the inbound connection');
  t.equal(client.tcp.connectionCount, 1);
  // The inbound connection also serves a new request toward the client's address and port.
  await server.tcp.send(request('back', server.port), { transport: 'tcp', host: '127.0.0.1', port: first.source.remotePort });
  await until(() => client.inbound.length === 2, 'the request sent back');
  t.equal(server.tcp.stats.connectionsOpened, 1);
});

t.test('RFC 3261 §18.2.2: a response for a closed connection opens a new one to the Via address', async (t) => {
  const server = await listening(t);
  const client = await listening(t);
  await client.tcp.send(request('gone', client.port), { transport: 'tcp', host: '127.0.0.1', port: server.port });
  await until(() => server.inbound.length === 1, 'the request');
  const first = server.inbound[0]!;
  await client.tcp.close();
  const fresh = await listening(t);
  // The Via said 127.0.0.1:<client.port>; point it at the fresh listener to see the reconnect.
  const target = { ...viaResponseTarget(topVia(first.message), first.source), port: fresh.port };
  await until(() => !server.tcp.hasConnection(first.source.connectionId!), 'the server to notice the close');
  await server.tcp.send(createResponse(first.message as SipRequest, 200), target);
  await until(() => fresh.inbound.length === 1, 'the response on a new connection');
  t.equal(server.tcp.stats.connectionsOpened, 2);
});

t.test('RFC 3263 §4.3: connecting to a closed port rejects with EPC_ERR_SIP_TRANSPORT', async (t) => {
  const { tcp } = await listening(t);
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const deadPort = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  await t.rejects(tcp.send(request('refused'), { transport: 'tcp', host: '127.0.0.1', port: deadPort }), {
    code: 'EPC_ERR_SIP_TRANSPORT', message: /ECONNREFUSED/,
  });
  t.equal(tcp.connectionCount, 0, 'the failed connection is forgotten');
});

t.test('idle connections are closed after idleTimeoutMs', async (t) => {
  const server = await listening(t, { idleTimeoutMs: 150 });
  const socket = await rawClient(t, server.port);
  socket.write(serializeMessage(request('idle')));
  await until(() => server.inbound.length === 1, 'the request');
  const started = Date.now();
  await once(socket, 'end');
  t.ok(Date.now() - started >= 100, 'not before the timeout');
  await until(() => server.tcp.connectionCount === 0, 'the pool to forget it');
});

t.test('close() closes the listener and every connection, idempotently', async (t) => {
  const server = await listening(t);
  const socket = await rawClient(t, server.port);
  socket.on('error', () => {});
  await until(() => server.tcp.connectionCount === 1, 'the accept');
  const closed = once(socket, 'close');
  await Promise.all([server.tcp.close(), server.tcp.close()]);
  await closed;
  t.equal(server.tcp.connectionCount, 0);
  await t.rejects(server.tcp.send(request('late'), { transport: 'tcp', host: '127.0.0.1', port: 9 }), { code: 'EPC_ERR_SIP_TRANSPORT' });
});

t.test('RFC 3261 §21.5.14: a message declaring a body past the cap is answered 513 Message Too Large, then the connection closes', async (t) => {
  const { port, faults, inbound } = await listening(t, { maxMessageSize: 2048 });
  const socket = await rawClient(t, port);
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(serializeMessage(request('big-513', 5060, 'x'.repeat(5000))));
  await closed;
  const answer = Buffer.concat(chunks).toString('latin1');
  t.match(answer, /^SIP\/2\.0 513 Message Too Large/);
  t.match(answer, /\r\nCall-ID: big-513\r\n/i, 'the 513 matches the request');
  t.equal(inbound.length, 0);
  t.equal(faults[0]?.error.code, 'EPC_ERR_SIP_TOO_LARGE');
});
