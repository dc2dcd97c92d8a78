// Issue #15 "Several nodes": media gateways as a pool behind ng — a new call goes to the least
// loaded up gateway, every later command of the call goes where its offer went, a gateway that
// stops answering is taken out with its calls handed over for release (R-AGW-4), and rejoins.
import t from 'tap';
import pino from 'pino';
import { Registry } from 'prom-client';
import { registerMediaPoolMetrics } from '../../../core/admin/media-pool-metrics.js';
import { InProcessMediaControl, type MediaControl } from '../../../core/pcscf/alg/media-control.js';
import { MediaPool, type MediaPoolHealth } from '../../../core/pcscf/alg/media-pool.js';
import { recordedMediaControl } from '../../../core/pcscf/cluster/recorded-media-control.js';
import { MemoryStateBackend } from '../../../core/state/memory-state-backend.js';
import { NgNoReplyError } from '../../../media-gw/ng/index.js';
import type { NgAnswerRequest, NgDeleteRequest, NgOfferRequest, NgQueryRequest } from '../../../media-gw/ng/control.js';
import { FakeGateway } from '../ng/fake-gateway.js';

const log = pino({ level: 'silent' });

/** A gateway behind ng: answers while `alive`, and gives no reply at all (NgNoReplyError) when not. */
class FakeNgGateway implements MediaControl {
  readonly gateway = new FakeGateway();
  readonly #inner = new InProcessMediaControl(this.gateway);
  alive = true;
  pings = 0;
  #check(command: string): void {
    if (!this.alive) throw new NgNoReplyError(`ng ${command}: no reply after 1 attempts`);
  }
  async ping(): Promise<void> { this.pings++; this.#check('ping'); }
  async offer(request: NgOfferRequest) { this.#check('offer'); return this.#inner.offer(request); }
  async answer(request: NgAnswerRequest) { this.#check('answer'); return this.#inner.answer(request); }
  async delete(request: NgDeleteRequest) { this.#check('delete'); return this.#inner.delete(request); }
  async query(request: NgQueryRequest) { this.#check('query'); return this.#inner.query(request); }
  async close(): Promise<void> {}
  commands(): string[] { return this.gateway.calls.map((c) => `${c.command} ${c.request.callId}`); }
}

const offer = (callId: string): NgOfferRequest => ({ callId, fromTag: 'wic', sdp: 'v=0\r\n' });
const NO_TIMER: MediaPoolHealth = { intervalMs: 0, downAfterFailures: 3, upAfterSuccesses: 2 };

function pool(weights: readonly number[], extra: Partial<ConstructorParameters<typeof MediaPool>[0]> = {}) {
  const gateways = weights.map(() => new FakeNgGateway());
  const down: { gateway: string; calls: readonly string[] }[] = [];
  const control = new MediaPool({
    members: gateways.map((control, i) => ({ name: `ng:127.0.0.1:${2220 + i}`, weight: weights[i] ?? 1, control })),
    health: NO_TIMER, log, onGatewayDown: (gateway, calls) => down.push({ gateway, calls }), ...extra,
  });
  return { control, gateways, down };
}

t.test('issue #15: new calls spread over equal gateways by load (fewest live calls), and by weight', async (t) => {
  const { control, gateways } = pool([1, 1]);
  for (const id of ['c1', 'c2', 'c3', 'c4']) await control.offer(offer(id));
  t.same(gateways.map((g) => g.gateway.calls.length), [2, 2], 'two calls each');
  t.same(control.gateways().map((g) => g.calls), [2, 2]);

  // The least loaded gateway takes the next call, whatever the turn.
  const onFirst = ['c1', 'c2', 'c3', 'c4'].filter((id) => control.gatewayOf(id) === 'ng:127.0.0.1:2220');
  for (const id of onFirst) await control.delete({ callId: id });
  await control.offer(offer('c5'));
  await control.offer(offer('c6'));
  t.equal(control.gatewayOf('c5'), 'ng:127.0.0.1:2220', 'the emptied gateway takes the next call');
  t.equal(control.gatewayOf('c6'), 'ng:127.0.0.1:2220', 'and the one after, until loads are even');

  const weighted = pool([2, 1]).control;
  for (let i = 0; i < 6; i++) await weighted.offer(offer(`w${i}`));
  t.same(weighted.gateways().map((g) => g.calls), [4, 2], 'weight 2 takes twice the calls of weight 1');
});

t.test('issue #15: a call is sticky: answer, re-offer, query and delete go to the gateway that took its offer', async (t) => {
  const { control, gateways } = pool([1, 1]);
  await control.offer(offer('a'));
  await control.offer(offer('b'));
  const home = control.gatewayOf('a');
  const [first, second] = gateways as [FakeNgGateway, FakeNgGateway];
  const owner = home === 'ng:127.0.0.1:2220' ? first : second;
  const other = owner === first ? second : first;
  await control.delete({ callId: 'b' }); // the other gateway is now the less loaded one
  await control.answer({ callId: 'a', fromTag: 'wic', toTag: 'ims', sdp: 'v=0\r\n' });
  await control.offer(offer('a')); // a re-offer (RFC 3264 §8)
  await control.query({ callId: 'a' });
  await control.delete({ callId: 'a' });
  t.same(owner.commands(), ['offer a', 'answer a', 'offer a', 'query a', 'delete a'], 'every command of call a on its gateway');
  t.same(other.commands(), ['offer b', 'delete b'], 'none on the other, though it is less loaded');
  t.equal(control.gatewayOf('a'), undefined, 'forgotten once deleted');
  await t.rejects(control.answer({ callId: 'a', fromTag: 'wic', toTag: 'ims', sdp: 'v=0\r\n' }), { code: 'EPC_ERR_MEDIA', message: /no gateway holds a/ });
});

t.test('issue #15: after downAfterFailures unanswered pings a gateway is out: its calls are handed over for release, new calls go elsewhere', async (t) => {
  const { control, gateways, down } = pool([1, 1]);
  const [first, second] = gateways as [FakeNgGateway, FakeNgGateway];
  for (const id of ['c1', 'c2', 'c3', 'c4']) await control.offer(offer(id));
  const onFirst = ['c1', 'c2', 'c3', 'c4'].filter((id) => control.gatewayOf(id) === 'ng:127.0.0.1:2220').sort();
  first.alive = false;
  await control.checkHealth();
  await control.checkHealth();
  t.same(down, [], 'two failures: still in the pool');
  t.equal(control.gateways()[0]?.up, true);
  await control.checkHealth();
  t.same(down.map((d) => [d.gateway, [...d.calls].sort()]), [['ng:127.0.0.1:2220', onFirst]], 'the third: out, with the calls it carried');
  t.equal(control.gateways()[0]?.up, false);

  // The ALG releases them (R-AGW-4): the delete goes nowhere (the gateway is gone, the others never had them).
  const before = second.commands().length;
  for (const id of onFirst) await control.delete({ callId: id });
  t.equal(second.commands().length, before, 'no delete sent to the other gateway');
  for (let i = 0; i < 3; i++) await control.offer(offer(`n${i}`));
  t.same(['n0', 'n1', 'n2'].map((id) => control.gatewayOf(id)), Array(3).fill('ng:127.0.0.1:2221'), 'new calls go to the gateway left');
  await control.ping();

  second.alive = false;
  for (let i = 0; i < 3; i++) await control.checkHealth();
  await t.rejects(control.ping(), { code: 'EPC_ERR_MEDIA', message: /no media gateway up/ }, '/ready: none up');
  await t.rejects(control.offer(offer('x')), { code: 'EPC_ERR_MEDIA', message: /no media gateway up/ }, 'a new call fails (503 upstream)');
});

t.test('issue #15: a gateway rejoins after upAfterSuccesses answered pings; what it held is deleted on it then', async (t) => {
  const { control, gateways } = pool([1, 1]);
  const [first] = gateways as [FakeNgGateway, FakeNgGateway];
  await control.offer(offer('c1'));
  await control.offer(offer('c2'));
  const lostCall = control.gatewayOf('c1') === 'ng:127.0.0.1:2220' ? 'c1' : 'c2';
  t.equal(control.gatewayOf(lostCall), 'ng:127.0.0.1:2220');
  first.alive = false;
  for (let i = 0; i < 3; i++) await control.checkHealth();
  first.alive = true;
  await control.checkHealth();
  t.equal(control.gateways()[0]?.up, false, 'one answered ping is not enough');
  await control.checkHealth();
  t.equal(control.gateways()[0]?.up, true, 'two: back in the pool');
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(first.commands().includes(`delete ${lostCall}`), 'the call it carried when cut off is deleted on it');
  t.equal(control.gatewayOf(lostCall), undefined);
  await control.offer(offer('after'));
  t.equal(control.gatewayOf('after'), 'ng:127.0.0.1:2220', 'the empty rejoined gateway takes the next call');
});

t.test('issue #15: a new call whose offer gets no reply is placed on the next gateway, and the silent one is taken out', async (t) => {
  const { control, gateways, down } = pool([1, 1]);
  const [first, second] = gateways as [FakeNgGateway, FakeNgGateway];
  await control.offer(offer('c1'));
  await control.offer(offer('c2'));
  const onFirst = control.gatewayOf('c1') === 'ng:127.0.0.1:2220' ? 'c1' : 'c2';
  first.alive = false;
  // Equal loads: try both turns so the first gateway is asked at least once.
  await control.offer(offer('c3'));
  await control.offer(offer('c4'));
  t.same([control.gatewayOf('c3'), control.gatewayOf('c4')], ['ng:127.0.0.1:2221', 'ng:127.0.0.1:2221'], 'both placed on the gateway that answers');
  t.same(down, [{ gateway: 'ng:127.0.0.1:2220', calls: [onFirst] }], 'the offer without reply took its gateway out, with its call');
  t.ok(second.commands().includes('offer c3'));
  // A call stuck on the dead gateway cannot be re-offered there.
  const stuck = { ...offer(onFirst) };
  await t.rejects(control.offer(stuck), { code: 'EPC_ERR_MEDIA', message: /is down/ });
});

t.test('issue #15: the health timer pings every gateway every intervalMs; close stops it', async (t) => {
  const { control, gateways } = pool([1, 1], { health: { intervalMs: 20, downAfterFailures: 3, upAfterSuccesses: 2 } });
  const deadline = Date.now() + 5_000; // a loaded machine may delay timers: wait for the pings, not a fixed time
  while (!gateways.every((g) => g.pings >= 3) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  t.ok(gateways.every((g) => g.pings >= 3), `pinged again and again (${gateways.map((g) => g.pings).join(', ')})`);
  await control.close();
  const pings = gateways.map((g) => g.pings);
  await new Promise((resolve) => setTimeout(resolve, 60));
  t.same(gateways.map((g) => g.pings), pings, 'no ping after close');
});

t.test('issue #15: in a cluster the MediaLegDirectory names the gateway of each call (a survivor frees it there)', async (t) => {
  const { control, gateways } = pool([1, 1]);
  const state = new MemoryStateBackend();
  t.teardown(() => state.close());
  const recorded = recordedMediaControl(control, state.mediaLegs, { nodeId: 'n1', gateway: 'ng:127.0.0.1:2220', log });
  for (const id of ['c1', 'c2']) await recorded.offer(offer(id));
  const second = (await state.mediaLegs.byGateway('ng:127.0.0.1:2221')).map((leg) => leg.ngCallId);
  t.equal(second.length, 1, 'one call recorded on the second gateway');
  t.equal(control.gatewayOf(second[0] ?? ''), 'ng:127.0.0.1:2221');
  t.equal((await state.mediaLegs.byGateway('ng:127.0.0.1:2220')).length, 1);
  // The survivor's release: deleteOn the named gateway.
  await recorded.deleteOn?.('ng:127.0.0.1:2221', { callId: second[0] ?? '' });
  t.ok(gateways[1]?.commands().includes(`delete ${second[0]}`), 'deleted on the gateway the directory names');
});

t.test('issue #15: epcscf_media_gateway_up and epcscf_media_gateway_calls per gateway on /metrics', async (t) => {
  const { control, gateways } = pool([1, 1]);
  const registry = new Registry();
  registerMediaPoolMetrics(registry, control);
  for (const id of ['c1', 'c2', 'c3']) await control.offer(offer(id));
  (gateways[1] as FakeNgGateway).alive = false;
  for (let i = 0; i < 3; i++) await control.checkHealth();
  const text = await registry.metrics();
  t.match(text, /^epcscf_media_gateway_up\{gateway="ng:127\.0\.0\.1:2220"\} 1$/m);
  t.match(text, /^epcscf_media_gateway_up\{gateway="ng:127\.0\.0\.1:2221"\} 0$/m, 'the silent gateway is out');
  t.match(text, /^epcscf_media_gateway_calls\{gateway="ng:127\.0\.0\.1:2220"\} 2$/m);
  t.match(text, /^epcscf_media_gateway_calls\{gateway="ng:127\.0\.0\.1:2221"\} 0$/m, 'its calls were handed over for release');
});

t.test('issue #15: a gateway taken out while a new call\'s offer is on its way does not keep the call: it goes to the next one', async (t) => {
  const { control, gateways } = pool([1, 1]);
  const [first, second] = gateways as [FakeNgGateway, FakeNgGateway];
  first.gateway.delayMs = 50;
  const offered = control.offer(offer('slow')); // turn 0: the first gateway
  first.alive = false; // its pings stop while the offer is in flight (the offer itself was sent before)
  for (let i = 0; i < 3; i++) await control.checkHealth();
  await offered;
  t.equal(control.gatewayOf('slow'), 'ng:127.0.0.1:2221', 'placed on the gateway still in the pool');
  t.same(second.commands(), ['offer slow']);
  t.same(control.gateways().map((g) => g.calls), [0, 1]);
});
