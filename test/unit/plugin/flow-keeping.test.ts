// Issue #12: host.sip.keepFlow / adoptFlow / releaseFlow act only for the plugin's own
// connections (the Janus rule of plugin-host.ts): a plugin keeps only a flow of an open session of
// its own, adopts only a flow it kept into one of its open sessions, and the UE bound to a kept
// connection id may still send through it.
import { EventEmitter } from 'node:events';
import t from 'tap';
import { pino } from 'pino';
import type { W2ObserverEvents, W2SipCore } from '../../../core/contract/host.js';
import { createPluginHost } from '../../../core/plugin/plugin-host.js';
import { unattachedSipApi } from '../../../core/plugin/unattached-sip-api.js';
import { parseMessage } from '../../../core/sip/index.js';

function rig() {
  const calls: string[] = [];
  const core: W2SipCore = {
    ...unattachedSipApi,
    fromClient: async (id) => { calls.push(`fromClient ${id}`); },
    keepFlow: (id, ms) => { calls.push(`keep ${id} ${ms}`); },
    adoptFlow: async (previous, id) => { calls.push(`adopt ${previous} ${id}`); },
    releaseFlow: async (id) => { calls.push(`release ${id}`); },
  };
  const sessions = new Set<string>(['c1', 'c2']);
  const host = createPluginHost({ name: 'p', log: pino({ level: 'silent' }), sip: core, observer: new EventEmitter<W2ObserverEvents>(), sessions });
  return { host, sessions, calls };
}

const OPTIONS = parseMessage(Buffer.from('OPTIONS sip:ims.test SIP/2.0\r\nVia: SIP/2.0/WSS x.invalid;branch=z9hG4bK1\r\nFrom: <sip:a@ims.test>;tag=1\r\nTo: <sip:ims.test>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n'));


t.test('issue 12: a kept connection id still sends after its session closed; adoption needs a kept flow and an open session of the plugin', async (t) => {
  const { host, sessions, calls } = rig();
  t.throws(() => host.sip.keepFlow('other', 1000), { code: 'EPC_ERR_PLUGIN_NOT_SESSION_OWNER' }, 'no keeping another plugin\'s connection');
  await t.rejects(host.sip.adoptFlow('c1', 'c2'), { code: 'EPC_ERR_PLUGIN_NOT_SESSION_OWNER' }, 'no adopting a flow that was not kept');
  host.sip.keepFlow('c1', 1000);
  sessions.delete('c1');
  await host.sip.fromClient('c1', OPTIONS);
  t.ok(calls.includes('fromClient c1'), 'the UE bound to the kept connection still reaches the core');
  await t.rejects(host.sip.adoptFlow('c1', 'other'), { code: 'EPC_ERR_PLUGIN_NOT_SESSION_OWNER' }, 'only into one of its own open sessions');
  await host.sip.adoptFlow('c1', 'c2');
  t.ok(calls.includes('adopt c1 c2'));
  await host.sip.releaseFlow('c1');
  t.ok(calls.includes('release c1'));
  await t.rejects(host.sip.fromClient('c1', OPTIONS), { code: 'EPC_ERR_PLUGIN_NOT_SESSION_OWNER' }, 'released: the old id is no longer the plugin\'s');
});

t.test('issue #15: host.sip.adoptRegisteredFlow is offered only when the core can re-point flows, and only for the plugin\'s own open sessions', async (t) => {
  const { host } = rig();
  t.equal(host.sip.adoptRegisteredFlow, undefined, 'a one-node core: absent, the plugin registers again');
  const adopted: string[] = [];
  const sessions = new Set<string>(['c1']);
  const clustered = createPluginHost({
    name: 'p', log: pino({ level: 'silent' }), observer: new EventEmitter<W2ObserverEvents>(), sessions,
    sip: { ...unattachedSipApi, adoptRegisteredFlow: async (id, contact) => { adopted.push(`${id} ${contact}`); } },
  });
  await clustered.sip.adoptRegisteredFlow?.('c1', 'sip:u1@h.invalid');
  t.same(adopted, ['c1 sip:u1@h.invalid']);
  await t.rejects(clustered.sip.adoptRegisteredFlow?.('other', 'sip:u1@h.invalid') ?? Promise.resolve(), { code: 'EPC_ERR_PLUGIN_NOT_SESSION_OWNER' });
  t.equal(adopted.length, 1, 'another plugin\'s or a closed connection takes nothing over');
});
