/**
 * Issue 15 "Overload control ... 503 + Retry-After on SIP, the plugin's own error elsewhere":
 * a REGISTER refused for its rate (w2.limits.registrationRatePerClient) reaches a JSON-RPC client
 * as the failed registration result with the SIP status and reason, and an XMPP client as SASL
 * <failure><temporary-auth-failure/> with the reason in <text/> (RFC 6120 §6.5.10: try again
 * later), never as not-authorized. The virtual UE's digest round trip is two REGISTERs, so a
 * burst of 1 lets the first through and refuses the answered one.
 */
import t, { type Test } from 'tap';
import { DevImsCore } from '../../examples/dev-ims-core/index.js';
import { startEpcscf, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { XmppJsUser } from '../support/xmpp-clients.js';

async function setUp(t: Test): Promise<EpcscfUnderTest> {
  const core = await DevImsCore.start({ port: 0 });
  t.teardown(() => core.close());
  const epcscf = await startEpcscf({
    nextHop: core.uri, extraPlugins: [{ name: 'jsonrpc-ws' }, { name: 'xmpp-ws' }],
    w2Limits: { registrationRatePerClient: { ratePerSecond: 0.1, burst: 1 } },
  });
  t.teardown(() => epcscf.close());
  return epcscf;
}

const REASON = 'Service Unavailable - too many registrations on this connection (at most 0.1/s)';

t.test('issue 15: jsonrpc-ws: a REGISTER refused for its rate is session.register\'s failed result with sipStatus 503 and the reason; nothing answered reached the core', async (t) => {
  const epcscf = await setUp(t);
  const alice = await RpcWsClient.connect(`${epcscf.baseUrl}/jsonrpc`);
  t.teardown(() => alice.close());
  const result = await alice.request('session.register', { impu: 'sip:alice@ims.test', password: 'alicepw' });
  t.match(result, { state: 'failed', sipStatus: 503, reason: REASON });
  t.equal(epcscf.capture.requests('mw', 'out', 'REGISTER').length, 1, 'only the first REGISTER (challenged) went to Mw');
});

t.test('issue 15: xmpp-ws: a REGISTER refused for its rate is SASL temporary-auth-failure with the reason, not not-authorized', async (t) => {
  const epcscf = await setUp(t);
  const refused = await XmppJsUser.login({ service: `${epcscf.baseUrl}/xmpp`, domain: 'ims.test', username: 'alice', password: 'alicepw' })
    .then((user) => { void user.stop(); return undefined; }, (error: unknown) => error as { condition?: string; text?: string });
  t.ok(refused, 'the login is refused');
  t.equal(refused?.condition, 'temporary-auth-failure', 'RFC 6120 §6.5.10: the client may try again later');
  t.equal(refused?.text, REASON, 'the P-CSCF\'s reason phrase in <text/>');
});
