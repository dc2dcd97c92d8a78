import t from 'tap';
import { isOriginAllowed, normaliseOrigin } from '../../../core/server/origin-policy.js';
import { chooseRoute, offeredSubprotocols } from '../../../core/server/subprotocol.js';
import { KeepaliveMonitor } from '../../../core/server/keepalive.js';
import type { W2Route } from '../../../core/plugin/loader.js';

t.test('R-WS-4 / RFC 6454 §6.2: origins compare by serialisation (case, default port)', async (t) => {
  t.equal(normaliseOrigin('HTTPS://WWSF.Example.com:443'), 'https://wwsf.example.com');
  t.equal(normaliseOrigin('http://a.test:8080'), 'http://a.test:8080');
  t.equal(normaliseOrigin('null'), 'null');
  t.ok(isOriginAllowed('https://a.test', []), 'empty list = any');
  t.ok(isOriginAllowed(undefined, []), 'empty list admits a client without Origin');
  t.notOk(isOriginAllowed(undefined, ['https://a.test']), 'a list requires an Origin');
  t.ok(isOriginAllowed('https://a.test:443', ['https://A.test']));
  t.notOk(isOriginAllowed('http://a.test', ['https://a.test']), 'scheme matters');
  t.notOk(isOriginAllowed('https://a.test:8443', ['https://a.test']), 'port matters');
  t.notOk(isOriginAllowed('https://a.test.evil.net', ['https://a.test']), 'no suffix matching');
  t.notOk(isOriginAllowed('null', ['https://a.test']));
});

t.test('RFC 6455 §4.2.2: select only a token the client offered, in the binding preference order', async (t) => {
  t.same(offeredSubprotocols('sip, xmpp ,,x'), ['sip', 'xmpp', 'x']);
  t.same(offeredSubprotocols(undefined), []);
  const route = (name: string, subprotocols: string[]) => ({ path: '/', subprotocols, allowedOrigins: [], maxFrameBytes: 1, plugin: { name } }) as unknown as W2Route;
  const routes = [route('sip-ws', ['sip']), route('multi', ['v2.proto', 'v1.proto'])];
  t.equal(chooseRoute(routes, ['foo', 'sip'])?.subprotocol, 'sip');
  t.equal(chooseRoute(routes, ['v1.proto', 'v2.proto'])?.subprotocol, 'v2.proto', 'the binding preference wins among offered tokens');
  t.equal(chooseRoute(routes, ['v1.proto'])?.route.plugin.name, 'multi');
  t.equal(chooseRoute(routes, ['SIP']), undefined, 'tokens compare exactly');
  t.equal(chooseRoute(routes, []), undefined);
});

t.test('R-WS-10: keep-alive pings only idle targets and declares dead one that missed the pong', async (t) => {
  const monitor = new KeepaliveMonitor(40);
  t.teardown(() => monitor.stop());
  const log: string[] = [];
  const make = (name: string) => ({ ping: () => log.push(`ping ${name}`), onDead: () => log.push(`dead ${name}`) });
  const busy = make('busy');
  const silent = make('silent');
  const answering = { ping: () => { log.push('ping answering'); setTimeout(() => monitor.seen(answering), 5); }, onDead: () => log.push('dead answering') };
  monitor.add(busy);
  monitor.add(silent);
  monitor.add(answering);
  const chatter = setInterval(() => monitor.seen(busy), 10);
  t.teardown(() => clearInterval(chatter));
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(log.includes('ping busy'), 'a connection with traffic is not pinged');
  t.ok(log.includes('ping silent'));
  t.equal(log.filter((l) => l === 'dead silent').length, 1, 'declared dead once');
  t.ok(log.filter((l) => l === 'ping answering').length >= 2, 'an answering peer keeps being pinged');
  t.notOk(log.includes('dead answering'));
  t.notOk(log.includes('dead busy'));
});

t.test('keep-alive interval 0 disables pings', async (t) => {
  const monitor = new KeepaliveMonitor(0);
  let pinged = false;
  monitor.add({ ping: () => { pinged = true; }, onDead: () => { pinged = true; } });
  await new Promise((r) => setTimeout(r, 30));
  t.notOk(pinged);
});
