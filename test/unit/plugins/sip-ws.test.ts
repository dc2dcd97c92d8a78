/**
 * plugins/sip-ws against a fake W2Connection and a fake host (no network): RFC 7118 framing,
 * malformed input, CRLF keep-alive, flood control.
 */
import t from 'tap';
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { EpcError } from '../../../core/errors.js';
import type { W2Host, W2ObserverEvents } from '../../../core/contract/host.js';
import type { W2Connection, W2Frame } from '../../../core/contract/session.js';
import {
  callId, createRequest, createResponse, getHeader, parseMessage, type SipMessage, type SipRequest, type SipResponse,
} from '../../../core/sip/index.js';
import sipWs, { DEFAULT_SIP_WS_OPTIONS, FLOOD_CLOSE_CODE, SipWsSession } from '../../../plugins/sip-ws/index.js';
import { W2_CONTRACT_VERSION } from '../../../core/contract/contract.js';
import { unattachedSipApi } from '../../../core/plugin/unattached-sip-api.js';
import { MemoryTtlStore } from '../../../core/state/memory-ttl-store.js';

interface FakeConnection extends W2Connection {
  readonly sent: W2Frame[];
  closed: { code: number | undefined; reason: string | undefined } | undefined;
}

function fakeConnection(id = 'c1'): FakeConnection {
  const conn: FakeConnection = {
    id, subprotocol: 'sip', path: '/sip', remote: { address: '127.0.0.1', port: 40000 }, origin: undefined, secure: false,
    sent: [],
    closed: undefined,
    send(frame) {
      if (conn.closed) return Promise.reject(new EpcError('EPC_ERR_INVALID_STATE', 'closed'));
      conn.sent.push(frame);
      return Promise.resolve();
    },
    close(code, reason) {
      conn.closed ??= { code, reason };
    },
  };
  return conn;
}

function fakeHost(fromClient: (id: string, m: SipMessage) => Promise<void> = () => Promise.resolve()): W2Host & { received: [string, SipMessage][] } {
  const received: [string, SipMessage][] = [];
  return {
    contract: W2_CONTRACT_VERSION, state: new MemoryTtlStore(),
    log: pino({ level: 'silent' }),
    observer: new EventEmitter<W2ObserverEvents>(),
    received,
    sip: { ...unattachedSipApi, fromClient: (id, m) => { received.push([id, m]); return fromClient(id, m); } },
    ua: { create: () => { throw new Error('sip-ws makes no virtual UE'); } },
  };
}

const REGISTER = [
  'REGISTER sip:ims.test SIP/2.0',
  'Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKasudf;rport',
  'Max-Forwards: 70',
  'From: <sip:alice@ims.test>;tag=65bnmj',
  'To: <sip:alice@ims.test>',
  'Call-ID: aiuy7k9njasd',
  'CSeq: 1 REGISTER',
  'Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>;+sip.instance="<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>";reg-id=1',
  'Expires: 600',
  '',
  '',
].join('\r\n');

function parsed(frame: W2Frame | undefined): SipMessage {
  if (frame === undefined) throw new Error('no frame sent');
  return parseMessage(frame, { datagram: true });
}

t.test('plugin manifest: name sip-ws, contract, binding /sip with subprotocol "sip" (RFC 7118 §4.1)', async (t) => {
  t.equal(sipWs.meta.name, 'sip-ws');
  t.equal(sipWs.meta.contract, W2_CONTRACT_VERSION);
  t.same(sipWs.bindings, [{ path: '/sip', subprotocols: ['sip'] }]);
  t.ok(sipWs.optionsSchema);
});

t.test('R-SIPWS-3/4: a text frame holding one SIP request reaches host.sip.fromClient unchanged', async (t) => {
  const conn = fakeConnection();
  const host = fakeHost();
  const session = new SipWsSession(conn, host);
  await session.onFrame(REGISTER);
  t.equal(host.received.length, 1);
  const [id, message] = host.received[0] ?? [];
  t.equal(id, 'c1');
  t.equal(message?.kind, 'request');
  t.equal(message && callId(message), 'aiuy7k9njasd');
  t.same(conn.sent, [], 'nothing sent back by the plugin');
});

