// Issue #15 "Faults": in a cluster each media leg the IMS-ALG opens is recorded with its owning
// node in the MediaLegDirectory (core/pcscf/cluster/recorded-media-control.ts) and dropped when
// the ALG deletes it, so a survivor knows what a dead node left on a shared gateway.
import t from 'tap';
import { pino } from 'pino';
import { InProcessMediaControl } from '../../../core/pcscf/alg/media-control.js';
import { recordedMediaControl } from '../../../core/pcscf/cluster/recorded-media-control.js';
import { MemoryStateBackend } from '../../../core/state/memory-state-backend.js';
import { FakeGateway } from '../ng/fake-gateway.js';

t.test('an offer records the leg once (re-offers do not rewrite it); a delete removes it; commands reach the gateway unchanged', async (t) => {
  const gateway = new FakeGateway();
  const state = new MemoryStateBackend();
  const control = recordedMediaControl(new InProcessMediaControl(gateway), state.mediaLegs, { nodeId: 'node-a', gateway: 'ng:10.0.0.5:2223', log: pino({ level: 'silent' }), now: () => 42 });
  await control.offer({ callId: 'c1', fromTag: 'f', sdp: 'v=0\r\n' });
  await control.offer({ callId: 'c1', fromTag: 'f', sdp: 'v=0\r\n' });
  t.same(await state.mediaLegs.byNode('node-a'), [{ ngCallId: 'c1', nodeId: 'node-a', gateway: 'ng:10.0.0.5:2223', createdAt: 42 }]);
  t.same((await state.mediaLegs.byGateway('ng:10.0.0.5:2223')).map((l) => l.ngCallId), ['c1']);
  await control.delete({ callId: 'c1' });
  t.same(await state.mediaLegs.byNode('node-a'), [], 'the ALG freed it: nothing left for a survivor');
  t.same(gateway.calls.map((c) => c.command), ['offer', 'offer', 'delete'], 'the gateway saw every command');
});
