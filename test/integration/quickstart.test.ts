/**
 * `npm start` as a newcomer runs it (the real process: npm → examples/quickstart/start.mjs), on
 * ports of its own: the banner names the WIC URL first, the WWSF serves the WIC, /config.json and
 * its web login, and the token it hands out registers a SIP-over-WebSocket WIC through epcscf into
 * the dev IMS core as a trusted node (TS 24.371 scenarios 2 and 3); SIGTERM stops it with exit 0.
 */
import t from 'tap';
import type { Test } from 'tap';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RawSipWsClient } from '../support/sip-ws-stack.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const FLAGS = ['--http-port', '0', '--w2-port', '0', '--mw-port', '0', '--dev-core-port', '0'];

interface Running {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

function npmStart(t: Test, args: readonly string[]): Running {
  // EPCSCF_FROM_SOURCE: the code of this checkout, not a dist/ from an older build.
  const child = spawn('npm', ['start', '--silent', '--', ...args], { cwd: REPO, env: { ...process.env, EPCSCF_FROM_SOURCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const running: Running = { child, stdout: '', stderr: '', exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
  child.stdout?.on('data', (chunk: Buffer) => { running.stdout += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { running.stderr += chunk.toString(); });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return running;
}

async function waitFor(running: Running, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = running.stdout.match(pattern);
    if (match) return match;
    if (running.child.exitCode !== null) throw new Error(`npm start exited ${running.child.exitCode}:\n${running.stdout}\n${running.stderr}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${running.stdout}\n${running.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function webLogin(origin: string, user: string, password: string): Promise<Record<string, unknown>> {
  const { status, body } = await json(`${origin}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password }) });
  if (status !== 200) throw new Error(`login ${user}: ${status} ${JSON.stringify(body)}`);
  return body;
}

async function registerWithToken(client: RawSipWsClient, user: string, token: string): Promise<{ status: number; reason: string }> {
  const callId = `quickstart-${user}-${Date.now()}`;
  client.send([
    'REGISTER sip:ims.test SIP/2.0', `Via: SIP/2.0/WS ${user}.invalid;branch=z9hG4bK${callId}`, 'Max-Forwards: 70',
    `From: <sip:${user}@ims.test>;tag=q${user}`, `To: <sip:${user}@ims.test>`, `Call-ID: ${callId}`, 'CSeq: 1 REGISTER',
    `Contact: <sip:${user}@${user}.invalid;transport=ws>;+sip.instance="<urn:uuid:00000000-0000-4000-8000-00000000000${user.length}>";reg-id=1`,
    'Supported: path, outbound', 'Expires: 600', `Authorization: Bearer ${token}`,
  ]);
  const response = await client.response(callId, 'REGISTER');
  return { status: response.status, reason: response.reason };
}

t.test('package.json: `npm start` runs the quickstart, `epcscf` stays the operators\' command', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
  t.equal(pkg.scripts['start'], 'exec node examples/quickstart/start.mjs', 'exec: npm forwards SIGTERM to the process itself');
  t.equal(pkg.bin['epcscf'], 'core/cli/epcscf.mjs');
});

t.test('npm start: WIC URL printed first; WIC, /config.json and web login served; the token registers alice and a guest through epcscf; SIGTERM exits 0', async (t) => {
  const run = npmStart(t, FLAGS);
  await waitFor(run, /Ctrl-C stops it\./);
  const [firstLine] = run.stdout.split('\n');
  const first = /^epcscf quickstart: open (http:\/\/127\.0\.0\.1:(\d+)\/) in two browser tabs, log in as alice in one and bob in the other, and call$/.exec(firstLine ?? '');
  t.ok(first, `the first line names the page to open: ${firstLine}`);
  const wicUrl = first?.[1] as string;
  t.not(first?.[2], '0', 'the port actually bound is printed');
  t.match(run.stdout, `\n  WIC: ${wicUrl}\n`);
  const origin = wicUrl.slice(0, -1);
  t.match(run.stdout, `\n  WWSF JWKS: ${origin}/.well-known/jwks.json\n`);
  const w2 = Object.fromEntries([...run.stdout.matchAll(/^ {2}W2 (\S+): (ws:\/\/\S+)/gm)].map((m) => [m[1], m[2]]));
  t.same(Object.keys(w2).sort(), ['jsonrpc-ws', 'sip-ws', 'xmpp-ws'], 'all three plugins');
  t.notMatch(run.stdout, /:0\//, 'no port 0 in any URL');
  t.notMatch(run.stdout + run.stderr, /"level":(50|60)|ERROR/, 'no error logged on the way up');

  const page = await fetch(wicUrl);
  t.equal(page.status, 200, 'the WIC');
  t.match(page.headers.get('content-type'), /^text\/html/);
  await page.text();
  const config = await json(`${origin}/config.json`);
  t.same(config, { status: 200, body: { domain: 'ims.test', endpoints: w2, authModes: ['web', 'digest'] } }, '/config.json names the W2 URLs epcscf listens on');

  const alice = await webLogin(origin, 'alice', 'alicepw');
  t.match(alice, { impi: 'alice@ims.test', impu: 'sip:alice@ims.test' });
  const page1 = await RawSipWsClient.open(t, w2['sip-ws'] as string, { origin });
  t.same(await registerWithToken(page1, 'alice', alice['token'] as string), { status: 200, reason: 'OK' }, 'scenario 2: the WWSF token registers alice, no challenge');

  const guest = await webLogin(origin, 'guest', '');
  t.equal(guest['impu'], 'sip:guest1@ims.test');
  const page2 = await RawSipWsClient.open(t, w2['sip-ws'] as string, { origin });
  t.same(await registerWithToken(page2, 'guest1', guest['token'] as string), { status: 200, reason: 'OK' }, 'scenario 3: the pooled guest IMPU registers');
  t.same(await registerWithToken(page2, 'bob', guest['token'] as string), { status: 403, reason: 'Token IMPU mismatch' }, 'a guest token is no good for another IMPU');

  const elsewhere = await RawSipWsClient.open(t, w2['sip-ws'] as string, { origin: 'http://127.0.0.1:1' }).catch((error: Error) => error);
  t.type(elsewhere, Error, 'a page of another origin is refused at the WebSocket handshake (w2.allowedOrigins = the WWSF)');

  page1.close();
  page2.close();
  run.child.kill('SIGTERM');
  t.equal(await run.exited, 0, 'SIGTERM: clean shutdown, exit 0');
  t.match(run.stdout, /epcscf quickstart: stopped/);
});

t.test('npm start -- --help prints the flags; a bad flag fails with exit 1 and says why', async (t) => {
  const help = npmStart(t, ['--help']);
  t.equal(await help.exited, 0);
  t.match(help.stdout, /--http-port N[\s\S]*--w2-port N[\s\S]*--mw-port N[\s\S]*--dev-core-port N/);
  const bad = npmStart(t, ['--w2-port', 'eighty']);
  t.equal(await bad.exited, 1);
  t.match(bad.stderr, /npm start: EPC_ERR_CONFIG_INVALID: --w2-port: expected a port 0\.\.65535 \(got "eighty"\)/);
});
