/**
 * Issue 11 #4: one client must not take every media port. The P-CSCF caps the calls a W2
 * connection (and a source IP) originates (w2.limits.maxCallsPerClient / maxCallsPerIp): the
 * INVITE beyond the cap is answered 503 + Retry-After before the IMS-ALG allocates anything.
 * Full stack on loopback (test/support/sip-ws-stack.ts).
 */
import t from 'tap';
import { getHeader } from '../../core/sip/index.js';
import { RawSipWsClient, registerOver, startStack } from '../support/sip-ws-stack.js';
import type { FakeGateway } from '../unit/ng/fake-gateway.js';
import { CHROME_AUDIO_OFFER } from '../unit/ng/ims-alg-requests.js';
import { parsePrometheusText, sampleValue } from '../unit/admin/prometheus-text.js';

function sendInvite(client: RawSipWsClient, user: string, callId: string): void {
  client.send([
    'INVITE sip:carol@ims.test SIP/2.0', `Via: SIP/2.0/WSS ${user}.invalid;branch=z9hG4bK${callId}`, 'Max-Forwards: 70',
    `From: <sip:${user}@ims.test>;tag=t-${callId}`, 'To: <sip:carol@ims.test>', `Call-ID: ${callId}`, 'CSeq: 1 INVITE',
    `Contact: <sip:${user}@${user}.invalid;transport=ws;ob>`, 'Content-Type: application/sdp',
  ], CHROME_AUDIO_OFFER);
}

const offers = (gateway: FakeGateway): number => gateway.calls.filter((c) => c.command === 'offer').length;

t.test('issue 11 #4: beyond maxCallsPerClient the INVITE gets 503 + Retry-After, no media is allocated, and another client can still call', async (t) => {
  const { core, gateway, metrics, url } = await startStack(t, { maxCallsPerClient: 2 });
  const alice = await RawSipWsClient.open(t, url);
  const bob = await RawSipWsClient.open(t, url);
  await registerOver(alice, core, 'alice');
  await registerOver(bob, core, 'bob');
  for (const callId of ['a-1', 'a-2']) {
    sendInvite(alice, 'alice', callId);
    core.answer(await core.request('INVITE'), 180, { toTag: `callee-${callId}` });
    t.equal((await alice.response(callId, 'INVITE', false)).status, 180, `${callId} rings`);
  }
  t.equal(offers(gateway), 2, 'two calls, two offers on the media gateway');
  sendInvite(alice, 'alice', 'a-3');
  const refused = await alice.response('a-3', 'INVITE');
  t.equal(refused.status, 503, 'RFC 3261 §21.5.4: temporary, this server');
  t.match(refused.reason, /too many calls on this connection/);
  t.equal(getHeader(refused, 'Retry-After'), '10', 'RFC 3261 §20.33: when to try again');
  t.equal(offers(gateway), 2, 'no media port taken for the refused INVITE');
  sendInvite(bob, 'bob', 'b-1');
  const atCore = await core.request('INVITE');
  t.equal(getHeader(atCore, 'Call-ID'), 'b-1', 'another client still calls through');
  t.equal(offers(gateway), 3);
  const families = parsePrometheusText(await metrics.metrics());
  t.equal(sampleValue(families, 'epcscf_w2_refused_total', { reason: 'calls_per_client' }), 1, 'counted in /metrics');
});

t.test('issue 11 #4: a call that ended frees its slot (failed INVITE), so the cap bounds concurrent calls, not calls ever made', async (t) => {
  const { core, gateway, url } = await startStack(t, { maxCallsPerClient: 1 });
  const alice = await RawSipWsClient.open(t, url);
  await registerOver(alice, core, 'alice');
  sendInvite(alice, 'alice', 'x-1');
  core.answer(await core.request('INVITE'), 486, { toTag: 'busy' });
  t.equal((await alice.response('x-1', 'INVITE')).status, 486);
  sendInvite(alice, 'alice', 'x-2');
  core.answer(await core.request('INVITE'), 180, { toTag: 'ring' });
  t.equal((await alice.response('x-2', 'INVITE', false)).status, 180, 'the slot of the failed call is free again');
  sendInvite(alice, 'alice', 'x-3');
  t.equal((await alice.response('x-3', 'INVITE')).status, 503, 'while x-2 rings the cap of 1 is reached');
  t.equal(offers(gateway), 2);
});

t.test('issue 11 #4: beyond maxCallsPerIp the calls of all connections from one address are capped together', async (t) => {
  const { core, metrics, url } = await startStack(t, { maxCallsPerClient: 5, maxCallsPerIp: 2 });
  const alice = await RawSipWsClient.open(t, url);
  const bob = await RawSipWsClient.open(t, url);
  await registerOver(alice, core, 'alice');
  await registerOver(bob, core, 'bob');
  sendInvite(alice, 'alice', 'p-1');
  core.answer(await core.request('INVITE'), 180, { toTag: 'r1' });
  await alice.response('p-1', 'INVITE', false);
  sendInvite(bob, 'bob', 'p-2');
  core.answer(await core.request('INVITE'), 180, { toTag: 'r2' });
  await bob.response('p-2', 'INVITE', false);
  sendInvite(bob, 'bob', 'p-3');
  const refused = await bob.response('p-3', 'INVITE');
  t.equal(refused.status, 503);
  t.match(refused.reason, /too many calls from this address/);
  const families = parsePrometheusText(await metrics.metrics());
  t.equal(sampleValue(families, 'epcscf_w2_refused_total', { reason: 'calls_per_ip' }), 1);
});

t.test('issue 11 #4: the calls of a connection that closed no longer count against its address', async (t) => {
  const { core, url } = await startStack(t, { maxCallsPerIp: 1 });
  const alice = await RawSipWsClient.open(t, url);
  const bob = await RawSipWsClient.open(t, url);
  await registerOver(alice, core, 'alice');
  await registerOver(bob, core, 'bob');
  sendInvite(alice, 'alice', 'c-1');
  core.answer(await core.request('INVITE'), 180, { toTag: 'r1' });
  await alice.response('c-1', 'INVITE', false);
  sendInvite(bob, 'bob', 'c-2');
  t.equal((await bob.response('c-2', 'INVITE')).status, 503, 'the address is at its cap');
  alice.close();
  await core.request('CANCEL').catch(() => undefined); // the P-CSCF releases alice's ringing call
  sendInvite(bob, 'bob', 'c-3');
  const atCore = await core.request('INVITE');
  t.equal(getHeader(atCore, 'Call-ID'), 'c-3', 'the slot came back with the connection');
});
