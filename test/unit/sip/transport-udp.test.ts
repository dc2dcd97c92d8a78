import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import t, { type Test } from 'tap';
import { createRequest, createResponse, getParam, topVia, type SipRequest, type SipResponse } from '../../../core/sip/index.js';
import { UdpTransport, viaResponseTarget, type InboundSipMessage, type TransportFault } from '../../../core/sip/transport/index.js';

function options(viaHost: string, viaPort: number, viaParams = ''): SipRequest {
  return createRequest({
    method: 'OPTIONS', uri: 'sip:pcscf@127.0.0.1',
    headers: [
      ['Via', `SIP/2.0/UDP ${viaHost}:${viaPort};branch=z9hG4bK-udp-1${viaParams}`],
      ['Max-Forwards', '70'], ['From', '<sip:a@ims.test>;tag=1'], ['To', '<sip:pcscf@ims.test>'],
      ['Call-ID', 'udp-test-1'], ['CSeq', '1 OPTIONS'],
    ],
  });
}

function nextMessage(transport: UdpTransport): Promise<InboundSipMessage> {
  return new Promise((resolve) => { const off = transport.onMessage((m) => { off(); resolve(m); }); });
}

async function pair(t: Test): Promise<[UdpTransport, UdpTransport]> {
  const a = new UdpTransport();
  const b = new UdpTransport();
  await a.listen('127.0.0.1', 0);
  await b.listen('127.0.0.1', 0);
  t.teardown(() => Promise.all([a.close(), b.close()]).then(() => undefined));
  return [a, b];
}

t.test('RFC 3261 §18.1.1/§18.2.2: UDP request and response round trip between two listeners', async (t) => {
  const [a, b] = await pair(t);
  const request = options('127.0.0.1', a.address().port);
  const arrived = nextMessage(b);
  await a.send(request, { transport: 'udp', host: '127.0.0.1', port: b.address().port });
  const inbound = await arrived;
  t.equal(inbound.message.kind, 'request');
  t.same(inbound.source, {
    transport: 'udp', remoteAddress: '127.0.0.1', remotePort: a.address().port,
    localAddress: '127.0.0.1', localPort: b.address().port,
  });
  const via = topVia(inbound.message);
  t.equal(getParam(via.params, 'received'), undefined, 'sent-by equals the source: no received');
  const answer = createResponse(inbound.message as SipRequest, 200, 'OK');
  const back = nextMessage(a);
  await b.send(answer, viaResponseTarget(via, inbound.source));
  const response = (await back).message as SipResponse;
  t.equal(response.status, 200);
  t.equal(a.stats.messagesSent, 1);
  t.equal(b.stats.messagesReceived, 1);
});

t.test('RFC 3261 §18.2.1 / RFC 3581 §4: received and rport are stamped from the packet source', async (t) => {
  const [a, b] = await pair(t);
  const arrived = nextMessage(b);
  await a.send(options('client.invalid', 5099, ';rport'), { transport: 'udp', host: '127.0.0.1', port: b.address().port });
  const inbound = await arrived;
  const via = topVia(inbound.message);
  t.equal(getParam(via.params, 'received'), '127.0.0.1');
  t.equal(getParam(via.params, 'rport'), String(a.address().port));
  t.same(viaResponseTarget(via), { transport: 'udp', host: '127.0.0.1', port: a.address().port },
    'the response goes to received:rport, not to the unreachable sent-by');
});

t.test('RFC 3261 §8.2.6/§18.2.1: a malformed UDP request is answered 400 with the parser reason; the listener keeps serving', async (t) => {
  const [, b] = await pair(t);
  const faults: TransportFault[] = [];
  b.onFault((f) => faults.push(f));
  const raw = createSocket('udp4');
  t.teardown(() => raw.close());
  await new Promise<void>((resolve) => raw.bind(0, '127.0.0.1', resolve));
  const rawPort = raw.address().port;
  const bad = [
    'OPTIONS sip:pcscf@127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:${rawPort};branch=z9hG4bK-bad`,
    'Max-Forwards: many', 'From: <sip:a@ims.test>;tag=9', 'To: <sip:pcscf@ims.test>',
    'Call-ID: bad-1', 'CSeq: 7 OPTIONS', 'Content-Length: 0', '', '',
  ].join('\r\n');
  raw.send(bad, b.address().port, '127.0.0.1');
  const [reply] = (await once(raw, 'message')) as [Buffer];
  const text = reply.toString();
  t.match(text, /^SIP\/2\.0 400 Max-Forwards is not a number\r\n/);
  t.match(text, /\r\nCall-ID: bad-1\r\n/);
  t.match(text, /\r\nCSeq: 7 OPTIONS\r\n/);
  t.match(text, /\r\nTo: <sip:pcscf@ims\.test>;tag=\S+\r\n/, 'a To tag is added');
  t.equal(b.stats.malformedAnswered, 1);
  t.equal(faults[0]?.action, 'answered');
  t.equal(faults[0]?.error.code, 'EPC_ERR_SIP_PARSE');

  // RFC 3261 §18.1.2: a malformed response is dropped silently; then a good request still works.
  raw.send('SIP/2.0 200 OK\r\nVia: nonsense\r\n\r\n', b.address().port, '127.0.0.1');
  const good = nextMessage(b);
  raw.send(Buffer.from(bad.replace('Max-Forwards: many', 'Max-Forwards: 70')), b.address().port, '127.0.0.1');
  t.equal((await good).message.kind, 'request');
  t.equal(b.stats.malformedMessages, 2);
  t.equal(faults[1]?.action, 'dropped');
});

t.test('RFC 3261 §8.2.6: without a parsable Via the malformed request is dropped, not answered', async (t) => {
  const [, b] = await pair(t);
  const raw = createSocket('udp4');
  t.teardown(() => raw.close());
  await new Promise<void>((resolve) => raw.bind(0, '127.0.0.1', resolve));
  const faults: TransportFault[] = [];
  b.onFault((f) => faults.push(f));
  raw.send('OPTIONS sip:x SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: x\r\n\r\n', b.address().port, '127.0.0.1');
  let answered = false;
  raw.on('message', () => { answered = true; });
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.equal(answered, false);
  t.equal(faults.length, 1);
  t.equal(faults[0]?.action, 'dropped');
});

t.test('close() is idempotent and send after close is a transport error', async (t) => {
  const u = new UdpTransport();
  await u.listen('127.0.0.1', 0);
  await u.close();
  await u.close();
  await t.rejects(u.send(options('127.0.0.1', 1), { transport: 'udp', host: '127.0.0.1', port: 9 }), { code: 'EPC_ERR_SIP_TRANSPORT' });
});
