/**
 * Issue 11 #4: one client must not take every media port. The P-CSCF caps the calls a W2
 * connection (and a source IP) originates (w2.limits.maxCallsPerClient / maxCallsPerIp): the
 * INVITE beyond the cap is answered 503 + Retry-After before the IMS-ALG allocates anything.
 * Full stack on loopback: raw SIP-over-WebSocket clients (RFC 7118) → W2 server with sip-ws →
 * P-CSCF → a fake IMS core on UDP, with a recording media gateway behind the IMS-ALG.
 */
import t from 'tap';
import type { Test } from 'tap';
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { resolveConfig } from '../../core/config/index.js';
import { createEpcscfMetrics } from '../../core/admin/index.js';
import { InProcessMediaControl } from '../../core/pcscf/alg/media-control.js';
import { Pcscf } from '../../core/pcscf/index.js';
import type { W2ObserverEvents } from '../../core/plugin/host.js';
import { createEpcscfServer } from '../../core/server/epcscf-server.js';
import { getHeader, parseMessage, type SipMessage, type SipResponse } from '../../core/sip/index.js';
import { FakeImsCore } from '../support/fake-ims-core.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { FakeGateway } from '../unit/ng/fake-gateway.js';
import { CHROME_AUDIO_OFFER } from '../unit/ng/ims-alg-requests.js';
import { parsePrometheusText, sampleValue } from '../unit/admin/prometheus-text.js';

async function startStack(t: Test, limits: Record<string, number>) {
  const core = await FakeImsCore.start();
  const w2Port = await allocatePort();
  const config = resolveConfig({
    w2: { listen: `127.0.0.1:${w2Port}`, pingIntervalSeconds: 0, limits },
    plugins: [{ name: 'sip-ws' }],
    mw: { listen: ['udp:127.0.0.1:0'], nextHop: `sip:127.0.0.1:${core.port};transport=udp`, domain: 'ims.test', visitedNetworkId: 'epcscf.test' },
    log: { level: 'silent' },
  }, { configDir: process.cwd(), env: {} });
  const gateway = new FakeGateway();
  const pcscf = await Pcscf.start({ config, nodeId: 'node1', flowSecret: 'test-secret', media: new InProcessMediaControl(gateway) });
  const server = await createEpcscfServer(config, { sip: pcscf, observer: new EventEmitter<W2ObserverEvents>() });
  await server.listen();
  const metrics = createEpcscfMetrics();
  pcscf.observer.on('refused', (reason) => metrics.refused(reason));
  t.teardown(async () => {
    await server.close();
    await pcscf.close();
    core.close();
    releasePort(w2Port);
  });
  return { core, gateway, pcscf, metrics, url: `ws://127.0.0.1:${w2Port}/sip` };
}

/** A SIP-over-WebSocket client speaking raw RFC 7118 frames. */
class RawSipWsClient {
  readonly #ws: WebSocket;
  readonly #inbox: SipMessage[] = [];
  #wake: (() => void) | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data: Buffer) => {
      this.#inbox.push(parseMessage(data, { datagram: true }));
      this.#wake?.();
    });
  }

  static async open(t: Test, url: string): Promise<RawSipWsClient> {
    const ws = new WebSocket(url, 'sip');
    t.teardown(() => ws.terminate());
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    return new RawSipWsClient(ws);
  }

  close(): void {
    this.#ws.close();
  }

  send(lines: string[], body = ''): void {
    this.#ws.send([...lines, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'));
  }

  async response(callId: string, method: string, final = true): Promise<SipResponse> {
    const deadline = Date.now() + 3_000;
    for (;;) {
      const index = this.#inbox.findIndex((m) => m.kind === 'response' && getHeader(m, 'Call-ID') === callId
        && (getHeader(m, 'CSeq') ?? '').endsWith(method) && m.status >= (final ? 200 : 101));
      if (index >= 0) return this.#inbox.splice(index, 1)[0] as SipResponse;
      if (Date.now() > deadline) throw new Error(`no ${method} response for ${callId}`);
      await new Promise<void>((resolve) => { this.#wake = resolve; setTimeout(resolve, 50); });
    }
  }
}

async function registerOver(client: RawSipWsClient, core: FakeImsCore, user: string): Promise<void> {
  const callId = `reg-${user}`;
  client.send([
    'REGISTER sip:ims.test SIP/2.0', `Via: SIP/2.0/WSS ${user}.invalid;branch=z9hG4bKreg${user}`, 'Max-Forwards: 70',
    `From: <sip:${user}@ims.test>;tag=r${user}`, `To: <sip:${user}@ims.test>`, `Call-ID: ${callId}`, 'CSeq: 1 REGISTER',
    `Contact: <sip:${user}@${user}.invalid;transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-00000000000${user.length}>"`,
    'Expires: 600', 'Supported: path, outbound, gruu',
  ]);
  const atCore = await core.request('REGISTER');
  core.answer(atCore, 200, { headers: [
    ['Contact', `<sip:${user}@${user}.invalid;transport=ws>;expires=600`], ['Service-Route', `<sip:orig@127.0.0.1:${core.port};lr>`],
    ['P-Associated-URI', `<sip:${user}@ims.test>`], ['Path', getHeader(atCore, 'Path') ?? ''],
  ] });
  const ok = await client.response(callId, 'REGISTER');
  if (ok.status !== 200) throw new Error(`REGISTER of ${user}: ${ok.status}`);
}

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
