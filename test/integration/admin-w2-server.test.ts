import t from 'tap';
import { pino } from 'pino';
import { resolveConfig } from '../../core/config/index.js';
import { createEpcscfMetrics, observeW2Sessions, registerAdminApi } from '../../core/admin/index.js';
import type { AdminBackend, AdminSession } from '../../core/admin/index.js';
import { extendBuiltinPlugins } from '../../core/cli/builtin-plugins.js';
import { defineW2Plugin, W2_CONTRACT_VERSION } from '../../core/contract/contract.js';
import type { W2Connection } from '../../core/contract/session.js';
import { createEpcscfServer } from '../../core/server/epcscf-server.js';
import type { EpcscfServer } from '../../core/server/epcscf-server.js';
import { closeOf, connect, nextMessage, waitFor } from '../unit/server/w2-harness.js';
import { parsePrometheusText, sampleValue } from '../unit/admin/prometheus-text.js';

const KEY = 'integration-admin-key-0123456789';
const AUTH = { authorization: `Bearer ${KEY}` };

/** An echo plugin that remembers its connections, so the backend can close one. */
function echoPlugin() {
  const connections = new Map<string, W2Connection>();
  const plugin = defineW2Plugin({
    meta: { name: 'echo', version: '1.0.0', contract: W2_CONTRACT_VERSION },
    bindings: [{ path: '/echo', subprotocols: ['echo'] }],
    init: () => ({ openSession: (conn) => {
      connections.set(conn.id, conn);
      let frames = 0;
      return {
        onFrame: async (frame) => { frames += 1; await conn.send(frame); },
        onClose: () => { connections.delete(conn.id); },
        describe: () => ({ frames }),
      };
    } }),
  });
  return { plugin, connections };
}

/** The seam the runtime fills: here over the W2 server's own session list. */
function w2Backend(server: EpcscfServer, connections: Map<string, W2Connection>): AdminBackend {
  const openedAt = new Map<string, string>();
  const sessions = (): AdminSession[] => server.w2.sessions().map((s) => {
    if (!openedAt.has(s.id)) openedAt.set(s.id, new Date().toISOString());
    return {
      connectionId: s.id,
      plugin: s.plugin,
      subprotocol: s.subprotocol,
      path: s.path,
      remote: s.remote,
      ...(s.origin !== undefined ? { origin: s.origin } : {}),
      openedAt: openedAt.get(s.id) ?? '',
      ...(s.description !== undefined ? { description: s.description } : {}),
    };
  });
  return {
    registrations: () => [],
    registration: () => undefined,
    terminateRegistration: () => false,
    calls: () => [],
    call: () => undefined,
    terminateCall: () => false,
    sessions,
    session: (id) => sessions().find((s) => s.connectionId === id),
    terminateSession: (id) => {
      const conn = connections.get(id);
      conn?.close(1000, 'terminated by the admin API');
      return conn !== undefined;
    },
    readiness: () => ({ ready: true, checks: { plugins: { ok: server.plugins.plugins.length > 0 } } }),
    counts: () => ({ registrations: 0, calls: 0, mediaLegs: 0 }),
  };
}

t.test('the admin API on the W2 fastify instance: WebSocket upgrades still work and the admin API sees, counts and closes the session', async (t) => {
  const echo = echoPlugin();
  const config = resolveConfig({ plugins: [{ name: 'echo' }], w2: { listen: '127.0.0.1:0' } }, { configDir: process.cwd(), env: {} });
  const server = await createEpcscfServer(config, {
    builtins: extendBuiltinPlugins([['echo', async () => echo.plugin]]),
    logger: pino({ level: 'silent' }),
    shutdownGraceMs: 300,
  });
  t.teardown(() => server.close());
  const metrics = createEpcscfMetrics();
  t.teardown(observeW2Sessions(server.observer, metrics));
  await registerAdminApi(server.w2.app, { bearerKey: KEY, backend: w2Backend(server, echo.connections), metrics, version: '0.1.0' });
  const { port } = await server.listen();
  const http = `http://127.0.0.1:${port}`;

  // RFC 6455 §4.2.2: the upgrade, subprotocol echo and frames are untouched by the admin plugin.
  const ws = await connect(t, `ws://127.0.0.1:${port}/echo`, 'echo');
  t.equal(ws.protocol, 'echo');
  ws.send('hello');
  t.equal((await nextMessage(ws)).data.toString(), 'hello');
  t.equal((await fetch(`${http}/echo`)).status, 426, 'a plain GET on the W2 path still answers 426');
  t.match(await (await fetch(`${http}/health`)).json(), { status: 'ok', version: String }, 'the admin API serves /health on the W2 server');

  const unauthorised = await fetch(`${http}/admin/sessions`);
  t.equal(unauthorised.status, 401);
  t.equal(unauthorised.headers.get('www-authenticate'), 'Bearer realm="epcscf-admin"');

  const list = await fetch(`${http}/admin/sessions`, { headers: AUTH });
  t.equal(list.status, 200);
  const page = await list.json() as { total: number; items: AdminSession[] };
  t.equal(page.total, 1);
  t.match(page.items[0], { plugin: 'echo', subprotocol: 'echo', path: '/echo', remote: { address: '127.0.0.1' }, description: { frames: 1 } });
  const id = page.items[0]!.connectionId;

  let families = parsePrometheusText(await (await fetch(`${http}/metrics`, { headers: AUTH })).text());
  t.equal(sampleValue(families, 'epcscf_w2_connections', { plugin: 'echo' }), 1, 'the observer fed the connection gauge');

  const closed = closeOf(ws);
  const terminated = await fetch(`${http}/admin/sessions/${id}`, { method: 'DELETE', headers: AUTH });
  t.equal(terminated.status, 204);
  t.same(await closed, { code: 1000, reason: 'terminated by the admin API' }, 'RFC 6455 §7.4.1: the client sees a normal close');
  await waitFor(() => server.w2.sessions().length === 0);
  t.equal((await fetch(`${http}/admin/sessions/${id}`, { headers: AUTH })).status, 404);

  families = parsePrometheusText(await (await fetch(`${http}/metrics`, { headers: AUTH })).text());
  t.equal(sampleValue(families, 'epcscf_w2_connections', { plugin: 'echo' }), 0);
  t.equal(sampleValue(families, 'epcscf_w2_connections_total', { plugin: 'echo' }), 1);

  const doc = await (await fetch(`${http}/docs/json`)).json() as { paths: Record<string, unknown> };
  t.notOk(doc.paths['/echo'], 'W2 upgrade routes are not part of the admin OpenAPI document');
  t.ok(doc.paths['/admin/sessions/{id}']);

  const again = await connect(t, `ws://127.0.0.1:${port}/echo`, 'echo');
  again.send('still works');
  t.equal((await nextMessage(again)).data.toString(), 'still works', 'a new upgrade after an admin termination works');
});
