import t from 'tap';
import { EpcError } from '../../../core/errors.js';
import { CALL, REGISTRATION, SESSION } from './fake-backend.js';
import { AUTH, KEY, adminApp } from './admin-helpers.js';

const ADMIN_GETS = ['/admin/registrations', '/admin/registrations/reg-1', '/admin/calls', '/admin/calls/dlg-1', '/admin/sessions', '/admin/sessions/conn-1', '/metrics'];

t.test('no bearer key configured: /admin/* and /metrics answer 404 and the log says why', async (t) => {
  for (const bearerKey of [undefined, '']) {
    const { app, warnings, backend } = await adminApp(t, { bearerKey });
    for (const url of ADMIN_GETS) {
      const res = await app.inject({ url, headers: AUTH });
      t.equal(res.statusCode, 404, `${url} with key ${JSON.stringify(bearerKey)}`);
    }
    const res = await app.inject({ method: 'DELETE', url: '/admin/calls/dlg-1', headers: AUTH });
    t.equal(res.statusCode, 404);
    t.same(res.json(), { error: { code: 'EPC_ERR_ADMIN_NOT_FOUND', message: 'the admin API is disabled: no bearer key is configured' } });
    t.same(backend.terminated, [], 'nothing terminated');
    t.ok(warnings.some((w) => /no bearer key configured/.test(w)), 'a warning explains why');
    t.equal((await app.inject('/health')).statusCode, 200, 'public routes stay');
    t.equal((await app.inject('/ready')).statusCode, 200);
  }
});

t.test('RFC 6750 §3.1: a request without credentials gets 401 and a bare Bearer challenge', async (t) => {
  const { app } = await adminApp(t);
  for (const url of ADMIN_GETS) {
    for (const headers of [{}, { authorization: `Basic ${Buffer.from(`admin:${KEY}`).toString('base64')}` }, { authorization: 'Bearer' }]) {
      const res = await app.inject({ url, headers });
      t.equal(res.statusCode, 401, `${url} ${JSON.stringify(headers)}`);
      t.equal(res.headers['www-authenticate'], 'Bearer realm="epcscf-admin"', 'no error code when no bearer token was presented');
      t.same(res.json(), { error: { code: 'EPC_ERR_ADMIN_UNAUTHORIZED', message: 'this resource needs Authorization: Bearer <admin key>' } });
    }
  }
});

t.test('RFC 6750 §3.1: a wrong bearer key gets 401 error="invalid_token"; nothing behind the guard runs', async (t) => {
  const { app, backend } = await adminApp(t);
  for (const wrong of [`${KEY}x`, KEY.slice(0, -1), 'a', KEY.toUpperCase()]) {
    const res = await app.inject({ method: 'DELETE', url: '/admin/calls/dlg-1', headers: { authorization: `Bearer ${wrong}` } });
    t.equal(res.statusCode, 401, wrong);
    t.match(res.headers['www-authenticate'], /^Bearer realm="epcscf-admin", error="invalid_token"/);
    t.equal(res.json().error.code, 'EPC_ERR_ADMIN_UNAUTHORIZED');
  }
  t.equal((await app.inject({ url: '/admin/nowhere', headers: { authorization: 'Bearer nope' } })).statusCode, 401, 'unknown admin paths are not revealed without the key');
  t.same(backend.terminated, []);
});

t.test('RFC 7235 §2.1: the auth scheme is case-insensitive; the right key gets 200 on every admin GET', async (t) => {
  const { app } = await adminApp(t);
  for (const url of ADMIN_GETS) t.equal((await app.inject({ url, headers: AUTH })).statusCode, 200, url);
  t.equal((await app.inject({ url: '/admin/calls', headers: { authorization: `bearer ${KEY}` } })).statusCode, 200);
  t.equal((await app.inject({ url: '/admin/calls', headers: { authorization: `BEARER  ${KEY}` } })).statusCode, 200);
});

t.test('public routes need no key: /health reports liveness with version and uptime', async (t) => {
  const { app } = await adminApp(t);
  const res = await app.inject('/health');
  t.equal(res.statusCode, 200);
  t.match(res.json(), { status: 'ok', version: '9.8.7', uptimeSeconds: Number });
  t.same(Object.keys(res.json()).sort(), ['status', 'uptimeSeconds', 'version']);
});

