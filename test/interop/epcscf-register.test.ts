// Issue #3 proof: JsSIP and SIP.js in Node register over WebSocket through epcscf into a real
// IMS core stand-in (Kamailio: digest auth, Path, Service-Route). The rules are asserted on the
// messages captured at both ends: the client's frames and epcscf's Mw side.
import t, { type Test } from 'tap';
import {
  authValues, chargingVector, contacts, expires, getHeader, getHeaders, nameAddrList, optionTags,
  type ContactBinding, type SipRequest, type SipUri,
} from '../../core/sip/index.js';
import { startEpcscf, startImsCore, type EpcscfUnderTest, type ImsCoreStandIn } from '../support/epcscf-harness.js';
import { JsSipUser } from '../support/wic/jssip-user.js';
import { SipJsUser } from '../support/wic/sipjs-user.js';

async function setUp(t: Test, mwTransport: 'udp' | 'tcp' = 'udp'): Promise<{ core: ImsCoreStandIn; epcscf: EpcscfUnderTest }> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri(mwTransport), mwTransport });
  t.teardown(() => epcscf.close());
  return { core, epcscf };
}

/** The URI of the first Path value. */
function pathUri(request: SipRequest): SipUri {
  const path = nameAddrList(request, 'Path')[0];
  if (path === undefined || path.uri.kind !== 'sip') throw new Error('no SIP URI in Path');
  return path.uri;
}

const hasParam = (uri: SipUri, name: string): boolean => uri.params.some((p) => p.name.toLowerCase() === name);

for (const mwTransport of ['udp', 'tcp'] as const) {
  t.test(`R-REG-11..15 (Mw over ${mwTransport}): JsSIP registers through epcscf into Kamailio; challenge relayed, Path with flow token and ;ob`, async (t) => {
    const { core, epcscf } = await setUp(t, mwTransport);
    const alice = await JsSipUser.connect({ wsUrl: epcscf.wsUrl, user: 'alice', password: 'alicepw' });
    t.teardown(() => alice.stop());

    const status = await alice.register();
    t.equal(status, 200, 'registered', { kamailioLog: core.output().slice(-1500) });

    // RFC 3261 §22.2 / R-REG-7: the 401 from the core reaches the WIC unchanged in substance.
    const toWic = alice.capture.responses('received', 'REGISTER');
    const challenge = toWic.find((r) => r.status === 401);
    t.ok(challenge, 'the 401 challenge was relayed to the WIC');
    if (challenge) {
      const www = authValues(challenge, 'WWW-Authenticate')[0];
      t.equal(www?.scheme, 'Digest');
      t.equal(www?.params['realm'], 'ims.test', 'the core\'s realm, not ours');
      t.ok(www?.params['nonce'], 'with the core\'s nonce');
    }
    const ok = toWic.find((r) => r.status === 200);
    t.ok(ok, '200 OK reached the WIC');
    if (!ok) return;

    // TS 24.229 5.4.1.2.2 + RFC 3608: Service-Route and P-Associated-URI reach the WIC.
    t.match(getHeader(ok, 'Service-Route') ?? '', /sip:orig@127\.0\.0\.1:\d+;lr/, 'Service-Route reaches the WIC');
    t.match(getHeader(ok, 'P-Associated-URI') ?? '', /sip:alice@ims\.test/, 'P-Associated-URI reaches the WIC');
    const bound = contacts(ok).filter((c): c is ContactBinding => !('star' in c));
    t.ok(bound.some((c) => c.params.some((p) => p.name === '+sip.instance')), 'the binding carries the WIC\'s +sip.instance');

    // What went over Mw: the final REGISTER (the one with credentials) and its 200.
    const mwRegisters = epcscf.capture.requests('mw', 'out', 'REGISTER');
    t.equal(mwRegisters.length, 2, 'two REGISTERs on Mw (challenge round trip), no retry loop');
    for (const register of mwRegisters) {
      // R-REG-11 / RFC 3327 §5.1 / RFC 5626 §5.1: Path names us, carries a flow token, ;lr ;ob.
      const path = pathUri(register);
      t.ok(path.user && path.user.length >= 8, `Path carries a flow token in the user part (${path.user})`);
      t.ok(hasParam(path, 'lr'), 'Path URI is a loose router');
      t.ok(hasParam(path, 'ob'), 'Path URI carries ;ob (JsSIP asked for outbound: reg-id + instance)');
      t.equal(path.port, epcscf.mwPort, 'Path points to our Mw port');
      // R-REG-12: Require/Supported path.
      t.ok(optionTags(register, 'Require').includes('path'), 'Require: path');
      t.ok(optionTags(register, 'Supported').includes('path'), 'Supported: path');
      // R-REG-13: P-Visited-Network-ID.
      t.match(getHeader(register, 'P-Visited-Network-ID') ?? '', epcscf.visitedNetworkId, 'P-Visited-Network-ID');
      // R-REG-14: P-Charging-Vector with an icid-value.
      t.ok(chargingVector(register)?.icidValue, 'P-Charging-Vector icid-value');
      // R-REG-15: no Security-* on Mw.
      t.equal(getHeaders(register, 'Security-Client').length, 0, 'no Security-Client');
      t.notOk(optionTags(register, 'Require').includes('sec-agree'), 'no sec-agree in Require');
      t.notOk(optionTags(register, 'Proxy-Require').includes('sec-agree'), 'no sec-agree in Proxy-Require');
      // RFC 7118 §5: Mw carries no WS Via from us toward the core.
      t.match(getHeader(register, 'Via') ?? '', new RegExp(`^SIP/2.0/${mwTransport.toUpperCase()} `, 'i'), 'our Via on Mw names the Mw transport');
    }
    const [first, second] = mwRegisters;
    if (first && second) {
      t.equal(pathUri(first).user, pathUri(second).user, 'the same flow token for the same WebSocket');
      t.not(chargingVector(first)?.icidValue, chargingVector(second)?.icidValue, 'a new icid per REGISTER transaction');
    }
    // The Kamailio 200 OK echoes Path (path_mode 1) — i.e. the core saw our Path.
    const mwOk = epcscf.capture.responses('mw', 'in', 'REGISTER').find((r) => r.status === 200);
    t.ok(mwOk, '200 OK from the core on Mw');
    if (mwOk && second) t.equal(pathUri(mwOk as unknown as SipRequest).user, pathUri(second).user, 'Kamailio stored and echoed our Path');
  });
}