t.test('R-SIPWS-3: a binary frame is accepted like a text frame', async (t) => {
  const host = fakeHost();
  const session = new SipWsSession(fakeConnection(), host);
  await session.onFrame(new Uint8Array(Buffer.from(REGISTER)));
  t.equal(host.received.length, 1);
  t.equal((host.received[0]?.[1] as SipRequest).method, 'REGISTER');
});

t.test('R-SIPWS-4: without Content-Length the body is the rest of the frame', async (t) => {
  const host = fakeHost();
  const session = new SipWsSession(fakeConnection(), host);
  const message = REGISTER.replace('REGISTER sip:ims.test', 'MESSAGE sip:bob@ims.test').replace('CSeq: 1 REGISTER', 'CSeq: 1 MESSAGE')
    .replace('\r\n\r\n', '\r\nContent-Type: text/plain\r\n\r\n') + 'hello bob';
  await session.onFrame(message);
  t.equal(Buffer.from((host.received[0]?.[1] as SipRequest).body).toString(), 'hello bob');
});

t.test('R-SIPWS-4: octets after Content-Length are ignored (the frame is the message)', async (t) => {
  const host = fakeHost();
  const session = new SipWsSession(fakeConnection(), host);
  const message = REGISTER.replace('CSeq: 1 REGISTER', 'CSeq: 1 REGISTER\r\nContent-Length: 0');
  await session.onFrame(message + 'junk after the message');
  t.equal(host.received.length, 1);
  t.equal((host.received[0]?.[1] as SipRequest).body.length, 0);
});

t.test('R-SIPWS-3: outbound SIP goes as a text frame when it is valid UTF-8', async (t) => {
  const conn = fakeConnection();
  const session = new SipWsSession(conn, fakeHost());
  const req = parsed(REGISTER) as SipRequest;
  await session.onSipResponse(createResponse(req, 200, 'OK', { toTag: 'x1' }));
  await session.onSipRequest(createRequest({
    method: 'MESSAGE', uri: 'sip:alice@df7jal23ls0d.invalid;transport=ws',
    headers: [['Via', 'SIP/2.0/WS epcscf.test;branch=z9hG4bK1'], ['From', '<sip:bob@ims.test>;tag=1'], ['To', '<sip:alice@ims.test>'],
      ['Call-ID', 'm1'], ['CSeq', '1 MESSAGE'], ['Max-Forwards', '70'], ['Content-Type', 'text/plain']],
    body: 'héllo ☎',
  }));
  t.equal(conn.sent.length, 2);
  t.type(conn.sent[0], 'string');
  t.match(conn.sent[0], /^SIP\/2\.0 200 OK\r\n/);
  t.type(conn.sent[1], 'string');
  t.equal(Buffer.from((parsed(conn.sent[1]) as SipRequest).body).toString(), 'héllo ☎');
});

t.test('R-SIPWS-3: outbound SIP with a non-UTF-8 octet MUST go as a binary frame', async (t) => {
  const conn = fakeConnection();
  const session = new SipWsSession(conn, fakeHost());
  const body = new Uint8Array([0x00, 0xff, 0xfe, 0x80]);
  await session.onSipRequest(createRequest({
    method: 'MESSAGE', uri: 'sip:alice@x.invalid;transport=ws',
    headers: [['Via', 'SIP/2.0/WS epcscf.test;branch=z9hG4bK2'], ['From', '<sip:bob@ims.test>;tag=1'], ['To', '<sip:alice@ims.test>'],
      ['Call-ID', 'm2'], ['CSeq', '1 MESSAGE'], ['Max-Forwards', '70'], ['Content-Type', 'application/octet-stream']],
    body,
  }));
  const frame = conn.sent[0];
  t.ok(frame instanceof Uint8Array, 'binary frame');
  t.same([...(parsed(frame) as SipRequest).body], [...body], 'body octets intact');
});

