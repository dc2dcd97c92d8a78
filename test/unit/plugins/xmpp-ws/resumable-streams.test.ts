// plugins/xmpp-ws XEP-0198 resumable streams in host.state (issue #15): a detached stream's
// record is sealed under its id and stored under SHA-256(id); two registries ("nodes") sharing
// one store resume it on either node, once; the counters and the unacknowledged stanzas travel.
import { createHash } from 'node:crypto';
import t from 'tap';
import { stateKeyOf } from '../../../../core/contract/index.js';
import { MemoryTtlStore } from '../../../../core/state/memory-ttl-store.js';
import { ResumableStreams, verifierOf, type ResumableStream, type StreamRecord } from '../../../../plugins/xmpp-ws/sm/resumable-streams.js';
import { StreamManagement } from '../../../../plugins/xmpp-ws/sm/stream-management.js';
import { FakeClock } from '../../../support/fake-clock.js';

const digestOf = (secret: string): Buffer => createHash('sha256').update(secret).digest();
const ALICE_SECRET = digestOf('PLAIN\u0000alicepw');

class Stream implements ResumableStream {
  constructor(readonly bareJid: string, readonly secret: Buffer = ALICE_SECRET) {}
  matchesSecret(digest: Buffer): boolean {
    return digest.equals(this.secret);
  }
}

class RecordingStore extends MemoryTtlStore {
  readonly writes: string[] = [];
  override set(key: string, value: string, ttlMs: number): Promise<void> {
    this.writes.push(key, value);
    return super.set(key, value, ttlMs);
  }
}

function recordOf(stream: Stream, sm: StreamManagement): StreamRecord {
  return {
    bareJid: stream.bareJid, fullJid: `${stream.bareJid}/web`, ...verifierOf(stream.secret), detached: true,
    instanceId: 'urn:uuid:00000000-0000-4000-8000-000000000001', supportsJingleMessage: true, sm: sm.snapshot(64 * 1024),
  };
}

function twoNodes(): { a: ResumableStreams<Stream>; b: ResumableStreams<Stream>; store: RecordingStore; clock: FakeClock } {
  const clock = new FakeClock(1_000);
  const store = new RecordingStore(clock);
  return { a: new ResumableStreams<Stream>(store), b: new ResumableStreams<Stream>(store), store, clock };
}

t.test('issue #15: a stream detached on node A is resumed on node B from its record (JID, counters, unacknowledged stanzas), once', async (t) => {
  const { a, b } = twoNodes();
  const alice = new Stream('alice@ims.test');
  const id = a.issue(alice);
  const sm = new StreamManagement(10);
  sm.received();
  sm.sent('<message>one</message>');
  sm.sent('<message>two</message>');
  await a.detach(id, recordOf(alice, sm), 120_000);
  const taken = await b.take(id, 'alice@ims.test', ALICE_SECRET);
  if (taken?.kind !== 'remote') throw new Error(`expected the record, got ${JSON.stringify(taken)}`);
  t.equal(taken.record.fullJid, 'alice@ims.test/web', 'the resource is kept');
  t.equal(taken.record.sm.inbound, 1);
  t.same(taken.record.sm.unacked.map((u) => u.text), ['<message>one</message>', '<message>two</message>']);
  const resumed = new StreamManagement(10, taken.record.sm);
  t.ok(resumed.acknowledge(1), 'the client had one of the two');
  t.same(resumed.pending(), ['<message>two</message>'], 'XEP-0198 §5: the rest is sent again on node B');
  t.equal(await a.take(id, 'alice@ims.test', ALICE_SECRET), undefined, 'single use: node A\'s live stream is not resumed again');
  t.equal(await b.take(id, 'alice@ims.test', ALICE_SECRET), undefined);
});

