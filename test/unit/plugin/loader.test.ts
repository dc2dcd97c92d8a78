import t from 'tap';
import { EventEmitter } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { extendBuiltinPlugins } from '../../../core/cli/builtin-plugins.js';
import { defineW2Plugin, W2_CONTRACT_VERSION } from '../../../core/contract/contract.js';
import type { W2Plugin, W2PluginInstance } from '../../../core/contract/contract.js';
import type { W2ObserverEvents } from '../../../core/contract/host.js';
import { loadPlugins } from '../../../core/plugin/loader.js';
import type { PluginReference } from '../../../core/plugin/loader.js';
import { validateSessionShape } from '../../../core/plugin/validate-plugin.js';
import { unattachedSipApi } from '../../../core/plugin/unattached-sip-api.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..', '..');

function plugin(name: string, overrides: Partial<W2Plugin> = {}): W2Plugin {
  return {
    meta: { name, version: '1.0.0', contract: W2_CONTRACT_VERSION },
    bindings: [{ path: `/${name}`, subprotocols: [name] }],
    init: () => echoInstance(),
    ...overrides,
  };
}

function echoInstance(close?: () => void): W2PluginInstance {
  return { openSession: (conn) => ({ onFrame: (f) => conn.send(f), onClose: () => {} }), ...(close ? { close } : {}) };
}

function load(references: PluginReference[], inMemory: W2Plugin[] = [], extra: { initTimeoutMs?: number; baseDir?: string } = {}) {
  return loadPlugins(references, {
    builtins: extendBuiltinPlugins(inMemory.map((p) => [p.meta.name, async () => ({ default: p })] as const)),
    baseDir: extra.baseDir ?? here,
    log: pino({ level: 'silent' }),
    sip: unattachedSipApi,
    observer: new EventEmitter<W2ObserverEvents>(),
    maxFrameBytes: 65536,
    ...(extra.initTimeoutMs !== undefined ? { initTimeoutMs: extra.initTimeoutMs } : {}),
  });
}

t.test('Janus rule: a plugin written for another contract version is refused with EPC_ERR_PLUGIN_CONTRACT_MISMATCH', async (t) => {
  await t.rejects(load([{ name: './fixtures/wrong-contract.js' }]), {
    code: 'EPC_ERR_PLUGIN_CONTRACT_MISMATCH',
    message: /meta\.contract is 99, this epcscf implements W2 contract 2/,
  });
  const noMeta = { bindings: [], init: () => ({ openSession: () => ({}) }) } as unknown as W2Plugin;
  await t.rejects(load([{ name: 'bare' }], [Object.assign(noMeta, { meta: { name: 'bare', version: '1.0.0' } }) as W2Plugin]), {
    code: 'EPC_ERR_PLUGIN_CONTRACT_MISMATCH',
    message: /meta\.contract is missing/,
  });
});

t.test('style-anchors §10.3: a plugin without init() is refused with EPC_ERR_PLUGIN_MISSING_HOOK', async (t) => {
  await t.rejects(load([{ name: './fixtures/no-init.js' }]), {
    code: 'EPC_ERR_PLUGIN_MISSING_HOOK',
    message: 'plugin "./fixtures/no-init.js": init(host, options) is missing (it returns the instance with openSession)',
  });
});

t.test('style-anchors §10.3: a session object without onFrame/onClose is refused with EPC_ERR_PLUGIN_MISSING_HOOK', async (t) => {
  t.throws(() => validateSessionShape({ onFrame: () => {} }, 'p'), { code: 'EPC_ERR_PLUGIN_MISSING_HOOK', message: /no onClose\(\) hook/ });
  t.throws(() => validateSessionShape({ onClose: () => {} }, 'p'), { code: 'EPC_ERR_PLUGIN_MISSING_HOOK', message: /no onFrame\(\) hook/ });
  t.throws(() => validateSessionShape(undefined, 'p'), { code: 'EPC_ERR_PLUGIN_MISSING_HOOK' });
  const ok = { onFrame: () => {}, onClose: () => {} };
  t.equal(validateSessionShape(ok, 'p'), ok);
});

