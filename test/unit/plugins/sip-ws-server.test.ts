/**
 * plugins/sip-ws mounted on the real W2 server (loopback, no SIP core attached): what a
 * WebSocket client observes for keep-alives, malformed SIP and flooding.
 */
import t from 'tap';
import type { W2Plugin } from '../../../core/contract/contract.js';
import { parseMessage, type SipResponse } from '../../../core/sip/index.js';
import sipWs from '../../../plugins/sip-ws/index.js';
import { closeOf, connect, nextMessage, startServer } from '../server/w2-harness.js';

const plugin = sipWs as unknown as W2Plugin<never>;

const OPTIONS_REQUEST = [
  'OPTIONS sip:ims.test SIP/2.0', 'Via: SIP/2.0/WS k3.invalid;branch=z9hG4bKopt1', 'Max-Forwards: 70',
  'From: <sip:alice@ims.test>;tag=1', 'To: <sip:ims.test>', 'Call-ID: opt-1', 'CSeq: 1 OPTIONS', '', '',
].join('\r\n');

t.test('RFC 7118 §4.1 + RFC 5626 §4.4.1: over a real "sip" WebSocket a CRLFCRLF ping gets a CRLF pong', async (t) => {
  const { base } = await startServer(t, { plugins: [plugin] });
  const ws = await connect(t, `${base}/sip`, 'sip');
  t.equal(ws.protocol, 'sip');
  const reply = nextMessage(ws);
  ws.send('\r\n\r\n');
  const { data, isBinary } = await reply;
  t.equal(data.toString(), '\r\n');
  t.equal(isBinary, false, 'a text frame');
});

t.test('R-SIPWS-2: malformed SIP over a real WebSocket gets 400 + Warning and the connection stays usable', async (t) => {
  const { base } = await startServer(t, { plugins: [plugin] });
  const ws = await connect(t, `${base}/sip`, 'sip');
  const reply = nextMessage(ws);
  ws.send(OPTIONS_REQUEST.replace('Max-Forwards: 70', 'Max-Forwards: many'));
  const response = parseMessage((await reply).data, { datagram: true }) as SipResponse;
  t.equal(response.status, 400);
  t.ok(response.headers.some((h) => h.name === 'Warning' && h.value.startsWith('399 ')));
  // No SIP core is attached to this server: a good request is answered 503, not dropped.
  const second = nextMessage(ws);
  ws.send(OPTIONS_REQUEST);
  t.equal((parseMessage((await second).data, { datagram: true }) as SipResponse).status, 503);
});

t.test('flood control over a real server: the flooding client is closed 1008 "flood", another client keeps working', async (t) => {
  const { base } = await startServer(t, {
    plugins: [plugin],
    config: { plugins: [{ name: 'sip-ws', options: { floodBurst: 3, floodRatePerSecond: 1 } }] },
  });
  const flooder = await connect(t, `${base}/sip`, 'sip');
  const calm = await connect(t, `${base}/sip`, 'sip');
  const closed = closeOf(flooder);
  for (let i = 0; i < 10; i++) flooder.send('\r\n\r\n');
  const { code, reason } = await closed;
  t.equal(code, 1008);
  t.equal(reason, 'flood');
  const pong = nextMessage(calm);
  calm.send('\r\n\r\n');
  t.equal((await pong).data.toString(), '\r\n', 'the other client is unaffected');
});
