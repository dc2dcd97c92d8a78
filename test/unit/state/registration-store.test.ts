// core/state: the in-memory registration store (R-REG-17), indexed by flow and contact, with expiry.
import t from 'tap';
import { MemoryRegistrationStore, type RegistrationBinding } from '../../../core/state/registration-store.js';

function binding(flowKey: string, user: string, expiresAt: number): RegistrationBinding {
  const contactUri = `sip:${user}@x.invalid;transport=ws`;
  return {
    id: `${flowKey} sip:${user}@ims.test ${contactUri}`, aor: `sip:${user}@ims.test`, flowKey, contact: `<${contactUri}>`, contactUri,
    outbound: true, serviceRoute: ['<sip:orig@scscf;lr>'], associatedUris: [`sip:${user}@ims.test`], expiresAt, registeredBy: 'client',
  };
}

t.test('R-REG-17: bindings are found by flow and by contact; expired ones disappear', async (t) => {
  let now = 1000;
  const store = new MemoryRegistrationStore({ now: () => now });
  await store.put(binding('n/1', 'alice', 5000));
  await store.put(binding('n/1', 'alice2', 2000));
  await store.put(binding('n/2', 'bob', 5000));
  t.equal((await store.byFlow('n/1')).length, 2);
  t.equal((await store.byContactUri('sip:bob@x.invalid;transport=ws'))[0]?.flowKey, 'n/2');
  now = 3000;
  t.same((await store.byFlow('n/1')).map((b) => b.aor), ['sip:alice@ims.test'], 'the expired binding is gone');
  t.equal((await store.all()).length, 2);
  await store.put({ ...binding('n/1', 'alice', 9000) });
  t.equal((await store.byFlow('n/1')).length, 1, 'a refresh replaces, never duplicates');
  const gone = await store.removeFlow('n/1');
  t.equal(gone.length, 1);
  t.same(await store.byFlow('n/1'), []);
  t.same(await store.byContactUri('sip:alice@x.invalid;transport=ws'), [], 'the contact index follows');
  await store.remove(binding('n/2', 'bob', 0).id);
  t.same(await store.all(), []);
});
