// Issue #15: host.state is the plugin's own namespace of the TTL store: the plugin host asks the
// configured source for the plugin's name (so two plugins never share a key, and the same plugin
// on two nodes sharing the source does); without a source each host has a memory store of its own.
import { EventEmitter } from 'node:events';
import t from 'tap';
import { pino } from 'pino';
import type { W2ObserverEvents } from '../../../core/contract/host.js';
import { createPluginHost } from '../../../core/plugin/plugin-host.js';
import { unattachedSipApi } from '../../../core/plugin/unattached-sip-api.js';
import { memoryTtlNamespaces } from '../../../core/state/memory-ttl-store.js';
import type { TtlStore } from '../../../core/state/state-backend.js';

function hostOf(name: string, stateNamespace?: (name: string) => TtlStore) {
  return createPluginHost({
    name, log: pino({ level: 'silent' }), sip: unattachedSipApi, observer: new EventEmitter<W2ObserverEvents>(), sessions: new Set(),
    ...(stateNamespace !== undefined ? { stateNamespace } : {}),
  });
}

t.test('issue #15: host.state is namespaced by plugin name; the same plugin on two nodes sharing the source sees the same keys', async (t) => {
  const asked: string[] = [];
  const shared = memoryTtlNamespaces();
  const source = (name: string): TtlStore => { asked.push(name); return shared(name); };
  const jsonrpcOnA = hostOf('jsonrpc-ws', source);
  const xmpp = hostOf('xmpp-ws', source);
  const jsonrpcOnB = hostOf('jsonrpc-ws', source);
  t.same(asked, ['jsonrpc-ws', 'xmpp-ws', 'jsonrpc-ws'], 'the namespace is the plugin name');
  await jsonrpcOnA.state.set('k', 'v', 60_000);
  t.equal(await xmpp.state.get('k'), undefined, 'another plugin never sees the key');
  t.equal(await jsonrpcOnB.state.take('k'), 'v', 'the same plugin on another node takes it');
});

t.test('without a source every plugin host has a memory store of its own', async (t) => {
  const one = hostOf('p');
  const two = hostOf('p');
  await one.state.set('k', 'v', 60_000);
  t.equal(await one.state.get('k'), 'v');
  t.equal(await two.state.get('k'), undefined, 'two servers in one process do not share state unless told to');
});
