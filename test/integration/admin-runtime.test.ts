/**
 * Issue #5, REST admin API on a running epcscf (the `npm start` runtime: dev IMS core, sip-ws +
 * jsonrpc-ws): two JSON-RPC clients register and call each other; the admin API lists the
 * registrations, the call and the plugin sessions, terminates the call (both clients see it end)
 * and a registration (its WebSocket closes); /metrics counts connections, registrations, calls
 * and SIP responses by class; /ready, /docs/json and /openrpc.json are served.
 */
import t from 'tap';
import { pino } from 'pino';
import { startRuntime } from '../../core/cli/runtime.js';
import { resolveConfig } from '../../core/config/index.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { allocatePorts } from '../support/peers/ports.js';

const KEY = 'admin-key-for-tests-0123456789';
const PLAIN_OFFER = ['v=0', 'o=- 1 0 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

t.test('admin API: list, inspect and terminate registrations, calls and sessions; metrics; readiness', async (t) => {
  const [w2Port, mwPort] = await allocatePorts(2);
  const config = resolveConfig({
    w2: { listen: `127.0.0.1:${w2Port}` }, mw: { listen: [`udp:127.0.0.1:${mwPort}`] }, media: { mode: 'off' }, admin: { bearerKey: KEY },
  }, { configDir: process.cwd(), env: {} });
  const runtime = await startRuntime(config, { logger: pino({ level: 'silent' }), devCorePort: 0 });
  t.teardown(() => runtime.close());
  const http = `http://127.0.0.1:${w2Port}`;
  /** `key` null: no Authorization header at all. */
  const get = async (path: string, key: string | null = KEY): Promise<Response> =>
    fetch(`${http}${path}`, key === null ? {} : { headers: { authorization: `Bearer ${key}` } });
  const json = async <T>(path: string): Promise<T> => (await get(path)).json() as Promise<T>;

  const alice = await RpcWsClient.connect(`ws://127.0.0.1:${w2Port}/jsonrpc`);
  t.teardown(() => alice.close());
  const bob = await RpcWsClient.connect(`ws://127.0.0.1:${w2Port}/jsonrpc`);
  t.teardown(() => bob.close());
  t.equal((await alice.request('session.register', { impu: 'sip:alice@ims.test', password: 'alicepw' }))['state'], 'registered');
  t.equal((await bob.request('session.register', { impu: 'sip:bob@ims.test', password: 'bobpw' }))['state'], 'registered');

  t.equal((await get('/admin/registrations', null)).status, 401, 'RFC 6750: no bearer key, no admin data');
  t.equal((await get('/admin/registrations', 'wrong-key-wrong-key')).status, 401);
  const registrations = await json<{ total: number; items: { id: string; impu: string; plugin?: string; instanceId?: string }[] }>('/admin/registrations');
  t.equal(registrations.total, 2);
  t.same(registrations.items.map((r) => r.impu).sort(), ['sip:alice@ims.test', 'sip:bob@ims.test']);
  t.ok(registrations.items.every((r) => r.plugin === 'jsonrpc-ws' && /^"?<?urn:uuid:/.test(r.instanceId ?? '')), 'each binding names its plugin and +sip.instance');

  const { callId } = await alice.request('call.invite', { to: 'sip:bob@ims.test', sdp: PLAIN_OFFER });
  const incoming = await bob.notification('call.incoming');
  await bob.request('call.answer', { callId: incoming['callId'], sdp: PLAIN_OFFER });
  await alice.notification('call.answered', (p) => p['callId'] === callId);

  const calls = await json<{ total: number; items: { id: string; from: string; to: string; state: string; plugin?: string }[] }>('/admin/calls');
  // The call crosses the P-CSCF twice (alice's originating leg, bob's terminating leg).
  t.equal(calls.total, 2, 'both legs of the call are listed');
  t.ok(calls.items.every((c) => c.from === 'sip:alice@ims.test' && c.to === 'sip:bob@ims.test' && c.state === 'confirmed'), JSON.stringify(calls.items));
  const sessions = await json<{ total: number; items: { connectionId: string; plugin: string; description?: unknown }[] }>('/admin/sessions');
  t.equal(sessions.total, 2);
  t.ok(sessions.items.every((s) => s.plugin === 'jsonrpc-ws' && s.description !== undefined), 'sessions carry the plugin\'s describe()');
  t.equal((await get('/admin/calls/nope')).status, 404);

  const metrics = await (await get('/metrics')).text();
  t.match(metrics, /^epcscf_w2_connections\{plugin="jsonrpc-ws"\} 2$/m, 'connections per plugin');
  t.match(metrics, /^epcscf_registrations 2$/m, 'registrations');
  t.match(metrics, /^epcscf_calls 2$/m, 'calls (dialogs through the P-CSCF)');
  const okOnMw = /^epcscf_sip_responses_total\{side="mw",direction="in",class="2xx"\} (\d+)$/m.exec(metrics);
  t.ok(okOnMw && Number(okOnMw[1]) >= 3, `SIP responses by class (2xx in on Mw: ${okOnMw?.[1]})`);
  t.equal((await get('/metrics', null)).status, 401, '/metrics needs the key too');

  const aliceLeg = calls.items.find((c) => c.plugin === 'jsonrpc-ws') ?? calls.items[0];
  const terminated = await fetch(`${http}/admin/calls/${aliceLeg?.id ?? ''}?reason=maintenance`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
  t.equal(terminated.status, 204, 'DELETE /admin/calls/:id');
  const endedA = await alice.notification('call.ended', (p) => p['callId'] === callId);
  const endedB = await bob.notification('call.ended');
  t.ok(endedA && endedB, 'both parties see the call end');

  const bobBinding = registrations.items.find((r) => r.impu === 'sip:bob@ims.test');
  const closed = new Promise<number>((resolve) => bob.ws.once('close', (code) => resolve(code)));
  const removed = await fetch(`${http}/admin/registrations/${bobBinding?.id ?? ''}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
  t.equal(removed.status, 204);
  t.equal(await closed, 1008, 'the WebSocket that carried the registration is closed with 1008');
  t.equal((await json<{ total: number }>('/admin/registrations')).total, 1);

  const ready = await get('/ready', null);
  t.equal(ready.status, 200, '/ready is public');
  t.match(await ready.json(), { ready: true, checks: { mw: { ok: true }, w2: { ok: true } } });
  t.match(await (await get('/health', null)).json(), { status: 'ok' });
  const openapi = await json<{ paths: Record<string, unknown> }>('/docs/json');
  t.ok(openapi.paths['/admin/calls/{id}'], 'the OpenAPI document describes the admin routes');
  const openrpc = await json<{ openrpc: string; methods: { name: string }[] }>('/openrpc.json');
  t.ok(openrpc.methods.some((m) => m.name === 'call.invite'), '/openrpc.json serves the JSON-RPC API document');
});
