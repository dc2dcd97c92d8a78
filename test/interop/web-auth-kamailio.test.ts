// TS 24.371 scenarios 1, 2 and 3 against a real IMS core stand-in: Kamailio
// (examples/kamailio/ims-core-standin.cfg) configured to trust epcscf's Mw address only
// (TRUSTED_NODE_IP/PORT). Digest still works (R-REG-7); a web token registers as a trusted node
// without a challenge (R-REG-9), and epcscf de-registers it when the WebSocket closes
// (R-REG-25); the same trusted-node REGISTER from any other port is challenged.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createRequest, getHeader, getHeaders, SipStack, type SipRequest } from '../../core/sip/index.js';
import { startEpcscf, startImsCore, type EpcscfUnderTest, type ImsCoreStandIn } from '../support/epcscf-harness.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { TEST_AUDIENCE, TEST_ISSUER, makeKey, signToken, writeJwksFile, type TestKey } from '../support/web-tokens.js';
import { JsSipUser } from '../support/wic/jssip-user.js';

const GUEST_ISSUER = 'https://guests.wwsf.test';

async function setUp(t: Test): Promise<{ core: ImsCoreStandIn; epcscf: EpcscfUnderTest; key: TestKey }> {
  const dir = await mkdtemp(join(tmpdir(), 'epcscf-webauth-kam-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const key = await makeKey('ES256', 'wwsf-1');
  await writeJwksFile(join(dir, 'jwks.json'), [key]);
  const mwPort = await allocatePort();
  t.teardown(() => releasePort(mwPort));
  const core = await startImsCore({ trustedNode: { host: '127.0.0.1', port: mwPort } });
  t.teardown(() => core.stop());
  const epcscf = await startEpcscf({
    nextHop: core.uri('udp'), mwPort,
    webAuth: {
      issuers: [
        { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: join(dir, 'jwks.json') } },
        { issuer: GUEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: join(dir, 'jwks.json') }, impuPool: ['sip:guest1@ims.test', 'sip:guest2@ims.test'] },
      ],
    },
  });
  t.teardown(() => epcscf.close());
  return { core, epcscf, key };
}

function mwResponsesIn(epcscf: EpcscfUnderTest, from: number, method: string): number[] {
  return epcscf.capture.entries.slice(from).flatMap((e) => e.side === 'mw' && e.direction === 'in' && e.message.kind === 'response'
    && (getHeader(e.message, 'CSeq') ?? '').endsWith(method) ? [e.message.status] : []);
}

/** A request sent by a plain UDP SIP stack (not epcscf): the final status Kamailio answers. */
async function sendFromElsewhere(t: Test, core: ImsCoreStandIn, build: (via: string) => SipRequest): Promise<number> {
  const stack = await SipStack.start({ listeners: ['udp:127.0.0.1:0'], onRequest: () => undefined });
  t.teardown(() => stack.close());
  return new Promise<number>((resolve) => {
    stack.transactions.sendRequest(build(stack.newVia('udp')), { transport: 'udp', host: '127.0.0.1', port: core.port }, { onFinal: (r) => resolve(r.status) });
  });
}

const tna = (impi: string): string => `Digest username="${impi}", realm="ims.test", uri="sip:ims.test", nonce="", response="", integrity-protected="auth-done"`;

