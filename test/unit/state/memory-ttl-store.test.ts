// core/state: the memory TtlStore behind host.state (issue #15): a TTL per key, lazy expiry, a
// bounded sweep on writes, single-use take, and namespaces that never share a key.
import t from 'tap';
import { MemoryTtlStore, memoryTtlNamespaces } from '../../../core/state/memory-ttl-store.js';
import { FakeClock } from '../../support/fake-clock.js';

t.test('a key lives exactly its own TTL (lazy expiry on read)', async (t) => {
  const clock = new FakeClock(1000);
  const store = new MemoryTtlStore(clock);
  await store.set('short', 'a', 100);
  await store.set('long', 'b', 1000);
  clock.advance(99);
  t.equal(await store.get('short'), 'a');
  clock.advance(1);
  t.equal(await store.get('short'), undefined, 'gone at its TTL');
  t.equal(await store.get('long'), 'b', 'another key keeps its own TTL');
  clock.advance(900);
  t.equal(await store.take('long'), undefined, 'an expired key cannot be taken');
  t.equal(store.size, 0);
});

t.test('set replaces the value and restarts the TTL; a TTL of 0 stores nothing', async (t) => {
  const clock = new FakeClock();
  const store = new MemoryTtlStore(clock);
  await store.set('k', 'v1', 100);
  clock.advance(80);
  await store.set('k', 'v2', 100);
  clock.advance(80);
  t.equal(await store.get('k'), 'v2');
  await store.set('k', 'v3', 0);
  t.equal(await store.get('k'), undefined);
});

t.test('take is single use: of two concurrent takes exactly one gets the value', async (t) => {
  const store = new MemoryTtlStore(new FakeClock());
  await store.set('token', 'secret', 60_000);
  const outcomes = await Promise.all([store.take('token'), store.take('token')]);
  t.same(outcomes.filter((v) => v !== undefined), ['secret']);
  t.equal(await store.get('token'), undefined);
});

t.test('delete removes a key', async (t) => {
  const store = new MemoryTtlStore(new FakeClock());
  await store.set('k', 'v', 1000);
  await store.delete('k');
  t.equal(await store.get('k'), undefined);
  await store.delete('never-set');
});

t.test('the bounded sweep drops expired entries that nobody reads again, a few per write', async (t) => {
  const clock = new FakeClock();
  const store = new MemoryTtlStore(clock);
  for (let i = 0; i < 100; i += 1) await store.set(`old${i}`, 'x', 10);
  t.equal(store.heldEntries, 100);
  clock.advance(10);
  // Writes of fresh keys sweep the expired ones without any read of them.
  for (let i = 0; i < 60; i += 1) await store.set(`new${i}`, 'y', 60_000);
  t.equal(store.size, 60, 'only the fresh keys are live');
  t.equal(store.heldEntries, 60, 'every expired entry was swept');
});

t.test('namespaces: the same name is the same store, two names never share a key', async (t) => {
  const namespace = memoryTtlNamespaces(new FakeClock());
  await namespace('jsonrpc-ws').set('k', 'mine', 1000);
  t.equal(await namespace('jsonrpc-ws').get('k'), 'mine');
  t.equal(await namespace('xmpp-ws').get('k'), undefined, 'another namespace does not see it');
  t.equal(namespace('xmpp-ws'), namespace('xmpp-ws'));
});
