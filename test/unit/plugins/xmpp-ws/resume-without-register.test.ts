// plugins/xmpp-ws, issue #15: an XEP-0198 stream whose node died (no detach ever ran) resumes on
// another node sharing host.state, and is registered again without a REGISTER on Mw: its record
// is written at <enable/> and on every registration change, with the UE's registration snapshot;
// node B accepts the SASL login without a REGISTER when a record of that user exists, checks the
// credential at <resume/> against the record's salted verifier, and adopts the snapshot once the
// core (a fake host.sip.adoptRegisteredFlow here) points the flow at the new connection.
import t from 'tap';
import { pino } from 'pino';
import { MemoryTtlStore } from '../../../../core/state/memory-ttl-store.js';
import { DEFAULT_XMPP_WS_OPTIONS, ResumableStreams, XmppWsSession, type SessionFlows } from '../../../../plugins/xmpp-ws/index.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { fakeUeFactory, type FakeUeScript, type FakeVirtualUe } from '../../../support/fake-ua.js';

const OPEN = '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="ims.test" version="1.0"/>';
const SM = 'urn:xmpp:sm:3';
const PLAIN = (user: string, password: string): string => `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">${Buffer.from(`\u0000${user}\u0000${password}`).toString('base64')}</auth>`;
const BIND = '<iq xmlns="jabber:client" type="set" id="b1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>web</resource></bind></iq>';

/** A MemoryTtlStore that remembers every value written to it. */
class RecordingStore extends MemoryTtlStore {
  readonly writes: string[] = [];
  override set(key: string, value: string, ttlMs: number): Promise<void> {
    this.writes.push(key, value);
    return super.set(key, value, ttlMs);
  }
}

/** One epcscf node as the plugin sees it: its registry of streams over the shared store, its core's flow calls. */
interface Node {
  readonly streams: ResumableStreams<XmppWsSession>;
  /** host.sip.adoptRegisteredFlow calls: [connectionId, contactUri]; absent when the core does not offer it. */
  readonly adopted: [string, string][];
  readonly canAdopt: boolean | 'refuse';
  readonly graceSeconds: number;
}

interface Client {
  readonly session: XmppWsSession;
  readonly frames: string[];
  readonly made: FakeVirtualUe[];
  closed: boolean;
}

let nextConnection = 1;

function node(store: MemoryTtlStore, canAdopt: boolean | 'refuse' = true, graceSeconds = 120): Node {
  return { streams: new ResumableStreams<XmppWsSession>(store), adopted: [], canAdopt, graceSeconds };
}

function connect(on: Node, script: FakeUeScript = {}): Client {
  const id = `c${nextConnection++}`;
  const factory = fakeUeFactory(script);
  const client: Client = { frames: [], made: factory.made, closed: false } as unknown as Client;
  const flows: SessionFlows = {
    keep: () => undefined,
    adopt: () => Promise.resolve(),
    release: () => Promise.resolve(),
    ...(on.canAdopt === false ? {} : {
      adoptRegistered: (contactUri: string): Promise<void> => {
        on.adopted.push([id, contactUri]);
        return on.canAdopt === 'refuse' ? Promise.reject(new Error('no live binding has that contact')) : Promise.resolve();
      },
    }),
  };
  (client as { session: XmppWsSession }).session = new XmppWsSession({
    id, remote: { address: '127.0.0.1', port: 1 },
    send: async (frame) => { client.frames.push(frame); },
    close: () => { client.closed = true; },
  }, {
    createUe: (identity, adopt) => factory.create({ identity, ...(adopt !== undefined ? { adopt } : {}), secure: false, transport: { send: async () => undefined } }),
    log: pino({ level: 'silent' }),
    options: { ...DEFAULT_XMPP_WS_OPTIONS, domain: 'ims.test', resumeGraceSeconds: on.graceSeconds },
    now: Date.now,
    reportFlood: () => undefined,
    flows,
    streams: on.streams,
  });
  return client;
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));

async function frame(client: Client, text: string): Promise<void> {
  await client.session.onFrame(text);
  await settle();
}

/** Logged in, bound, resumption enabled on node `on`: the SM id. */
async function resumableOn(on: Node, password = 'alicepw'): Promise<{ client: Client; id: string }> {
  const client = connect(on);
  await frame(client, OPEN);
  await frame(client, PLAIN('alice', password));
  await frame(client, OPEN);
  await frame(client, BIND);
  await frame(client, `<enable xmlns="${SM}" resume="true"/>`);
  const id = /<enabled [^>]*id="([^"]+)"/.exec(client.frames.join(''))?.[1];
  if (id === undefined) throw new Error(`no <enabled id/>: ${client.frames.join('')}`);
  return { client, id };
}

