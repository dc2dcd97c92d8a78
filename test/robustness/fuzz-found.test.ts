// Plain regressions for what the issue 11 fuzz (fuzz-w2-sip-ws.test.ts, seed 11011) found, each
// the shrunk counterexample as one exact message, on the procedure rig (pcscf-rig.ts: the P-CSCF
// on real sockets, an in-memory W2 session, a fake IMS core on UDP). The client on conn-1 never
// registered: R-ORIG-1 / R-ORIG-10 say nothing it sends may leave on Mw but REGISTER.
import t from 'tap';
import { createRequest, type SipResponse } from '../../core/sip/index.js';
import { setup } from '../support/pcscf-rig.js';

/** The rig's W2 address (pcscf-rig.ts w2.listen). */
const PCSCF_W2 = '127.0.0.1:18080';
const QUIET_MS = 400;

async function nothingOnMw(core: Awaited<ReturnType<typeof setup>>['core']): Promise<string | undefined> {
  const got = await core.next(() => true, QUIET_MS).catch(() => undefined);
  if (got === undefined) return undefined;
  return got.kind === 'request' ? got.method : `${got.status} ${got.reason}`;
}

t.test('issue 11 (fuzz: strayResponseRelay): a stray response from an unregistered client is not relayed to the Via below the P-CSCF\'s own', async (t) => {
  const { core, pcscf } = await setup(t);
  // RFC 3261 §16.7 routes a response by Via, but only along a transaction the proxy holds: a
  // response the client made up, naming our W2 address on top and an IMS hop below, is absorbed.
  const forged: SipResponse = {
    kind: 'response', status: 200, reason: 'OK', body: new Uint8Array(0), headers: [
      { name: 'Via', value: `SIP/2.0/WSS ${PCSCF_W2};branch=z9hG4bKpcscf1` },
      { name: 'Via', value: `SIP/2.0/UDP 127.0.0.1:${core.port};branch=z9hG4bKims1` },
      { name: 'From', value: '<sip:carol@ims.test>;tag=c1' }, { name: 'To', value: '<sip:alice@ims.test>;tag=a1' },
      { name: 'Call-ID', value: 'relay-1' }, { name: 'CSeq', value: '1 MESSAGE' },
    ],
  };
  await pcscf.fromClient('conn-1', forged);
  t.equal(await nothingOnMw(core), undefined, 'nothing reaches the IMS hop the client named');
});

t.test('issue 11 (fuzz: ack): an ACK from an unregistered client for no transaction and no dialog never reaches Mw', async (t) => {
  const { core, pcscf } = await setup(t);
  const ack = createRequest({ method: 'ACK', uri: `sip:bob@127.0.0.1:${core.port}`, headers: [
    ['Via', 'SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKack1'], ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=a1'],
    ['To', '<sip:bob@ims.test>'], ['Call-ID', 'stray-ack-1'], ['CSeq', '4711 ACK'],
  ] });
  await pcscf.fromClient('conn-1', ack);
  t.equal(await nothingOnMw(core), undefined, 'RFC 3261 §17.2.3 / R-ORIG-10: the stray ACK is absorbed');
});

t.test('issue 11 (fuzz: midDialogMessage): a MESSAGE with a To tag for a dialog the P-CSCF never saw, from an unregistered client, is refused and never reaches Mw', async (t) => {
  const { core, pcscf, wic } = await setup(t);
  const message = createRequest({ method: 'MESSAGE', uri: `sip:bob@127.0.0.1:${core.port}`, headers: [
    ['Via', 'SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKmsg1'], ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=a1'],
    ['To', '<sip:bob@ims.test>;tag=b1'], ['Call-ID', 'no-dialog-1'], ['CSeq', '8 MESSAGE'], ['Require', ''], ['Content-Type', 'text/plain'],
  ], body: 'relay me' });
  await pcscf.fromClient('conn-1', message);
  t.equal(await nothingOnMw(core), undefined, 'R-ORIG-1 / R-ORIG-10: nothing on Mw');
  const answer = await wic.next<SipResponse>((m) => m.kind === 'response' && m.status >= 200).catch(() => undefined);
  t.ok(answer !== undefined && answer.status >= 400 && answer.status < 500, `refused with a 4xx (got ${answer?.status ?? 'nothing'} ${answer?.reason ?? ''})`);
});