t.test('R-REG-7: a wrong password stays 401 (the core decides; epcscf relays)', async (t) => {
  const { epcscf } = await setUp(t);
  const mallory = await JsSipUser.connect({ wsUrl: epcscf.wsUrl, user: 'alice', password: 'wrong' });
  t.teardown(() => mallory.stop());
  const status = await mallory.register();
  t.equal(status, 401, 'registration failed with 401');
  const statuses = mallory.capture.responses('received', 'REGISTER').map((r) => r.status);
  t.same(statuses, [401, 401], 'challenged, answered once, challenged again; no 200');
  t.equal(epcscf.capture.responses('mw', 'in', 'REGISTER').filter((r) => r.status === 200).length, 0, 'no 200 on Mw');
});

t.test('R-REG-24 / RFC 3261 §10.2.2: JsSIP re-registers and de-registers (Expires 0) through epcscf', async (t) => {
  const { epcscf } = await setUp(t);
  const bob = await JsSipUser.connect({ wsUrl: epcscf.wsUrl, user: 'bob', password: 'secret' });
  t.teardown(() => bob.stop());
  t.equal(await bob.register(), 200, 'initial registration');
  t.equal(await bob.register(), 200, 're-registration');
  const before = epcscf.capture.requests('mw', 'out', 'REGISTER').length;
  await bob.unregister();
  const registers = epcscf.capture.requests('mw', 'out', 'REGISTER');
  const last = registers[registers.length - 1];
  t.ok(registers.length > before, 'the de-REGISTER went over Mw');
  if (last) {
    const contact = contacts(last)[0];
    const contactExpires = contact && !('star' in contact) ? contact.params.find((p) => p.name === 'expires')?.value : undefined;
    t.ok(expires(last) === 0 || contactExpires === '0', 'Expires 0 on Mw');
    t.ok(nameAddrList(last, 'Path').length === 1, 'de-REGISTER also carries our Path (same path, R-REG-24)');
  }
  const finals = bob.capture.responses('received', 'REGISTER').filter((r) => r.status === 200);
  const lastOk = finals[finals.length - 1];
  t.ok(lastOk, 'the de-REGISTER got 200');
  if (lastOk) {
    const remaining = contacts(lastOk).filter((c): c is ContactBinding => !('star' in c));
    t.equal(remaining.length, 0, 'no binding left at the registrar');
  }
});

t.test('R-REG-11: SIP.js registers through epcscf too (no outbound: Path without ;ob)', async (t) => {
  const { epcscf } = await setUp(t);
  const carol = await SipJsUser.connect({ wsUrl: epcscf.wsUrl, user: 'carol', password: 'secret' });
  t.teardown(() => carol.stop());
  t.equal(await carol.register(), 200, 'SIP.js registered');
  t.same(carol.capture.responses('received', 'REGISTER').map((r) => r.status), [401, 200], '401 relayed, then 200');
  const last = epcscf.capture.requests('mw', 'out', 'REGISTER').at(-1);
  t.ok(last, 'REGISTER on Mw');
  if (last) {
    const path = pathUri(last);
    t.ok(path.user, 'Path carries a flow token');
    t.notOk(hasParam(path, 'ob'), 'no ;ob: SIP.js did not ask for outbound (RFC 5626 §5.1)');
  }
  t.equal(await carol.unregister(), 200, 'SIP.js de-registered');
});
