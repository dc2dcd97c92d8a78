/**
 * The MMTel interop tests' callers: epcscf with all three plugins (media off: SDP crosses
 * unchanged) in front of `nextHop`, and one registered client per plugin — carol on sip-ws
 * (JsSIP), bob on jsonrpc-ws, alice on xmpp-ws (xmpp.js, answering every Jingle IQ).
 */
import type { Test } from 'tap';
import { startEpcscf, type EpcscfUnderTest, type StartEpcscfOptions } from './epcscf-harness.js';
import { RpcWsClient } from './jsonrpc-client.js';
import { JsSipUser } from './wic/jssip-user.js';
import { XmppJsUser } from './xmpp-clients.js';

const JINGLE = 'urn:xmpp:jingle:1';

export interface ThreeClients {
  readonly epcscf: EpcscfUnderTest;
  readonly carol: JsSipUser;
  readonly bob: RpcWsClient;
  readonly alice: XmppJsUser;
}

/** `more`: further epcscf options (e.g. `mmtel`), beside the three plugins. */
export async function epcscfWithThreeClients(t: Test, nextHop: string, more: Omit<StartEpcscfOptions, 'nextHop' | 'extraPlugins'> = {}): Promise<ThreeClients> {
  const epcscf = await startEpcscf({ ...more, nextHop, extraPlugins: [{ name: 'xmpp-ws' }, { name: 'jsonrpc-ws' }] });
  t.teardown(() => epcscf.close());
  const carol = await JsSipUser.connect({ wsUrl: epcscf.wsUrl, user: 'carol', password: 'secret' });
  t.teardown(() => carol.stop());
  if (await carol.register() !== 200) throw new Error('carol (JsSIP) did not register');
  const bob = await RpcWsClient.connect(`${epcscf.baseUrl}/jsonrpc`);
  t.teardown(() => bob.close());
  const registered = await bob.request('session.register', { impu: 'sip:bob@ims.test', password: 'secret' });
  if (registered['state'] !== 'registered') throw new Error(`bob did not register: ${JSON.stringify(registered)}`);
  const alice = await XmppJsUser.login({ service: `${epcscf.baseUrl}/xmpp`, domain: 'ims.test', username: 'alice', password: 'alicepw' });
  t.teardown(() => alice.stop());
  alice.xmpp.iqCallee.set(JINGLE, 'jingle', () => true);
  return { epcscf, carol, bob, alice };
}