t.test('Kamailio trusts epcscf only', async (t) => {
  const { core, epcscf, key } = await setUp(t);

  t.test('R-REG-7: scenario 1 (digest) still works: challenged, then registered', async (t) => {
    const from = epcscf.capture.entries.length;
    const alice = await JsSipUser.connect({ wsUrl: epcscf.wsUrl, user: 'alice', password: 'alicepw' });
    t.teardown(() => alice.stop());
    t.equal(await alice.register(), 200, 'registered', { kamailioLog: core.output().slice(-1500) });
    t.same(mwResponsesIn(epcscf, from, 'REGISTER'), [401, 200], 'Kamailio challenged the digest REGISTER');
  });

  t.test('R-REG-9: scenario 2: a web token registers bob as a trusted node, without a challenge', async (t) => {
    const from = epcscf.capture.entries.length;
    const bob = await JsSipUser.connect({
      wsUrl: epcscf.wsUrl, user: 'bob',
      extraHeaders: [`Authorization: Bearer ${await signToken({ key, claims: { sub: 'bob@ims.test', impu: 'sip:bob@ims.test' } })}`],
    });
    t.teardown(() => bob.stop());
    t.equal(await bob.register(), 200, 'registered', { kamailioLog: core.output().slice(-1500) });
    t.same(mwResponsesIn(epcscf, from, 'REGISTER'), [200], 'one REGISTER, one 200: no challenge');
    const register = epcscf.capture.requests('mw', 'out', 'REGISTER').at(-1) as SipRequest;
    t.same(getHeaders(register, 'Authorization'), [tna('bob@ims.test')]);
    t.match(bob.capture.responses('received', 'REGISTER').at(-1) && getHeader(bob.capture.responses('received', 'REGISTER').at(-1)!, 'Service-Route'), /sip:orig@/, 'Service-Route reaches the WIC');
  });

  t.test('scenario 3: a guest IMPU from the pool registers as a trusted node', async (t) => {
    const from = epcscf.capture.entries.length;
    const guest = await JsSipUser.connect({
      wsUrl: epcscf.wsUrl, user: 'guest1',
      extraHeaders: [`Authorization: Bearer ${await signToken({ key, claims: { iss: GUEST_ISSUER, sub: 'guest1@ims.test', impu: 'sip:guest1@ims.test' } })}`],
    });
    t.teardown(() => guest.stop());
    t.equal(await guest.register(), 200);
    t.same(mwResponsesIn(epcscf, from, 'REGISTER'), [200]);
  });

  t.test('the same trusted-node REGISTER from another port is challenged: Kamailio trusts epcscf\'s Mw address only', async (t) => {
    const status = await sendFromElsewhere(t, core, (via) => createRequest({ method: 'REGISTER', uri: 'sip:ims.test', headers: [
      ['Via', via], ['Max-Forwards', '70'], ['From', '<sip:carol@ims.test>;tag=forged'], ['To', '<sip:carol@ims.test>'],
      ['Call-ID', `forged-${Date.now()}`], ['CSeq', '1 REGISTER'], ['Contact', '<sip:carol@127.0.0.1:9>'], ['Expires', '600'],
      ['Authorization', tna('carol@ims.test')],
    ] }));
    t.equal(status, 401, 'digest challenge, not a registration');
  });

  t.test('R-REG-25: when the WebSocket closes, epcscf de-registers on Mw and Kamailio drops the binding', async (t) => {
    const carol = await JsSipUser.connect({
      wsUrl: epcscf.wsUrl, user: 'carol',
      extraHeaders: [`Authorization: Bearer ${await signToken({ key, claims: { sub: 'carol@ims.test', impu: 'sip:carol@ims.test' } })}`],
    });
    t.equal(await carol.register(), 200);
    const from = epcscf.capture.entries.length;
    carol.kill();
    const deregistration = await epcscf.capture.waitFor((e) => e.side === 'mw' && e.direction === 'out' && e.message.kind === 'request' && e.message.method === 'REGISTER', { from, what: 'the de-registration' });
    t.equal(getHeader(deregistration.message, 'Expires'), '0');
    t.same(getHeaders(deregistration.message, 'Authorization'), [tna('carol@ims.test')]);
    await epcscf.capture.waitFor((e) => e.side === 'mw' && e.direction === 'in' && e.message.kind === 'response' && e.message.status === 200, { from, what: 'Kamailio\'s 200' });
    const status = await sendFromElsewhere(t, core, (via) => createRequest({ method: 'MESSAGE', uri: 'sip:carol@ims.test', headers: [
      ['Via', via], ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=m1'], ['To', '<sip:carol@ims.test>'],
      ['Call-ID', `after-${Date.now()}`], ['CSeq', '1 MESSAGE'], ['Content-Type', 'text/plain'],
    ], body: 'anyone there?' }));
    t.equal(status, 404, 'Kamailio no longer knows carol');
  });
});
