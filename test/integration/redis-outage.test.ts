/**
 * Issue #15, "Redis unavailable: clear errors, /ready false, no crash, new registrations refused
 * with 503; recovers when Redis returns": epcscf (the `npm start` runtime with its dev IMS core)
 * keeps its registrations in a real redis-server (cluster.redis). A sip-ws client (JsSIP)
 * registers and its binding is in Redis with its expiry as TTL; Redis is killed → /ready is 503
 * naming the state check, a de-registration gets 503 for the 200 it could not store, a REGISTER
 * gets 503 with Retry-After and nothing reaches Mw, epcscf lives on; Redis comes back (empty) → /ready is 200 again by itself and the client registers.
 */
import t from 'tap';
import { pino } from 'pino';
import { startRuntime } from '../../core/cli/runtime.js';
import { resolveConfig } from '../../core/config/index.js';
import { cseq, getHeader, type SipMessage, type SipResponse } from '../../core/sip/index.js';
import { allocatePorts, releasePort } from '../support/peers/ports.js';
import { runCommand } from '../support/peers/process.js';
import { startRedis } from '../support/peers/redis.js';
import { JsSipUser } from '../support/wic/jssip-user.js';

const PREFIX = 'outage:';

interface Readiness { status: number; body: { ready: boolean; error?: { code: string; message: string }; checks: Record<string, { ok: boolean; detail?: string }> } }

t.test('Redis down: /ready 503 naming the state, REGISTER 503 with Retry-After and nothing on Mw, no crash; Redis back: ready and registering again', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const [w2Port = 0, mwPort = 0] = await allocatePorts(2);
  t.teardown(() => { releasePort(w2Port); releasePort(mwPort); });
  const config = resolveConfig({
    w2: { listen: `127.0.0.1:${w2Port}`, pingIntervalSeconds: 0 }, mw: { listen: [`udp:127.0.0.1:${mwPort}`] }, media: { mode: 'off' },
    plugins: [{ name: 'sip-ws' }],
    cluster: { flowSecret: 'redis-outage-flow-secret-0123456789abcdef', redis: { url: redis.url, keyPrefix: PREFIX, commandTimeoutSeconds: 0.5 } },
  }, { configDir: process.cwd(), env: {} });
  const runtime = await startRuntime(config, { logger: pino({ level: 'silent' }), devCorePort: 0 });
  t.teardown(() => runtime.close());
  t.equal(runtime.state?.kind, 'redis', 'the runtime built the Redis state backend from cluster.redis');

  const ready = async (): Promise<Readiness> => {
    const response = await fetch(`http://127.0.0.1:${w2Port}/ready`);
    return { status: response.status, body: await response.json() as Readiness['body'] };
  };
  const bindingKeys = async (): Promise<string[]> =>
    (await runCommand('redis-cli', ['-p', String(redis.port), '--scan', '--pattern', `${PREFIX}{f:*}:reg:*`])).stdout.split('\n').filter(Boolean);
  const mwRegisters: SipMessage[] = [];
  runtime.pcscf.observer.on('mw', (e) => { if (e.direction === 'out' && e.message.kind === 'request' && e.message.method === 'REGISTER') mwRegisters.push(e.message); });

  const up = await ready();
  t.equal(up.status, 200);
  t.match(up.body.checks['state'], { ok: true, detail: 'redis' });

  const alice = await JsSipUser.connect({ wsUrl: `ws://127.0.0.1:${w2Port}/sip`, user: 'alice', password: 'alicepw', registerExpires: 600 });
  t.teardown(() => alice.stop());
  t.equal(await alice.register(), 200, 'R-REG-17: alice registers through epcscf with Redis as the state home');
  const keys = await bindingKeys();
  t.equal(keys.length, 1, `her binding is a key in Redis (${keys.join(', ')})`);
  const ttl = Number((await runCommand('redis-cli', ['-p', String(redis.port), 'PTTL', keys[0] ?? ''])).stdout.trim());
  t.ok(ttl > 500_000 && ttl <= 600_000, `the binding's key expires with the binding (PTTL ${ttl} ms for Expires 600)`);

  await redis.kill();
  const down = await ready();
  t.equal(down.status, 503, '/ready is 503 while Redis is down');
  t.match(down.body.checks['state'], { ok: false, detail: /^redis: Redis unreachable/ });
  t.match(down.body.error, { code: 'EPC_ERR_NOT_READY', message: /not ready: .*state \(redis: Redis unreachable/ }, 'the readiness error names the state check');

  // A de-registration needs the store only for the registrar's 200 (to drop the binding): it
  // reaches the core, and the client gets 503 instead of a 200 its P-CSCF could not act on.
  const beforeDeregister = { mw: mwRegisters.length, frames: alice.capture.frames.length };
  alice.ua.unregister();
  const deregistered = (await alice.capture.waitFor((f) => f.direction === 'received' && f.message?.kind === 'response'
    && f.message.status >= 200 && f.message.status !== 401 && cseq(f.message).method === 'REGISTER', { from: beforeDeregister.frames, timeoutMs: 5_000 })).message as SipResponse;
  t.equal(deregistered.status, 503, 'a de-registration whose 200 cannot be stored: 503 (not 502), RFC 3261 §16.7');
  t.equal(getHeader(deregistered, 'Retry-After'), '5');
  t.ok(mwRegisters.length > beforeDeregister.mw, 'the de-registration itself went to the core (digest challenge and answer)');

  const before = { mw: mwRegisters.length, frames: alice.capture.frames.length };
  const started = Date.now();
  t.equal(await alice.register(), 503, 'a REGISTER while Redis is down is refused with 503');
  const elapsed = Date.now() - started;
  t.ok(elapsed < 2_000, `at once, not after a hang (${elapsed} ms)`);
  const refusal = alice.capture.since(before.frames).map((f) => f.message)
    .find((m): m is SipResponse => m?.kind === 'response' && cseq(m).method === 'REGISTER');
  t.equal(refusal?.reason, 'Service Unavailable - registration and session state temporarily unreachable', 'the reason phrase says why');
  t.equal(refusal ? getHeader(refusal, 'Retry-After') : undefined, '5', 'RFC 3261 §21.5.4: Retry-After says when to try again');
  t.equal(mwRegisters.length, before.mw, 'nothing went to the IMS core on Mw');
  const failed = await alice.call('sip:bob@ims.test').ended();
  t.match(failed, { event: 'failed', status: 503 }, 'an INVITE, which needs the registration store too, gets the same 503');
  t.equal((await ready()).status, 503, 'epcscf is alive and still answers /ready');

  await redis.restart();
  const deadline = Date.now() + 10_000;
  let back = await ready();
  while (back.status !== 200 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    back = await ready();
  }
  t.equal(back.status, 200, `/ready is 200 again by itself once Redis is back (${JSON.stringify(back.body.checks['state'])})`);
  t.equal(await alice.register(), 200, 'the client registers again');
  t.equal((await bindingKeys()).length, 1, 'and its binding is in the new Redis');
});