t.test('RFC 3261 §21.4.1: a malformed request gets 400 with the reason and a Warning 399; the session survives', async (t) => {
  const conn = fakeConnection();
  const host = fakeHost();
  const session = new SipWsSession(conn, host);
  await session.onFrame(REGISTER.replace('CSeq: 1 REGISTER', 'CSeq: 1 REGISTER\r\nMax-Forwards: many'));
  t.equal(host.received.length, 0, 'not handed to the core');
  t.equal(conn.sent.length, 1);
  const reply = parsed(conn.sent[0]) as SipResponse;
  t.equal(reply.status, 400);
  t.not(reply.reason, 'Bad Request', 'the reason phrase says what was wrong');
  t.match(getHeader(reply, 'Warning'), /^399 \S+ ".+"$/);
  t.equal(callId(reply), 'aiuy7k9njasd', 'matched to the request');
  t.equal(conn.closed, undefined, 'connection not closed');
  await session.onFrame(REGISTER);
  t.equal(host.received.length, 1, 'a good message afterwards still works');
  t.equal(session.describe().malformed, 1);
});

t.test('RFC 3261 §8.2.2 / RFC 4475: the parser status is kept (505 for SIP/7.0)', async (t) => {
  const conn = fakeConnection();
  const session = new SipWsSession(conn, fakeHost());
  await session.onFrame(REGISTER.replace('REGISTER sip:ims.test SIP/2.0', 'REGISTER sip:ims.test SIP/7.0'));
  t.equal((parsed(conn.sent[0]) as SipResponse).status, 505);
});

t.test('RFC 3261 §18.1.2: a malformed response is dropped silently; the session survives', async (t) => {
  const conn = fakeConnection();
  const host = fakeHost();
  const session = new SipWsSession(conn, host);
  await session.onFrame('SIP/2.0 200 OK\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bK1\r\nCSeq: nonsense\r\n\r\n');
  t.same(conn.sent, []);
  t.equal(host.received.length, 0);
  t.equal(conn.closed, undefined);
});

t.test('R-SIPWS-2: a frame that is not SIP at all (binary garbage) is dropped; the session survives', async (t) => {
  const conn = fakeConnection();
  const host = fakeHost();
  const session = new SipWsSession(conn, host);
  await session.onFrame(new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x0d, 0x0a, 0x0d, 0x0a]));
  await session.onFrame('{"jsonrpc":"2.0"}');
  t.same(conn.sent, [], 'no answer can be built without Via/From/To/Call-ID/CSeq');
  t.equal(conn.closed, undefined);
  t.equal(session.describe().malformed, 2);
});

t.test('RFC 3261 §21.5.14: a request above maxMessageBytes is answered 513', async (t) => {
  const conn = fakeConnection();
  const host = fakeHost();
  const session = new SipWsSession(conn, host, { ...DEFAULT_SIP_WS_OPTIONS, maxMessageBytes: 300 });
  await session.onFrame(REGISTER + 'x'.repeat(400));
  t.equal(host.received.length, 0);
  t.equal((parsed(conn.sent[0]) as SipResponse).status, 513);
});

t.test('RFC 5626 §4.4.1 keep-alive: a "\\r\\n\\r\\n" frame is answered "\\r\\n"; a lone CRLF is ignored', async (t) => {
  const conn = fakeConnection();
  const host = fakeHost();
  const session = new SipWsSession(conn, host);
  await session.onFrame('\r\n\r\n');
  await session.onFrame('\r\n');
  await session.onFrame(new Uint8Array(Buffer.from('\r\n\r\n')));
  t.same(conn.sent, ['\r\n', '\r\n']);
  t.equal(host.received.length, 0);
  t.equal(session.describe().keepAlives, 2);
});