t.test('a stream detached here resumes its live object here; the grace bounds it', async (t) => {
  const { a, clock } = twoNodes();
  const alice = new Stream('alice@ims.test');
  const id = a.issue(alice);
  await a.detach(id, recordOf(alice, new StreamManagement(10)), 1000);
  const taken = await a.take(id, 'alice@ims.test', ALICE_SECRET);
  t.equal(taken?.kind === 'local' ? taken.stream : undefined, alice);
  await a.detach(id, recordOf(alice, new StreamManagement(10)), 1000);
  clock.advance(1000);
  t.equal(await a.take(id, 'alice@ims.test', ALICE_SECRET), undefined, 'after the grace the id is unknown');
});

t.test('XEP-0198 §5: another user, another credential or an unknown id resumes nothing and leaves the record for the owner', async (t) => {
  const { a, b } = twoNodes();
  const alice = new Stream('alice@ims.test');
  const id = a.issue(alice);
  await a.detach(id, recordOf(alice, new StreamManagement(10)), 120_000);
  t.equal(await b.take(id, 'mallory@ims.test', ALICE_SECRET), undefined, 'another bare JID');
  t.equal(await b.take(id, 'alice@ims.test', digestOf('PLAIN\u0000guess')), undefined, 'another password');
  t.equal(await b.take(`${id}x`, 'alice@ims.test', ALICE_SECRET), undefined, 'another id');
  t.equal((await b.take(id, 'alice@ims.test', ALICE_SECRET))?.kind, 'remote', 'the owner still resumes');
});

t.test('issue #15: host.state holds neither the id, nor the credential digest, nor the stanzas in clear', async (t) => {
  const { a, store } = twoNodes();
  const alice = new Stream('alice@ims.test');
  const id = a.issue(alice);
  const sm = new StreamManagement(10);
  sm.sent('<message><body>top secret chat</body></message>');
  await a.detach(id, recordOf(alice, sm), 120_000);
  const written = store.writes.join('\n');
  t.equal(store.writes[0], stateKeyOf(id), 'stored under SHA-256(id)');
  t.notOk(written.includes(id), 'no stream id');
  t.notOk(written.includes('alicepw'));
  t.notOk(written.includes(ALICE_SECRET.toString('base64')), 'no credential digest (it would be a fast hash of the password)');
  t.notOk(written.includes('top secret chat'), 'no stanza text');
  t.notOk(written.includes('alice@ims.test'), 'not even the JID');
});

t.test('issue #15: a node ending its old detached stream does not drop the record another node wrote since', async (t) => {
  const { a, b, store } = twoNodes();
  const alice = new Stream('alice@ims.test');
  const id = a.issue(alice);
  await a.detach(id, recordOf(alice, new StreamManagement(10)), 120_000);
  t.equal((await b.take(id, 'alice@ims.test', ALICE_SECRET))?.kind, 'remote');
  // Resumed on B, the stream drops again there: B writes the record of the same id.
  const onB = new Stream('alice@ims.test');
  b.issue(onB, id);
  await b.detach(id, recordOf(onB, new StreamManagement(10)), 120_000);
  await a.revoke(id); // A's grace ran out for its stale live stream
  t.ok(await store.get(stateKeyOf(id)), 'B\'s record is still there');
  const taken = await b.take(id, 'alice@ims.test', ALICE_SECRET);
  t.equal(taken?.kind === 'local' ? taken.stream : undefined, onB, 'and B resumes its live stream');
});

t.test('stanzas left out of a record for size are counted lost, and the counters agree with the client afterwards', async (t) => {
  const sm = new StreamManagement(10);
  for (const text of ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40)]) sm.sent(text);
  const snapshot = sm.snapshot(90);
  t.equal(snapshot.unacked.length, 2, 'the newest stanzas that fit');
  t.equal(snapshot.missing, 1);
  const resumed = new StreamManagement(10, snapshot);
  t.ok(resumed.acknowledge(0), 'the client got none');
  t.equal(resumed.lost, 1);
  t.same(resumed.pending(), ['b'.repeat(40), 'c'.repeat(40)]);
  t.ok(resumed.acknowledge(2), 'the client handled the two resent: its h is 2 and ours agrees');
  t.equal(resumed.unacknowledged, 0);
  t.notOk(resumed.acknowledge(3), 'an h beyond what was sent is still refused');
});
