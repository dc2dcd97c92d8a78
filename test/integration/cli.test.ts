/**
 * `epcscf` as a user runs it: `node core/cli/epcscf.mjs --config FILE` in a child process, on
 * free loopback ports, with the embedded dev IMS core.
 */
import t from 'tap';
import type { Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import {
  answerChallenge, authValues, formatAuth, generateCallId, generateTag, getHeader, parseMessage, pickChallenge,
  type SipResponse,
} from '../../core/sip/index.js';
import { allocatePorts } from '../support/peers/ports.js';

const LAUNCHER = fileURLToPath(new URL('../../core/cli/epcscf.mjs', import.meta.url));

interface Running {
  readonly child: ChildProcess;
  output: string;
  readonly exited: Promise<number | null>;
}

function run(t: Test, args: string[]): Running {
  // EPCSCF_FROM_SOURCE: test the code in this checkout, not a dist/ from an older build.
  const child = spawn(process.execPath, [LAUNCHER, ...args], { env: { ...process.env, EPCSCF_FROM_SOURCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const running: Running = {
    child,
    output: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout?.on('data', (chunk: Buffer) => { running.output += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { running.output += chunk.toString(); });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return running;
}

async function waitFor(running: Running, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = running.output.match(pattern);
    if (match) return match;
    if (running.child.exitCode !== null) throw new Error(`epcscf exited ${running.child.exitCode}:\n${running.output}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${running.output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-cli-'));
  const file = join(dir, 'epcscf.yaml');
  writeFileSync(file, text);
  return file;
}

function nextSipMessage(ws: WebSocket): Promise<SipResponse> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no SIP message within 5 s')), 5000);
    ws.once('message', (data: Buffer) => {
      clearTimeout(timer);
      const message = parseMessage(data, { datagram: true });
      if (message.kind === 'response') resolve(message);
      else reject(new Error(`expected a response, got ${message.method}`));
    });
  });
}

function register(callId: string, cseq: number, authorization?: string): string {
  return [
    'REGISTER sip:ims.test SIP/2.0',
    `Via: SIP/2.0/WS cli${cseq}.invalid;branch=z9hG4bK${generateTag()}`,
    'Max-Forwards: 70',
    `From: <sip:alice@ims.test>;tag=${generateTag()}`,
    'To: <sip:alice@ims.test>',
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} REGISTER`,
    'Contact: <sip:alice@cli.invalid;transport=ws>;+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000001>";reg-id=1',
    'Supported: path, outbound',
    'Expires: 300',
    ...(authorization !== undefined ? [`Authorization: ${authorization}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

t.test('npx epcscf --config FILE: prints the W2 URL, registers alice through the dev core (401 then 200), SIGINT exits 0', async (t) => {
  const [w2Port, mwPort] = await allocatePorts(2);
  const config = writeConfig([
    `w2: { listen: "127.0.0.1:${w2Port}" }`,
    'plugins: [ { name: sip-ws } ]',
    `mw: { listen: ["udp:127.0.0.1:${mwPort}"], domain: ims.test }`,
    'log: { level: warn }',
  ].join('\n'));
  const epcscf = run(t, ['--config', config, '--dev-core-port', '0']);
  const [, url] = await waitFor(epcscf, /W2 sip-ws: (ws:\/\/\S+)/);
  t.equal(url, `ws://127.0.0.1:${w2Port}/sip`);
  t.match(epcscf.output, `Mw: udp:127.0.0.1:${mwPort}`);
  t.match(epcscf.output, /alice \/ alicepw/, 'the dev users are printed');

  const ws = new WebSocket(url as string, 'sip');
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  t.equal(ws.protocol, 'sip', 'RFC 7118 §4.1: subprotocol echoed');

  const callId = generateCallId();
  const challengeReply = nextSipMessage(ws);
  ws.send(register(callId, 1));
  const challenged = await challengeReply;
  t.equal(challenged.status, 401, 'the dev core challenge is relayed');
  const challenge = pickChallenge(authValues(challenged, 'WWW-Authenticate'));
  t.ok(challenge);
  const credentials = answerChallenge(challenge!, { method: 'REGISTER', uri: 'sip:ims.test', username: 'alice', password: 'alicepw' });
  const okReply = nextSipMessage(ws);
  ws.send(register(callId, 2, formatAuth(credentials)));
  const ok = await okReply;
  t.equal(ok.status, 200, 'registered');
  t.ok(getHeader(ok, 'Service-Route'), 'Service-Route reaches the client');

  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  epcscf.child.kill('SIGINT');
  const started = Date.now();
  t.equal(await epcscf.exited, 0, 'exit code 0');
  t.ok(Date.now() - started < 5000, 'within a few seconds');
  t.equal(await closed, 1001, 'RFC 6455 §7.4.1: the client is told the server is going away');
  t.match(epcscf.output, 'epcscf: stopped');
});

t.test('a bad config exits 1 with the coded error naming the bad key', async (t) => {
  const config = writeConfig(['w2: { listen: "127.0.0.1:0" }', 'mw: { listen: ["sctp:127.0.0.1:5060"] }'].join('\n'));
  const epcscf = run(t, ['--config', config]);
  t.equal(await epcscf.exited, 1);
  t.match(epcscf.output, /EPC_ERR_CONFIG_INVALID/);
  t.match(epcscf.output, /mw\.listen\[0\]/);
});

t.test('an unknown flag exits 1 with the usage', async (t) => {
  const epcscf = run(t, ['--frobnicate']);
  t.equal(await epcscf.exited, 1);
  t.match(epcscf.output, /unknown argument "--frobnicate"/);
  t.match(epcscf.output, /usage: epcscf/);
});

t.test('a missing config file exits 1 naming the file', async (t) => {
  const epcscf = run(t, ['--config', '/nonexistent/epcscf.yaml']);
  t.equal(await epcscf.exited, 1);
  t.match(epcscf.output, /EPC_ERR_CONFIG_INVALID: \/nonexistent\/epcscf\.yaml: cannot read/);
});