t.test('/ready: 200 with the checks when all pass, 503 in the one error shape naming the failing checks', async (t) => {
  const { app, backend } = await adminApp(t);
  let res = await app.inject('/ready');
  t.equal(res.statusCode, 200);
  t.same(res.json(), { ready: true, checks: { mw: { ok: true }, mediaGateway: { ok: true, detail: 'ng pong in 2 ms' } } });
  backend.readinessAnswer = { ready: false, checks: { mw: { ok: true }, mediaGateway: { ok: false, detail: 'ng ping timed out' }, plugins: { ok: false } } };
  res = await app.inject('/ready');
  t.equal(res.statusCode, 503);
  t.same(res.json(), {
    error: { code: 'EPC_ERR_NOT_READY', message: 'not ready: mediaGateway (ng ping timed out), plugins' },
    ready: false,
    checks: { mw: { ok: true }, mediaGateway: { ok: false, detail: 'ng ping timed out' }, plugins: { ok: false } },
  });
});

t.test('/ready: a failing check wins over ready: true (never 200 with a failed check)', async (t) => {
  const { app, backend } = await adminApp(t);
  backend.readinessAnswer = { ready: true, checks: { mw: { ok: false, detail: 'no transport bound' } } };
  const res = await app.inject('/ready');
  t.equal(res.statusCode, 503);
  t.equal(res.json().error.message, 'not ready: mw (no transport bound)');
});

t.test('/ready: a probe that throws or hangs is not ready (503), never a hung request', async (t) => {
  const { app, backend } = await adminApp(t, { readinessTimeoutMs: 50 });
  backend.readinessAnswer = async () => { throw new Error('media gateway socket closed'); };
  let res = await app.inject('/ready');
  t.equal(res.statusCode, 503);
  t.same(res.json().checks, { probe: { ok: false, detail: 'media gateway socket closed' } });
  backend.readinessAnswer = () => new Promise(() => {});
  const started = Date.now();
  res = await app.inject('/ready');
  t.equal(res.statusCode, 503);
  t.match(res.json().error.message, /longer than 50 ms/);
  t.ok(Date.now() - started < 1_000);
});

t.test('GET lists: a page of items with the total; limit/offset are validated (400 in the one error shape)', async (t) => {
  const { app } = await adminApp(t);
  let res = await app.inject({ url: '/admin/registrations', headers: AUTH });
  t.same(res.json(), { total: 2, items: [REGISTRATION, { ...REGISTRATION, id: 'reg-2', impu: 'sip:bob@ims.test' }] });
  res = await app.inject({ url: '/admin/registrations?limit=1&offset=1', headers: AUTH });
  t.same(res.json(), { total: 2, items: [{ ...REGISTRATION, id: 'reg-2', impu: 'sip:bob@ims.test' }] });
  t.same((await app.inject({ url: '/admin/calls', headers: AUTH })).json(), { total: 1, items: [CALL] });
  t.same((await app.inject({ url: '/admin/sessions', headers: AUTH })).json(), { total: 1, items: [SESSION] });
  for (const query of ['limit=0', 'limit=1001', 'offset=-1', 'limit=abc']) {
    res = await app.inject({ url: `/admin/sessions?${query}`, headers: AUTH });
    t.equal(res.statusCode, 400, query);
    t.equal(res.json().error.code, 'EPC_ERR_ADMIN_BAD_REQUEST');
    t.type(res.json().error.message, 'string');
  }
});

t.test('GET one: the item exactly as the backend described it (describe() kept whole)', async (t) => {
  const { app } = await adminApp(t);
  t.same((await app.inject({ url: '/admin/registrations/reg-1', headers: AUTH })).json(), REGISTRATION);
  t.same((await app.inject({ url: '/admin/calls/dlg-1', headers: AUTH })).json(), CALL);
  t.same((await app.inject({ url: '/admin/sessions/conn-1', headers: AUTH })).json(), SESSION);
});

t.test('unknown ids answer 404 { error: { code, message } } on GET and DELETE of every resource', async (t) => {
  const { app, backend } = await adminApp(t);
  for (const [resource, noun] of [['registrations', 'registration'], ['calls', 'call'], ['sessions', 'plugin session']] as const) {
    for (const method of ['GET', 'DELETE'] as const) {
      const res = await app.inject({ method, url: `/admin/${resource}/nope`, headers: AUTH });
      t.equal(res.statusCode, 404, `${method} ${resource}`);
      t.same(res.json(), { error: { code: 'EPC_ERR_ADMIN_NOT_FOUND', message: `no ${noun} with id "nope"` } });
    }
  }
  const res = await app.inject({ url: '/admin/unknown-thing', headers: AUTH });
  t.equal(res.statusCode, 404);
  t.equal(res.json().error.code, 'EPC_ERR_ADMIN_NOT_FOUND', 'an unknown admin path uses the same shape');
  t.same(backend.terminated, []);
});