/** On node `on`: SASL PLAIN and the restart; the frames so far are cleared. */
async function authenticated(on: Node, password = 'alicepw', script: FakeUeScript = {}): Promise<Client> {
  const client = connect(on, script);
  await frame(client, OPEN);
  await frame(client, PLAIN('alice', password));
  await frame(client, OPEN);
  return client;
}

const registers = (client: Client): number => client.made.reduce((n, ue) => n + ue.actions.filter((a) => a.method === 'register').length, 0);

t.test('issue #15: node A dies without a detach; on node B the client logs in and resumes with no REGISTER, and the UE carries A\'s registration on', async (t) => {
  const store = new RecordingStore(new FakeClock(Date.now()));
  const a = node(store);
  const b = node(store);
  const { client: onA, id } = await resumableOn(a);
  const snapshotOnA = onA.made[0]?.registrationSnapshot();
  t.equal(registers(onA), 1, 'node A registered once');
  // Node A is killed: no onClose, no detach. Its last record is the live one.
  const onB = await authenticated(b);
  t.match(onB.frames.join(''), /<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"\/>/, 'SASL succeeds on node B');
  t.equal(onB.made.length, 0, 'no UE and no REGISTER at SASL');
  await frame(onB, `<resume xmlns="${SM}" previd="${id}" h="0"/>`);
  t.match(onB.frames.join(''), new RegExp(`<resumed xmlns="${SM}" previd="${id}" h="0"/>`), 'XEP-0198 §5: resumed');
  t.equal(registers(onB), 0, 'no REGISTER on Mw from node B');
  t.same(b.adopted.map(([, contact]) => contact), [`sip:${snapshotOnA?.contactUser}@${snapshotOnA?.contactHost}`], 'node B\'s core took over the flow of that contact');
  t.equal(onB.made[0]?.options.adopt?.callId, snapshotOnA?.callId, 'the UE adopted A\'s registration (same Call-ID)');
  t.equal(onB.made[0]?.options.identity.password, 'alicepw', 'the password comes from this login, never from the store');
  t.equal(onB.session.describe()['jid'], 'alice@ims.test/web', 'the full JID is kept');
  // The resumed stream works: a MESSAGE from the IMS reaches the client.
  onB.made[0]?.emit('message', { from: { uri: 'sip:bob@ims.test' }, contentType: 'text/plain', body: 'found you on B' });
  t.match(onB.frames.at(-1), /<message [^>]*to="alice@ims\.test\/web"[\s\S]*found you on B/);
  const written = store.writes.join('\n');
  t.notOk(written.includes('alicepw'), 'host.state never had the password');
  t.notOk(written.includes(id), 'nor the stream id');
});

t.test('issue #15: every refresh on node A moves the stored registration, so node B carries on from the latest CSeq', async (t) => {
  const store = new MemoryTtlStore(new FakeClock(Date.now()));
  const a = node(store);
  const b = node(store);
  const { client: onA, id } = await resumableOn(a);
  await onA.made[0]?.register(); // R-REG-23: a refresh
  await settle();
  const onB = await authenticated(b);
  await frame(onB, `<resume xmlns="${SM}" previd="${id}" h="0"/>`);
  t.equal(onB.made[0]?.options.adopt?.cseq, 2, 'the refreshed registration, not the first one');
});

t.test('issue #15: a wrong password gets no resumption from the record (item-not-found) and its <bind/> registers, which the IMS refuses', async (t) => {
  const store = new MemoryTtlStore(new FakeClock(Date.now()));
  const a = node(store);
  const b = node(store);
  const { id } = await resumableOn(a);
  const mallory = await authenticated(b, 'guess', { registerOutcome: { state: 'failed', status: 403, reason: 'Forbidden' } });
  await frame(mallory, `<resume xmlns="${SM}" previd="${id}" h="0"/>`);
  t.match(mallory.frames.join(''), /<failed xmlns="urn:xmpp:sm:3"><item-not-found /, 'the salted verifier does not match');
  t.same(b.adopted, [], 'no flow taken over');
  await frame(mallory, BIND);
  t.equal(registers(mallory), 1, 'binding registers with the presented password');
  t.match(mallory.frames.join(''), /<not-authorized xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/, 'refused: the stream ends');
  t.ok(mallory.closed);
  const alice = await authenticated(b);
  await frame(alice, `<resume xmlns="${SM}" previd="${id}" h="0"/>`);
  t.match(alice.frames.join(''), /<resumed /, 'the record is still there for its owner');
});

t.test('issue #15: where the core cannot re-point flows, SASL on node B registers as before (no login without REGISTER)', async (t) => {
  const store = new MemoryTtlStore(new FakeClock(Date.now()));
  const a = node(store);
  const b = node(store, false);
  const { client: onA, id } = await resumableOn(a);
  const onB = await authenticated(b);
  t.equal(registers(onB), 1, 'a REGISTER at SASL');
  await frame(onB, `<resume xmlns="${SM}" previd="${id}" h="0"/>`);
  t.match(onB.frames.join(''), /<failed xmlns="urn:xmpp:sm:3"><item-not-found /, 'a live record: nothing proves node A gone, so no second copy of the stream');
  await onA.session.onClose(); // node A sees the drop: its record is a detached one now
  const again = await authenticated(b);
  await frame(again, `<resume xmlns="${SM}" previd="${id}" h="0"/>`);
  t.match(again.frames.join(''), /<resumed /, 'resumed over node B\'s own registration');
  t.equal(again.made[0]?.options.adopt, undefined);
});

t.test('issue #15: when the core refuses the flow (its node is alive, or the binding is gone), a live record resumes nothing and the client registers at <bind/>', async (t) => {
  const store = new MemoryTtlStore(new FakeClock(Date.now()));
  const a = node(store);
  const b = node(store, 'refuse');
  const { id } = await resumableOn(a);
  const onB = await authenticated(b);
  await frame(onB, `<resume xmlns="${SM}" previd="${id}" h="0"/>`);
  t.equal(b.adopted.length, 1, 'adoption was tried');
  t.match(onB.frames.join(''), /<failed xmlns="urn:xmpp:sm:3"><item-not-found /);
  t.equal(registers(onB), 0);
  await frame(onB, BIND);
  t.equal(registers(onB), 1, 'the fallback: a REGISTER');
  t.match(onB.frames.join(''), /<jid>alice@ims\.test\/web<\/jid>/, 'bound');
  const later = await authenticated(b);
  await frame(later, `<resume xmlns="${SM}" previd="${id}" h="0"/>`);
  t.equal(b.adopted.length, 2, 'the record was put back for its owner');
});

t.test('issue #15: when the core refuses the flow of a detached record, node B registers at <resume/> instead', async (t) => {
  const store = new MemoryTtlStore(new FakeClock(Date.now()));
  const a = node(store);
  const b = node(store, 'refuse');
  const { client: onA, id } = await resumableOn(a);
  await onA.session.onClose();
  const onB = await authenticated(b);
  await frame(onB, `<resume xmlns="${SM}" previd="${id}" h="0"/>`);
  t.equal(b.adopted.length, 1, 'adoption was tried');
  t.equal(registers(onB), 1, 'then a REGISTER');
  t.match(onB.frames.join(''), /<resumed /);
});

t.test('issue #15: a live record\'s counters are stale after a crash: the client\'s h is taken at its word', async (t) => {
  const store = new MemoryTtlStore(new FakeClock(Date.now()));
  const a = node(store);
  const b = node(store);
  const { client: onA, id } = await resumableOn(a);
  await frame(onA, '<iq xmlns="jabber:client" type="get" id="p1"><ping xmlns="urn:xmpp:ping"/></iq>');
  await frame(onA, '<iq xmlns="jabber:client" type="get" id="p2"><ping xmlns="urn:xmpp:ping"/></iq>');
  const onB = await authenticated(b);
  await frame(onB, `<resume xmlns="${SM}" previd="${id}" h="2"/>`);
  t.match(onB.frames.join(''), new RegExp(`<resumed xmlns="${SM}" previd="${id}" h="0"/>`), 'no undefined-condition: our h is the record\'s, the client resends after it');
  t.notOk(onB.closed);
});

t.test('issue #15: node A, alive after all, lets its UE go without de-registering once node B resumed the stream', async (t) => {
  const store = new MemoryTtlStore(new FakeClock(Date.now()));
  const a = node(store, true, 1);
  const b = node(store);
  const { client: onA, id } = await resumableOn(a);
  const onB = await authenticated(b);
  await frame(onB, `<resume xmlns="${SM}" previd="${id}" h="0"/>`);
  t.match(onB.frames.join(''), /<resumed /);
  await onA.made[0]?.register(); // a refresh on A does not bring A's record back over B's
  await onA.session.onClose(); // A's half-open connection finally drops (A detaches)...
  await new Promise((resolve) => setTimeout(resolve, 1_300)); // ...and its 1 s grace ends the stream there
  t.equal(onA.made[0]?.actions.filter((a) => a.method === 'unregister').length ?? 0, 0, 'no REGISTER Expires: 0 from node A');
  const again = await authenticated(b);
  await frame(again, `<resume xmlns="${SM}" previd="${id}" h="0"/>`);
  t.match(again.frames.join(''), /<failed /, 'the id is B\'s live stream now');
});