t.test('manifest schema: a bad binding path or name is refused with EPC_ERR_PLUGIN_LOAD naming the key', async (t) => {
  await t.rejects(load([{ name: 'badpath' }], [plugin('badpath', { bindings: [{ path: 'sip', subprotocols: ['sip'] }] })]), {
    code: 'EPC_ERR_PLUGIN_LOAD',
    message: /bindings\[0\]\.path: expected URL path starting with '\/'/,
  });
  await t.rejects(load([{ name: 'nosub' }], [plugin('nosub', { bindings: [{ path: '/a', subprotocols: [] }] })]), {
    code: 'EPC_ERR_PLUGIN_LOAD',
    message: /bindings\[0\]\.subprotocols: must NOT have fewer than 1 items/,
  });
  await t.rejects(load([{ name: 'Caps!' }], [plugin('Caps!')]), {
    code: 'EPC_ERR_PLUGIN_LOAD',
    message: /meta\.name: expected unique plugin id/,
  });
});

t.test('options are validated against the plugin optionsSchema: EPC_ERR_PLUGIN_OPTIONS_INVALID names the bad key', async (t) => {
  const ref = (options: Record<string, unknown>) => [{ name: './fixtures/with-options.js', options }];
  await t.rejects(load(ref({ greeting: 42 })), {
    code: 'EPC_ERR_PLUGIN_OPTIONS_INVALID',
    message: /options\.greeting: must be string \(got 42\)/,
  });
  await t.rejects(load(ref({})), { code: 'EPC_ERR_PLUGIN_OPTIONS_INVALID', message: /options\.greeting: is required/ });
  await t.rejects(load(ref({ greeting: 'hi', colour: 'red' })), { code: 'EPC_ERR_PLUGIN_OPTIONS_INVALID', message: /options\.colour: unknown key/ });
  const loaded = await load(ref({ greeting: 'hi' }));
  t.same(loaded.plugins[0]?.options, { greeting: 'hi', retries: 3 }, 'schema defaults are filled before init');
  const fixture = await import('./fixtures/with-options.js');
  t.same(fixture.seen.at(-1), { greeting: 'hi', retries: 3 }, 'init() receives the validated options');
});

t.test('two plugins claiming the same path + subprotocol are refused with EPC_ERR_PLUGIN_DUPLICATE_BINDING before any init', async (t) => {
  const inits: string[] = [];
  const a = plugin('a', { bindings: [{ path: '/sip', subprotocols: ['sip'] }], init: () => { inits.push('a'); return echoInstance(); } });
  const b = plugin('b', { bindings: [{ path: '/sip', subprotocols: ['x', 'sip'] }], init: () => { inits.push('b'); return echoInstance(); } });
  await t.rejects(load([{ name: 'a' }, { name: 'b' }], [a, b]), {
    code: 'EPC_ERR_PLUGIN_DUPLICATE_BINDING',
    message: 'plugins "a" and "b" both claim path /sip with subprotocol "sip"',
  });
  t.same(inits, [], 'no plugin code ran');
  const c = plugin('c', { bindings: [{ path: '/sip', subprotocols: ['xmpp'] }] });
  const ok = await load([{ name: 'a' }, { name: 'c' }], [a, c]);
  t.equal(ok.routes.length, 2, 'same path, different subprotocol is fine');
  const moved = await load([{ name: 'a' }, { name: 'b', path: '/other' }], [a, b]);
  t.same(moved.routes.map((r) => r.path), ['/sip', '/other'], 'a config path override resolves the clash');
});

t.test('avvio rule: init() that does not settle in time fails boot with EPC_ERR_PLUGIN_INIT_TIMEOUT and closes the plugins already up', async (t) => {
  const events: string[] = [];
  const first = plugin('first', { init: () => echoInstance(() => { events.push('close first'); }) });
  const slow = plugin('slow', { init: () => new Promise<W2PluginInstance>(() => {}) });
  await t.rejects(load([{ name: 'first' }, { name: 'slow' }], [first, slow], { initTimeoutMs: 50 }), {
    code: 'EPC_ERR_PLUGIN_INIT_TIMEOUT',
    message: 'plugin "slow": init() did not settle within 50 ms',
  });
  t.same(events, ['close first'], 'only plugins whose init completed are closed');
});

