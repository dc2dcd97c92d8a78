// Issue #14 MWI (TS 24.606, RFC 3842) with real peers: a sipp voicemail notifier behind Kamailio
// answers a SUBSCRIBE Event: message-summary made through epcscf and sends the NOTIFY with
// "Voice-Message: 2/8 (0/2)". Every protocol shows the counts: JSON-RPC subscription.notify
// (raw body + messageSummary), XMPP a headline <mwi xmlns='urn:epcscf:mmtel:0'/>, and sip-ws
// (JsSIP) gets SUBSCRIBE/NOTIFY through intact (R-MMTEL-1/2).
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { bodyText, getHeader } from '../../core/sip/index.js';
import { startEpcscf, startImsCore, type EpcscfUnderTest, type ImsCoreStandIn } from '../support/epcscf-harness.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { startSippUas, type SippUas } from '../support/peers/sipp.js';
import { JsSipUser, withDeadline } from '../support/wic/jssip-user.js';
import { XmppJsUser, xml } from '../support/xmpp-clients.js';

const NOTIFIER = fileURLToPath(new URL('../../examples/sipp/notifier-mwi.xml', import.meta.url));

interface Rig { core: ImsCoreStandIn; epcscf: EpcscfUnderTest }

async function setUp(t: Test, plugins: string[]): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp'), extraPlugins: plugins.map((name) => ({ name })) });
  t.teardown(() => epcscf.close());
  return { core, epcscf };
}

/** The sipp notifier on a fresh port: one SUBSCRIBE, one NOTIFY. */
async function startNotifier(t: Test): Promise<{ notifier: SippUas; port: number }> {
  const port = await allocatePort();
  const notifier = await startSippUas({ port, calls: 1, scenario: NOTIFIER });
  t.teardown(async () => { await notifier.stop(); releasePort(port); });
  return { notifier, port };
}

async function notifierDone(t: Test, notifier: SippUas): Promise<void> {
  const status = await notifier.exitedWithin(8000);
  t.equal(status?.code, 0, 'the sipp notifier got its SUBSCRIBE and its NOTIFY was answered 200', notifier.diagnostics());
}

function assertMw(t: Test, epcscf: EpcscfUnderTest): void {
  const subscribe = epcscf.capture.requests('mw', 'out', 'SUBSCRIBE')[0];
  t.equal(subscribe && getHeader(subscribe, 'Event'), 'message-summary', 'Mw: SUBSCRIBE Event: message-summary');
  t.match(subscribe && getHeader(subscribe, 'Accept'), /application\/simple-message-summary/, 'RFC 3842 §4: Accept application/simple-message-summary');
  const notify = epcscf.capture.requests('mw', 'in', 'NOTIFY')[0];
  t.match(notify && bodyText(notify), /Voice-Message: 2\/8 \(0\/2\)/, 'Mw: the NOTIFY carried the counts');
}

t.test('TS 24.606 MWI over JSON-RPC: subscription.subscribe message-summary → subscription.notify with the body and its counts', async (t) => {
  const { epcscf } = await setUp(t, ['jsonrpc-ws']);
  const alice = await RpcWsClient.connect(`${epcscf.baseUrl}/jsonrpc`);
  t.teardown(() => alice.close());
  t.equal((await alice.request('session.register', { impu: 'sip:alice@ims.test', password: 'alicepw' }))['state'], 'registered');
  const { notifier, port } = await startNotifier(t);
  const { subscriptionId } = await alice.request('subscription.subscribe', { event: 'message-summary', target: `sip:mwi@127.0.0.1:${port}` });
  const notified = await alice.notification('subscription.notify', (p) => p['subscriptionId'] === subscriptionId && p['body'] !== undefined, 10_000);
  t.equal(notified['event'], 'message-summary');
  t.equal(notified['contentType'], 'application/simple-message-summary');
  t.match(notified['body'], /Voice-Message: 2\/8 \(0\/2\)/, 'the body as the notifier sent it');
  t.same(notified['messageSummary'], {
    messagesWaiting: true, account: 'sip:alice@ims.test', new: 2, old: 8,
    classes: { voice: { new: 2, old: 8, urgentNew: 0, urgentOld: 2 } },
  }, 'RFC 3842 §5.2 counts: 2 new, 8 old voice messages');
  await notifierDone(t, notifier);
  assertMw(t, epcscf);
});