t.test('DELETE terminates through the backend (204); a call carries the RFC 3326 reason text', async (t) => {
  const { app, backend } = await adminApp(t);
  let res = await app.inject({ method: 'DELETE', url: '/admin/calls/dlg-1?reason=operator%20request', headers: AUTH });
  t.equal(res.statusCode, 204);
  t.equal(res.body, '');
  res = await app.inject({ method: 'DELETE', url: '/admin/registrations/reg-1', headers: AUTH });
  t.equal(res.statusCode, 204);
  res = await app.inject({ method: 'DELETE', url: '/admin/sessions/conn-1', headers: AUTH });
  t.equal(res.statusCode, 204);
  t.same(backend.terminated, [
    { kind: 'call', id: 'dlg-1', reason: 'operator request' },
    { kind: 'registration', id: 'reg-1' },
    { kind: 'session', id: 'conn-1' },
  ]);
  t.equal((await app.inject({ url: '/admin/registrations/reg-1', headers: AUTH })).statusCode, 404, 'gone afterwards');
  res = await app.inject({ method: 'DELETE', url: `/admin/calls/dlg-1?reason=${'x'.repeat(201)}`, headers: AUTH });
  t.equal(res.statusCode, 400, 'an over-long reason is refused');
});

t.test('backend faults keep the one shape: EPC_ERR_INVALID_STATE → 409, other EpcErrors → 500 with their code, anything else → 500 without internals', async (t) => {
  const { app, backend } = await adminApp(t);
  backend.terminateCall = () => { throw new EpcError('EPC_ERR_INVALID_STATE', 'the call is already terminating'); };
  let res = await app.inject({ method: 'DELETE', url: '/admin/calls/dlg-1', headers: AUTH });
  t.equal(res.statusCode, 409);
  t.same(res.json(), { error: { code: 'EPC_ERR_INVALID_STATE', message: 'the call is already terminating' } });
  backend.calls = async () => { throw new EpcError('EPC_ERR_MEDIA', 'media gateway unreachable'); };
  res = await app.inject({ url: '/admin/calls', headers: AUTH });
  t.equal(res.statusCode, 500);
  t.same(res.json(), { error: { code: 'EPC_ERR_MEDIA', message: 'media gateway unreachable' } });
  backend.sessions = () => { throw new TypeError('cannot read properties of undefined (secret internals)'); };
  res = await app.inject({ url: '/admin/sessions', headers: AUTH });
  t.equal(res.statusCode, 500);
  t.same(res.json(), { error: { code: 'EPC_ERR_ADMIN_BACKEND', message: 'admin operation failed; see the epcscf log' } });
});

t.test('/metrics: Prometheus text/plain version 0.0.4 with the epcscf families and the backend gauges', async (t) => {
  const { app, metrics } = await adminApp(t);
  metrics.sipResponse('w2', 'out', 200);
  const res = await app.inject({ url: '/metrics', headers: AUTH });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  t.match(res.body, /^epcscf_sip_responses_total\{side="w2",direction="out",class="2xx"\} 1$/m);
  t.match(res.body, /^epcscf_registrations 2$/m, 'registerAdminApi bound the backend for the scrape-time gauges');
  t.match(res.body, /^epcscf_calls 1$/m);
});

t.test('/openrpc.json serves the given OpenRPC document publicly, and is absent without one', async (t) => {
  const document = { openrpc: '1.3.2', info: { title: 'epcscf JSON-RPC', version: '1' }, methods: [{ name: 'register', params: [] }] };
  const { app } = await adminApp(t, { openrpcDocument: document });
  const res = await app.inject('/openrpc.json');
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^application\/json/);
  t.same(res.json(), document);
  const without = await adminApp(t);
  t.equal((await without.app.inject('/openrpc.json')).statusCode, 404);
});

t.test('a /health already served by the host app is kept; the admin API still mounts and says so', async (t) => {
  const { app, warnings } = await adminApp(t, {}, (host) => {
    host.get('/health', async () => ({ status: 'ok', sessions: 0 }));
  });
  t.same((await app.inject('/health')).json(), { status: 'ok', sessions: 0 });
  t.equal((await app.inject({ url: '/admin/calls', headers: AUTH })).statusCode, 200);
  t.ok(warnings.some((w) => /\/health is already served/.test(w)));
});

t.test('a short bearer key is accepted but logged as guessable', async (t) => {
  const { app, warnings } = await adminApp(t, { bearerKey: 'short' });
  t.equal((await app.inject({ url: '/admin/calls', headers: { authorization: 'Bearer short' } })).statusCode, 200);
  t.ok(warnings.some((w) => /shorter than 16 characters/.test(w)));
});