t.test('init() that rejects fails boot with EPC_ERR_PLUGIN_LOAD carrying the cause', async (t) => {
  const broken = plugin('broken', { init: async () => { throw new Error('no database'); } });
  const error = await load([{ name: 'broken' }], [broken]).catch((e: unknown) => e);
  t.match(error, { code: 'EPC_ERR_PLUGIN_LOAD', message: 'plugin "broken": init() failed: no database' });
  t.match((error as Error).cause, { message: 'no database' });
});

t.test('avvio rule: closeAll() runs close() in reverse load order, once, and survives a failing close()', async (t) => {
  const events: string[] = [];
  const names = ['one', 'two', 'three'];
  const plugins = names.map((n) => plugin(n, {
    init: () => {
      events.push(`init ${n}`);
      return echoInstance(() => { events.push(`close ${n}`); if (n === 'two') throw new Error('close failed'); });
    },
  }));
  const loaded = await load(names.map((name) => ({ name })), plugins);
  await loaded.closeAll();
  await loaded.closeAll();
  t.same(events, ['init one', 'init two', 'init three', 'close three', 'close two', 'close one']);
});

t.test('plugins load by built-in name, by file path relative to the base directory, and by npm package name', async (t) => {
  const loaded = await load([{ name: 'mem' }, { name: './examples/plugin-echo/index.js' }], [plugin('mem')], { baseDir: repoRoot });
  t.same(loaded.plugins.map((p) => [p.name, p.origin]), [['mem', 'builtin'], ['echo', 'file']]);
  t.same(loaded.routes[1]?.subprotocols, ['echo']);
  // An installed package that is not a W2 plugin: imported, then refused by the contract check.
  await t.rejects(load([{ name: 'yaml' }]), { code: 'EPC_ERR_PLUGIN_CONTRACT_MISMATCH', message: /^plugin "yaml"/ });
  await t.rejects(load([{ name: 'epcscf-no-such-plugin-package' }]), { code: 'EPC_ERR_PLUGIN_LOAD', message: /cannot import package epcscf-no-such-plugin-package/ });
  await t.rejects(load([{ name: './fixtures/does-not-exist.js' }]), { code: 'EPC_ERR_PLUGIN_LOAD', message: /cannot import file file:\/\// });
  await t.rejects(load([{ name: './fixtures/no-default-export.js' }]), { code: 'EPC_ERR_PLUGIN_LOAD', message: /has no default export/ });
});

t.test('one plugin name loads once; the config decides the Origin list of its bindings', async (t) => {
  await t.rejects(load([{ name: 'dup' }, { name: 'dup' }], [plugin('dup')]), { code: 'EPC_ERR_PLUGIN_LOAD', message: /already loaded/ });
  const declared = plugin('declared', { bindings: [{ path: '/d', subprotocols: ['d'], allowedOrigins: ['https://a.test'] }] });
  const plain = await load([{ name: 'declared' }], [declared]);
  t.same(plain.routes[0]?.allowedOrigins, ['https://a.test'], 'the binding declaration applies');
  const overridden = await load([{ name: 'declared', allowedOrigins: [] }], [declared]);
  t.same(overridden.routes[0]?.allowedOrigins, [], 'a config entry overrides it');
});

t.test('style-anchors §10.7: the ten-line echo plugin is legal and defineW2Plugin freezes it', async (t) => {
  const echo = defineW2Plugin({
    meta: { name: 'echo', version: '0.1.0', contract: W2_CONTRACT_VERSION },
    bindings: [{ path: '/echo', subprotocols: ['echo'] }],
    init: () => ({ openSession: (conn) => ({ onFrame: (f) => conn.send(f), onClose: () => {} }) }),
  });
  t.ok(Object.isFrozen(echo));
  const loaded = await load([{ name: 'echo' }], [echo]);
  t.equal(loaded.plugins[0]?.host.contract, W2_CONTRACT_VERSION);
});

t.test('issue 12 #1: a contract-1 plugin is refused at load with EPC_ERR_PLUGIN_CONTRACT_MISMATCH naming the version expected and found', async (t) => {
  await t.rejects(load([{ name: './fixtures/contract-1-plugin.js' }]), {
    code: 'EPC_ERR_PLUGIN_CONTRACT_MISMATCH',
    message: /^plugin "\.\/fixtures\/contract-1-plugin\.js": meta\.contract is 1, this epcscf implements W2 contract 2 \(contract 2: init\(host, options\) returns the instance \{ openSession\(conn\), close\(\) \}/,
  });
});

t.test('issue 12 #1: a plugin claiming contract 2 without init(), or still carrying openSession()/close() on the plugin object, is refused', async (t) => {
  const noInit = { ...plugin('noinit'), init: undefined } as unknown as W2Plugin;
  await t.rejects(load([{ name: 'noinit' }], [noInit]), { code: 'EPC_ERR_PLUGIN_MISSING_HOOK', message: /init\(host, options\) is missing/ });
  const halfMigrated = { ...plugin('half'), openSession: () => ({}) } as unknown as W2Plugin;
  await t.rejects(load([{ name: 'half' }], [halfMigrated]), { code: 'EPC_ERR_PLUGIN_LOAD', message: /openSession\(\) belongs to the instance init\(\) returns/ });
});

t.test('issue 12 #1: init() must return the per-load instance with openSession(); two loads get two instances', async (t) => {
  const bare = plugin('bare', { init: () => undefined as unknown as W2PluginInstance });
  await t.rejects(load([{ name: 'bare' }], [bare]), { code: 'EPC_ERR_PLUGIN_MISSING_HOOK', message: 'plugin "bare": init() returned no instance with openSession(conn)' });
  let loads = 0;
  const counting = plugin('counting', { init: () => { loads += 1; return echoInstance(); } });
  const one = await load([{ name: 'counting' }], [counting]);
  const two = await load([{ name: 'counting' }], [counting]);
  t.equal(loads, 2);
  t.not(one.plugins[0]?.instance, two.plugins[0]?.instance, 'per-load state lives in the instance, not in the plugin module');
});

t.test('issue 12 #1: host.sip acts only for the plugin\'s own open sessions (EPC_ERR_PLUGIN_NOT_SESSION_OWNER otherwise)', async (t) => {
  const reached: string[] = [];
  const loaded = await loadPlugins([{ name: 'a' }, { name: 'b' }], {
    builtins: new Map([['a', async () => plugin('a')], ['b', async () => plugin('b', { bindings: [{ path: '/b', subprotocols: ['b'] }] })]]),
    baseDir: here,
    log: pino({ level: 'silent' }),
    sip: { ...unattachedSipApi, fromClient: async (id) => { reached.push(id); } },
    observer: new EventEmitter<W2ObserverEvents>(),
    maxFrameBytes: 65536,
  });
  const [a, b] = loaded.plugins;
  if (a === undefined || b === undefined) throw new Error('both plugins load');
  a.sessions.add('conn-of-a');
  const message = { kind: 'request' } as unknown as Parameters<typeof a.host.sip.fromClient>[1];
  await a.host.sip.fromClient('conn-of-a', message);
  await t.rejects(b.host.sip.fromClient('conn-of-a', message), {
    code: 'EPC_ERR_PLUGIN_NOT_SESSION_OWNER',
    message: 'plugin "b": connection conn-of-a is not one of this plugin\'s open sessions',
  });
  await t.rejects(a.host.sip.fromClient('no-such-connection', message), { code: 'EPC_ERR_PLUGIN_NOT_SESSION_OWNER' });
  t.same(reached, ['conn-of-a'], 'only the owner reached the SIP core');
});