t.test('TS 24.606 MWI over xmpp-ws: <iq type="set"><mwi xmlns="urn:epcscf:mmtel:0"/></iq> subscribes; counts arrive as a headline <mwi new="2" old="8" voice="2/8"/>', async (t) => {
  const { epcscf } = await setUp(t, ['xmpp-ws']);
  const alice = await XmppJsUser.login({ service: `${epcscf.baseUrl}/xmpp`, domain: 'ims.test', username: 'alice', password: 'alicepw' });
  t.teardown(() => alice.stop());
  const { notifier, port } = await startNotifier(t);
  const mark = alice.received.length;
  await alice.send(xml('iq', { type: 'set', id: 'mwi1' }, xml('mwi', { xmlns: 'urn:epcscf:mmtel:0', account: `sip:mwi@127.0.0.1:${port}` })));
  const result = await alice.next((s) => s.is('iq') && s.attrs['id'] === 'mwi1', 10_000, mark);
  t.equal(result.attrs['type'], 'result', 'the IQ result follows the SUBSCRIBE 2xx');
  const headline = await alice.next((s) => s.is('message') && s.attrs['type'] === 'headline' && s.getChild('mwi', 'urn:epcscf:mmtel:0') !== undefined, 10_000, mark);
  t.equal(headline.attrs['from'], 'ims.test', 'from the server');
  t.same(headline.getChild('mwi', 'urn:epcscf:mmtel:0')?.attrs, {
    xmlns: 'urn:epcscf:mmtel:0', waiting: 'yes', new: '2', old: '8', voice: '2/8', account: 'sip:alice@ims.test',
  }, 'RFC 3842 counts: 2 new / 8 old voice messages');
  await notifierDone(t, notifier);
  assertMw(t, epcscf);
});

t.test('TS 24.606 MWI over xmpp-ws: a message-summary subscription the network does not answer gets an IQ error', async (t) => {
  const { epcscf } = await setUp(t, ['xmpp-ws']);
  const alice = await XmppJsUser.login({ service: `${epcscf.baseUrl}/xmpp`, domain: 'ims.test', username: 'alice', password: 'alicepw' });
  t.teardown(() => alice.stop());
  const mark = alice.received.length;
  await alice.send(xml('iq', { type: 'set', id: 'mwi2' }, xml('mwi', { xmlns: 'urn:epcscf:mmtel:0', account: 'sip:nobody@127.0.0.1:9' })));
  const answer = await alice.next((s) => s.is('iq') && s.attrs['id'] === 'mwi2', 15_000, mark);
  t.equal(answer.attrs['type'], 'error', 'no notifier answers: the subscription fails and the IQ says so');
});

interface JsSipSubscriber {
  on(event: 'notify', listener: (final: boolean, request: unknown, body: string | undefined, contentType: string | undefined) => void): void;
  subscribe(): void;
  terminate(): void;
}

t.test('R-MMTEL-1/2 MWI over sip-ws: a JsSIP SUBSCRIBE message-summary and the NOTIFY pass through epcscf intact', async (t) => {
  const { epcscf } = await setUp(t, []);
  const alice = await JsSipUser.connect({ wsUrl: epcscf.wsUrl, user: 'alice', password: 'alicepw' });
  t.teardown(() => alice.stop());
  t.equal(await alice.register(), 200, 'alice (JsSIP) registered');
  const { notifier, port } = await startNotifier(t);
  const subscriber = (alice.ua as unknown as { subscribe(target: string, event: string, accept: string, options: object): JsSipSubscriber })
    .subscribe(`sip:mwi@127.0.0.1:${port}`, 'message-summary', 'application/simple-message-summary', { expires: 600 });
  const notified = new Promise<{ body: string | undefined; contentType: string | undefined }>((resolve) => {
    subscriber.on('notify', (_final, _request, body, contentType) => resolve({ body, contentType }));
  });
  subscriber.subscribe();
  const got = await withDeadline(notified, 10_000, 'JsSIP gets the NOTIFY');
  t.match(got.contentType, /application\/simple-message-summary/, 'the body type is intact');
  t.match(got.body, /Messages-Waiting: yes\r?\nMessage-Account: sip:alice@ims\.test\r?\nVoice-Message: 2\/8 \(0\/2\)/, 'the RFC 3842 body reaches JsSIP unchanged');
  await notifierDone(t, notifier);
  assertMw(t, epcscf);
  const fromWic = epcscf.capture.requests('w2', 'in', 'SUBSCRIBE')[0];
  t.equal(fromWic && getHeader(fromWic, 'Event'), 'message-summary', 'the WIC\'s own SUBSCRIBE');
  subscriber.terminate();
});
