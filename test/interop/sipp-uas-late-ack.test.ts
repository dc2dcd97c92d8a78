// The sipp UAS scenarios the tests call (examples/sipp/uas-rr.xml, uas-pai.xml, the MMTel CDIV
// AS) must not fail a call whose ACK reaches them after the BYE, or twice: the ACK of a 2xx is
// its own transaction, forwarded statelessly by proxies (RFC 3261 §17.1.1.3, §16.11), so over
// UDP through Kamailio's worker processes the caller's BYE, sent a moment after it, can overtake
// it; and a caller ACKs every retransmission of the 2xx (§13.2.2.4), possibly after its BYE. With
// `optional="true"` sipp counted such a call failed ("Aborting call on unexpected message ...
// while pausing, received 'ACK ...'": the mmtel-cdiv flake under load). A plain UDP caller here
// puts the messages in each order straight to the UAS.
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { createRequest, getHeader, parseMessage, serializeMessage, type SipMessage } from '../../core/sip/index.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { SIPP_SCENARIOS, startSippUas } from '../support/peers/sipp.js';

const SCENARIOS = [
  { name: 'examples/sipp/uas-rr.xml', file: SIPP_SCENARIOS.uasRecordRoute, extraArgs: [] },
  { name: 'examples/sipp/uas-pai.xml', file: fileURLToPath(new URL('../../examples/sipp/uas-pai.xml', import.meta.url)), extraArgs: ['-key', 'pai', 'dave@ims.test', '-key', 'privacy', 'none'] },
  { name: 'test/fixtures/mmtel/uas-cdiv-181.xml', file: fileURLToPath(new URL('../fixtures/mmtel/uas-cdiv-181.xml', import.meta.url)), extraArgs: [] },
] as const;

/** After the 200 to the INVITE: what the caller sends, in this order. */
const ORDERS = {
  'the BYE overtakes the ACK': ['BYE', 'ACK'],
  'the ACK comes again after the BYE (a 2xx retransmission ACKed)': ['ACK', 'BYE', 'ACK'],
} as const;

/** A bare UDP caller on `port`: INVITE to the UAS, then `after` once the 200 came; resolves with the 200 to the BYE. */
async function call(port: number, uasPort: number, after: readonly ('ACK' | 'BYE')[]): Promise<SipMessage> {
  const socket: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  const callId = `late-ack-${port}`;
  const request = (method: string, seq: number, branch: string, toTag?: string) => createRequest({
    method, uri: `sip:dave@127.0.0.1:${uasPort}`, headers: [
      ['Via', `SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${branch}`], ['Max-Forwards', '70'], ['From', '<sip:carol@ims.test>;tag=c1'],
      ['To', `<sip:dave@ims.test>${toTag === undefined ? '' : `;tag=${toTag}`}`], ['Call-ID', callId], ['CSeq', `${seq} ${method}`],
      ['Contact', `<sip:carol@127.0.0.1:${port}>`], ...(method === 'INVITE' ? [['Content-Type', 'application/sdp'] as [string, string]] : []),
    ], body: method === 'INVITE' ? 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n' : '',
  });
  const send = (m: SipMessage): void => { socket.send(serializeMessage(m), uasPort, '127.0.0.1'); };
  try {
    return await new Promise<SipMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no 200 to the BYE within 5 s')), 5000);
      let acked = 0;
      socket.on('message', (data) => {
        const m = parseMessage(data);
        if (m.kind !== 'response' || m.status !== 200) return;
        const cseq = getHeader(m, 'CSeq') ?? '';
        if (cseq.endsWith('INVITE') && acked++ === 0) {
          const toTag = /;tag=([^;>\s]+)/.exec(getHeader(m, 'To') ?? '')?.[1];
          after.forEach((method, i) => send(method === 'BYE' ? request('BYE', 2, 'bye', toTag) : request('ACK', 1, `ack${i}`, toTag)));
        }
        if (cseq.endsWith('BYE')) { clearTimeout(timer); resolve(m); }
      });
      send(request('INVITE', 1, 'invite'));
    });
  } finally {
    socket.close();
  }
}

for (const scenario of SCENARIOS) {
  for (const [order, after] of Object.entries(ORDERS)) {
    t.test(`RFC 3261 §13.2.2.4, §16.11: ${scenario.name} completes the call when ${order}`, async (t) => {
      const uasPort = await allocatePort();
      const callerPort = await allocatePort();
      const uas = await startSippUas({ port: uasPort, calls: 1, scenario: scenario.file, extraArgs: scenario.extraArgs });
      t.teardown(async () => { await uas.stop(); releasePort(uasPort); releasePort(callerPort); });
      await call(callerPort, uasPort, after);
      const status = await uas.exitedWithin(5000);
      t.equal(status?.code, 0, 'sipp counts the call successful', uas.diagnostics());
      const got = uas.messages().filter((m) => m.direction === 'received').map((m) => m.what);
      t.same(got, ['INVITE', ...after], 'the UAS received the messages in the order sent', uas.diagnostics());
      t.equal(uas.messages().filter((m) => m.direction === 'unexpected').length, 0, 'nothing unexpected', uas.diagnostics());
    });
  }
}