t.test('flood control: beyond the token bucket the session closes with 1008 "flood"; other sessions are unaffected', async (t) => {
  let now = 0;
  const options = { ...DEFAULT_SIP_WS_OPTIONS, floodRatePerSecond: 10, floodBurst: 5 };
  const hostA = fakeHost();
  const flooder = fakeConnection('flooder');
  const calm = fakeConnection('calm');
  const floodSession = new SipWsSession(flooder, hostA, options, () => now);
  const calmSession = new SipWsSession(calm, hostA, options, () => now);
  for (let i = 0; i < 5; i++) await floodSession.onFrame(REGISTER);
  t.equal(flooder.closed, undefined, 'the burst is allowed');
  now += 100; // one token refilled at 10/s
  await floodSession.onFrame(REGISTER);
  t.equal(flooder.closed, undefined, 'refilled token used');
  await floodSession.onFrame(REGISTER);
  t.same(flooder.closed, { code: FLOOD_CLOSE_CODE, reason: 'flood' });
  await floodSession.onFrame(REGISTER);
  t.equal(hostA.received.filter(([id]) => id === 'flooder').length, 6, 'nothing accepted after the cut');
  t.equal(floodSession.describe().flooded, true);
  await calmSession.onFrame(REGISTER);
  t.equal(calm.closed, undefined);
  t.equal(hostA.received.filter(([id]) => id === 'calm').length, 1, 'the other client is served');
});

t.test('W2SipApi: when the core refuses a request (EpcError) it is answered 503 and the session survives', async (t) => {
  const conn = fakeConnection();
  const session = new SipWsSession(conn, fakeHost(() => Promise.reject(new EpcError('EPC_ERR_INVALID_STATE', 'shutting down'))));
  await session.onFrame(REGISTER);
  t.equal((parsed(conn.sent[0]) as SipResponse).status, 503);
  t.equal(conn.closed, undefined);
  t.equal(session.describe().coreRefused, 1);
});

t.test('a non-EpcError from the core is a fault: onFrame rejects so the core closes with 1011', async (t) => {
  const session = new SipWsSession(fakeConnection(), fakeHost(() => Promise.reject(new TypeError('bug'))));
  await t.rejects(session.onFrame(REGISTER), TypeError);
});

t.test('outbound delivery to a closed connection rejects (the core sees the dead flow)', async (t) => {
  const conn = fakeConnection();
  const session = new SipWsSession(conn, fakeHost());
  conn.close(1000, 'bye');
  const req = parsed(REGISTER) as SipRequest;
  await t.rejects(session.onSipResponse(createResponse(req, 200, 'OK')), { code: 'EPC_ERR_INVALID_STATE' });
});

t.test('describe() counts frames, messages and bytes', async (t) => {
  const conn = fakeConnection();
  const session = new SipWsSession(conn, fakeHost());
  await session.onFrame(REGISTER);
  await session.onSipResponse(createResponse(parsed(REGISTER) as SipRequest, 401, 'Unauthorized'));
  session.onClose({ cause: 'remote', code: 1000, reason: '' });
  const view = session.describe();
  t.match(view, { connectionId: 'c1', framesIn: 1, framesOut: 1, requestsIn: 1, responsesOut: 1, bytesIn: Buffer.byteLength(REGISTER) });
  t.ok((view.bytesOut as number) > 0);
});

t.test('plugin options: the instance init returns opens its sessions with them (contract 2)', async (t) => {
  const host = fakeHost();
  const instance = await sipWs.init(host, { ...DEFAULT_SIP_WS_OPTIONS, maxMessageBytes: 300 });
  const conn = fakeConnection();
  const session = await instance.openSession(conn);
  await session.onFrame(REGISTER + 'x'.repeat(400));
  t.equal((parsed(conn.sent[0]) as SipResponse).status, 513);
});
