// Issue #12 leftover, R-XWS-5/8 (RFC 7395 §3.4, §3.6.1): with the xmpp-ws option `seeOtherUri`
// set, the server answers a client's first <open/> with <close see-other-uri="…"/> and closes the
// WebSocket; the client follows the URI to another epcscf and logs in there. A wss:// client is
// never sent to plain ws:// (clients MUST NOT accept a lower security context).
import t from 'tap';
import { pino } from 'pino';
import { DevImsCore } from '../../examples/dev-ims-core/index.js';
import { DEFAULT_XMPP_WS_OPTIONS, XmppWsSession, xmppWsPlugin } from '../../plugins/xmpp-ws/index.js';
import { startEpcscf } from '../support/epcscf-harness.js';
import { fakeUeFactory } from '../support/fake-ua.js';
import { RawXmppSocket, XmppJsUser } from '../support/xmpp-clients.js';

const OPEN = '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="ims.test" version="1.0"/>';

t.test('R-XWS-5/8 (RFC 7395 §3.6.1): a configured seeOtherUri answers <open/> with <close see-other-uri/>; the client follows it and logs in at the other endpoint', async (t) => {
  const core = await DevImsCore.start({ port: 0 });
  t.teardown(() => core.close());
  const serving = await startEpcscf({ nextHop: core.uri, extraPlugins: [{ name: 'xmpp-ws' }] });
  t.teardown(() => serving.close());
  const target = `${serving.baseUrl}/xmpp`;
  const draining = await startEpcscf({ nextHop: core.uri, extraPlugins: [{ name: 'xmpp-ws', options: { seeOtherUri: target } }] });
  t.teardown(() => draining.close());

  const socket = await RawXmppSocket.connect(`${draining.baseUrl}/xmpp`);
  t.teardown(() => socket.close());
  socket.send(OPEN);
  const close = await socket.nextFrame(() => true);
  t.equal(close, `<close xmlns="urn:ietf:params:xml:ns:xmpp-framing" see-other-uri="${target}"/>`, 'RFC 7395 §3.4: the first answer is <close/> (no <open/>, no features), naming the other endpoint');
  t.equal((await socket.closed).code, 1000, 'then the WebSocket closes normally (RFC 6455 §7.4.1)');
  t.equal(socket.frames.length, 1, 'nothing else was sent');
  t.equal(draining.capture.requests('mw', 'out', 'REGISTER').length, 0, 'the draining node sent nothing toward the IMS');

  const uri = /see-other-uri="([^"]+)"/.exec(close)?.[1] ?? '';
  const alice = await XmppJsUser.login({ service: uri, domain: 'ims.test', username: 'alice', password: 'alicepw' });
  t.teardown(() => alice.stop());
  t.equal(alice.jid, 'alice@ims.test/test', 'the client logged in at the endpoint it was sent to');
  t.ok(serving.capture.responses('mw', 'in', 'REGISTER').some((r) => r.status === 200), 'and registered through that node');
});

t.test('R-XWS-8 (RFC 7395 §3.6.1): a wss:// client is not sent to a ws:// endpoint; without seeOtherUri the stream opens as usual', async (t) => {
  const frames = (seeOtherUri: string, secure: boolean): { sent: string[]; closed: number[]; session: XmppWsSession } => {
    const sent: string[] = [];
    const closed: number[] = [];
    const factory = fakeUeFactory({});
    const session = new XmppWsSession({
      id: 'c1', remote: { address: '127.0.0.1', port: 1 }, secure,
      send: async (frame) => { sent.push(frame); },
      close: (code) => { closed.push(code ?? 1005); },
    }, {
      createUe: (identity) => factory.create({ identity, secure, transport: { send: async () => undefined } }),
      log: pino({ level: 'silent' }), options: { ...DEFAULT_XMPP_WS_OPTIONS, domain: 'ims.test', seeOtherUri }, now: Date.now, reportFlood: () => undefined,
    });
    return { sent, closed, session };
  };
  const downgrade = frames('ws://other.example/xmpp', true);
  await downgrade.session.onFrame(OPEN);
  t.match(downgrade.sent[0], /^<open /, 'served here: a ws:// redirect would lower the security context');
  t.same(downgrade.closed, []);
  const secure = frames('wss://other.example/xmpp', true);
  await secure.session.onFrame(OPEN);
  t.equal(secure.sent[0], '<close xmlns="urn:ietf:params:xml:ns:xmpp-framing" see-other-uri="wss://other.example/xmpp"/>', 'wss:// → wss:// is redirected');
  t.same(secure.closed, [1000]);
  const none = frames('', false);
  await none.session.onFrame(OPEN);
  t.match(none.sent[0], /^<open /, 'no option, no redirect');
});

t.test('RFC 7395 §3.6.1: a seeOtherUri that is not a ws:// or wss:// URI is refused at load', async (t) => {
  const host = { homeDomain: 'ims.test' } as unknown as Parameters<typeof xmppWsPlugin.init>[0];
  t.throws(() => xmppWsPlugin.init(host, { seeOtherUri: 'https://other.example/xmpp' }), { code: 'EPC_ERR_PLUGIN_OPTIONS_INVALID' });
  t.throws(() => xmppWsPlugin.init(host, { seeOtherUri: 'wss://' }), { code: 'EPC_ERR_PLUGIN_OPTIONS_INVALID' });
});
