/**
 * A JWKS from a URL against the demo WWSF itself (examples/wwsf), with key rotation: epcscf (the
 * `npm start` runtime: dev IMS core, P-CSCF, sip-ws) takes the WWSF's keys from its
 * /.well-known/jwks.json only. After `rotateKey()` a token of the new key registers without a
 * restart of epcscf; once the old key left the JWKS (after the WWSF's grace) a token it signed is
 * refused "Token key unknown" (R-REG-4), and nothing reaches Mw for it.
 */
import t from 'tap';
import type { Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { decodeProtectedHeader } from 'jose';
import { startRuntime } from '../../core/cli/runtime.js';
import { resolveConfig } from '../../core/config/index.js';
import { TOKEN_REFUSAL_REASONS } from '../../core/webauth/index.js';
import { startWwsf } from '../../examples/wwsf/index.js';
import type { Wwsf } from '../../examples/wwsf/index.js';
import { allocatePorts } from '../support/peers/ports.js';
import { RawSipWsClient } from '../support/sip-ws-stack.js';

const KEY_GRACE_SECONDS = 2;

async function login(wwsf: Wwsf, user: string): Promise<string> {
  const response = await fetch(`${wwsf.origin}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password: `${user}pw` }) });
  const body = (await response.json()) as { token: string };
  return body.token;
}

let registrations = 0;
async function register(t: Test, wsUrl: string, origin: string, user: string, token: string): Promise<{ status: number; reason: string }> {
  const client = await RawSipWsClient.open(t, wsUrl, { origin });
  const callId = `rotation-${user}-${++registrations}`;
  client.send([
    'REGISTER sip:ims.test SIP/2.0', `Via: SIP/2.0/WS ${user}.invalid;branch=z9hG4bK${callId}`, 'Max-Forwards: 70',
    `From: <sip:${user}@ims.test>;tag=r${registrations}`, `To: <sip:${user}@ims.test>`, `Call-ID: ${callId}`, 'CSeq: 1 REGISTER',
    `Contact: <sip:${user}@${user}.invalid;transport=ws>`, 'Expires: 600', `Authorization: Bearer ${token}`,
  ]);
  const response = await client.response(callId, 'REGISTER');
  return { status: response.status, reason: response.reason };
}

t.test('R-REG-4: JWKS from the demo WWSF\'s URL — a rotated key is picked up without a restart; a key removed after the grace is "Token key unknown"', async (t) => {
  const wicDir = mkdtempSync(join(tmpdir(), 'wwsf-rotation-wic-'));
  writeFileSync(join(wicDir, 'index.html'), '<!doctype html>');
  t.teardown(() => rmSync(wicDir, { recursive: true, force: true }));
  const wwsf = await startWwsf({ port: 0, wicDir, keyGraceSeconds: KEY_GRACE_SECONDS });
  t.teardown(() => wwsf.close());
  const [w2Port, mwPort] = await allocatePorts(2);
  const config = resolveConfig({
    w2: { listen: `127.0.0.1:${w2Port}`, allowedOrigins: [wwsf.origin] },
    plugins: [{ name: 'sip-ws' }],
    mw: { listen: [`udp:127.0.0.1:${mwPort}`], domain: 'ims.test' },
    media: { mode: 'off' },
    cluster: { flowSecret: 'a-test-flow-secret-of-32-characters-or-more' },
    webAuth: {
      issuers: [{ issuer: wwsf.issuer, audience: wwsf.audience, jwks: { url: wwsf.jwksUrl }, origins: [wwsf.origin] }],
      // Re-fetch at once on an unknown kid, and a cached copy is stale after 1 s.
      jwksCooldownSeconds: 0, jwksMaxAgeSeconds: 1,
    },
  }, { configDir: tmpdir(), env: {} });
  const runtime = await startRuntime(config, { logger: pino({ level: 'silent' }), devCorePort: 0 });
  t.teardown(() => runtime.close());
  const wsUrl = `ws://127.0.0.1:${runtime.w2.port}/sip`;
  // Every request epcscf sends on Mw (the P-CSCF's monitoring tap).
  const onMw: string[] = [];
  runtime.pcscf.observer.on('mw', (e) => { if (e.direction === 'out' && e.message.kind === 'request') onMw.push(`${e.message.method} ${e.message.uri}`); });

  const oldKid = wwsf.currentKid;
  const aliceToken = await login(wwsf, 'alice');
  const carolOldToken = await login(wwsf, 'carol');
  t.same(await register(t, wsUrl, wwsf.origin, 'alice', aliceToken), { status: 200, reason: 'OK' }, 'the first key, fetched from the JWKS URL');

  const newKid = await wwsf.rotateKey();
  const bobToken = await login(wwsf, 'bob');
  t.equal(decodeProtectedHeader(bobToken).kid, newKid);
  t.same(await register(t, wsUrl, wwsf.origin, 'bob', bobToken), { status: 200, reason: 'OK' }, 'a token of the new key is accepted by the running epcscf');

  // The WWSF keeps the old key published for its grace, then drops it; epcscf's copy goes stale.
  await new Promise((resolve) => setTimeout(resolve, KEY_GRACE_SECONDS * 1000 + 1_200));
  const published = (await (await fetch(wwsf.jwksUrl)).json()) as { keys: { kid: string }[] };
  t.same(published.keys.map((k) => k.kid), [newKid], `the WWSF no longer publishes ${oldKid}`);
  const before = onMw.length;
  t.same(await register(t, wsUrl, wwsf.origin, 'carol', carolOldToken), { status: 403, reason: TOKEN_REFUSAL_REASONS.key_unknown }, 'a token of the removed key is refused');
  t.same(onMw.slice(before), [], 'nothing on Mw for it');
  t.equal(runtime.devCore?.location.bindings('carol').length, 0, 'carol is not registered in the IMS core');
  t.same(await register(t, wsUrl, wwsf.origin, 'bob', await login(wwsf, 'bob')), { status: 200, reason: 'OK' }, 'the current key still works');
});
