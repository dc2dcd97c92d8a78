/**
 * Issue #15 "Several nodes": media gateways as a pool behind ng. Two real `epcscf-media-gw`
 * processes behind one P-CSCF (media.ng.pool): calls spread over both; SIGKILL one → the calls it
 * carried are released both ways (BYE toward the IMS and the WIC, R-AGW-4) while the other's
 * stay up, and new calls go to the survivor; restart it → it rejoins and takes new calls again.
 */
import t, { type Test } from 'tap';
import pino from 'pino';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../core/config/index.js';
import { mediaFromConfig } from '../../core/pcscf/alg/configured-media.js';
import type { MediaPool } from '../../core/pcscf/alg/media-pool.js';
import type { Pcscf } from '../../core/pcscf/index.js';
import { createRequest, createResponse, getHeader, getHeaders, setHeader, type SipMessage, type SipRequest, type SipResponse } from '../../core/sip/index.js';
import { createAckForNonSuccess } from '../../core/sip/transaction/index.js';
import { NgClient } from '../../media-gw/ng/index.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { startDaemon, type Daemon } from '../support/peers/process.js';
import { invite, registered, wicVia } from '../support/pcscf-rig.js';
import { CHROME_AUDIO_OFFER, plainRtpAnswer } from '../unit/ng/ims-alg-requests.js';

const LAUNCHER = new URL('../../media-gw/cli/epcscf-media-gw.mjs', import.meta.url).pathname;
const ENV = { ...process.env, EPCSCF_FROM_SOURCE: '1' };
const dir = mkdtempSync(join(tmpdir(), 'epcscf-media-pool-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** One epcscf-media-gw process on its own ng port and media port ranges. */
async function startGateway(name: string, ngPort: number, firstMediaPort: number): Promise<Daemon> {
  const config = join(dir, `${name}.yaml`);
  writeFileSync(config, [
    'media:',
    '  gateway:',
    `    webrtc: { host: 127.0.0.1, ports: { min: ${firstMediaPort}, max: ${firstMediaPort + 49} } }`,
    `    ims: { host: 127.0.0.1, ports: { min: ${firstMediaPort + 50}, max: ${firstMediaPort + 99} } }`,
    '  ngListen: 127.0.0.1:1', // overridden by --ng-listen
    'log: { level: warn }',
    '',
  ].join('\n'));
  return startDaemon({
    name, command: process.execPath, args: [LAUNCHER, '--config', config, '--ng-listen', `127.0.0.1:${ngPort}`], env: ENV,
    ready: { kind: 'log', pattern: /epcscf-media-gw ng listening on udp:/ }, readyTimeoutMs: 20_000,
  });
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Two gateway processes (ng on allocated ports, media from `firstMediaPortA` / `firstMediaPortB`)
 * as one pool (media.ng.pool, pings every 0.2 s, down after 2 unanswered) behind a P-CSCF with
 * alice registered over conn-1.
 */
async function poolRig(t: Test, firstMediaPortA: number, firstMediaPortB: number) {
  const [portA, portB] = [await allocatePort(), await allocatePort()];
  t.teardown(() => { releasePort(portA); releasePort(portB); });
  const gatewayA = await startGateway('gw-a', portA, firstMediaPortA);
  const gatewayB = await startGateway('gw-b', portB, firstMediaPortB);
  t.teardown(async () => { await gatewayA.stop(); await gatewayB.stop(); });
  const nameA = `ng:127.0.0.1:${portA}`;
  const nameB = `ng:127.0.0.1:${portB}`;

  const config = resolveConfig({ media: { mode: 'ng', ng: {
    pool: [`127.0.0.1:${portA}`, `127.0.0.1:${portB}`], timeoutMs: 300, retries: 1,
    health: { intervalSeconds: 0.2, downAfterFailures: 2, upAfterSuccesses: 2 },
  } } }, { configDir: dir, env: {} });
  let pcscfRef: Pcscf | undefined;
  const media = await mediaFromConfig(config.media, pino({ level: 'silent' }), (ngCallId, kind) => void pcscfRef?.onMediaEvent(ngCallId, kind));
  if (media === undefined) throw new Error('no media control');
  const pool = media.control as MediaPool;
  t.match(media.description, `ng pool udp:127.0.0.1:${portA}, udp:127.0.0.1:${portB}`);
  const { core, pcscf, wic, registerAtCore } = await registered(t, { media: pool });
  pcscfRef = pcscf;
  const flowKey = pcscf.flows()[0]?.flow ?? '';
  const ngCallId = (callId: string, direction: 'o' | 't' = 'o'): string => `${callId}~${direction}~${flowKey}`;
  const probes = new Map([[nameA, new NgClient({ address: '127.0.0.1', port: portA, timeoutMs: 1_000, retries: 1 })], [nameB, new NgClient({ address: '127.0.0.1', port: portB, timeoutMs: 1_000, retries: 1 })]]);
  t.teardown(() => Promise.all([...probes.values()].map((p) => p.close())));
  /** Does the gateway process itself hold the call? (ng query) */
  const holds = (gateway: string, callId: string): Promise<boolean> =>
    (probes.get(gateway) as NgClient).query({ callId: ngCallId(callId) }).then(() => true, () => false);

  let n = 0;
  /** Alice calls; the core answers `status` (200: the call is up; 180: it rings) with its SDP. */
  const call = async (callId: string, status = 200): Promise<{ atCore: SipRequest; atWic: SipMessage }> => {
    n++;
    let request = setHeader(invite(`<sip:alice@ims.test>;tag=${callId}-a`), 'Call-ID', callId);
    request = setHeader(request, 'Via', wicVia(`inv-${callId}`));
    await pcscf.fromClient('conn-1', { ...request, body: new TextEncoder().encode(CHROME_AUDIO_OFFER) });
    const atCore = await core.next<SipRequest>((m) => m.kind === 'request' && m.method === 'INVITE' && getHeader(m, 'Call-ID') === callId, 8_000);
    core.answer(atCore, status, { toTag: `${callId}-b`, body: plainRtpAnswer('127.0.0.1', 30000 + 2 * n), contentType: 'application/sdp',
      headers: [['Contact', `<sip:bob@127.0.0.1:${core.port}>`], ['Record-Route', getHeaders(atCore, 'Record-Route').join(', ')]] });
    const atWic = await wic.next((m) => m.kind === 'response' && m.status === status && getHeader(m, 'Call-ID') === callId);
    return { atCore, atWic };
  };
  return { pool, core, pcscf, wic, registerAtCore, portA, nameA, nameB, gatewayA, gatewayB, ngCallId, holds, call };
}

t.test('issue #15: calls spread over two media gateways; a dead one\'s calls are released both ways (R-AGW-4), new calls go to the other; it rejoins', async (t) => {
  const rig = await poolRig(t, 39000, 39150);
  const { pool, core, pcscf, wic, nameA, nameB, portA, ngCallId, holds, call } = rig;
  let gatewayA = rig.gatewayA;

  // Spread: four calls, two on each gateway process.
  const first = ['call-1', 'call-2', 'call-3', 'call-4'];
  for (const id of first) await call(id);
  t.same(pool.gateways().map((g) => [g.name, g.up, g.calls]), [[nameA, true, 2], [nameB, true, 2]], 'two calls on each gateway');
  const onA = first.filter((id) => pool.gatewayOf(ngCallId(id)) === nameA);
  const onB = first.filter((id) => pool.gatewayOf(ngCallId(id)) === nameB);
  for (const id of onA) t.ok(await holds(nameA, id) && !(await holds(nameB, id)), `${id} lives in gateway A's process only`);
  for (const id of onB) t.ok(await holds(nameB, id) && !(await holds(nameA, id)), `${id} lives in gateway B's process only`);

  // Kill A: its calls are released both ways with a Reason; B's stay up.
  process.kill(-gatewayA.pid, 'SIGKILL');
  await gatewayA.exited;
  const byesAtCore: string[] = [];
  const byesAtWic: string[] = [];
  for (let i = 0; i < onA.length; i++) {
    const bye = await core.next<SipRequest>((m) => m.kind === 'request' && m.method === 'BYE', 8_000);
    t.match(getHeader(bye, 'Reason') ?? '', /^SIP;cause=503;text="media gateway-down"$/, 'BYE toward the IMS says why');
    byesAtCore.push(getHeader(bye, 'Call-ID') ?? '');
    core.answer(bye, 200);
    const atWic = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'BYE');
    t.match(getHeader(atWic, 'Reason') ?? '', /media gateway-down/, 'BYE toward the WIC says why');
    byesAtWic.push(getHeader(atWic, 'Call-ID') ?? '');
    await pcscf.fromClient('conn-1', createResponse(atWic, 200, 'OK'));
  }
  t.same(byesAtCore.sort(), [...onA].sort(), 'the IMS side of each of A\'s calls got BYE');
  t.same(byesAtWic.sort(), [...onA].sort(), 'and the WIC side');
  t.same(pool.gateways().map((g) => [g.up, g.calls]), [[false, 0], [true, 2]], 'A is out of the pool');
  const left = (await pcscf.dialogs.all()).map((d) => d.callId).sort();
  t.same(left, [...onB].sort(), 'B\'s calls are still up');
  for (const id of onB) t.ok(await holds(nameB, id), `${id} still relayed by B`);

  // New calls go to B.
  await call('call-5');
  t.equal(pool.gatewayOf(ngCallId('call-5')), nameB, 'a new call goes to the gateway left');
  t.ok(await holds(nameB, 'call-5'), 'and B\'s process holds it');

  // Restart A on its ng port: after two answered pings it is back and, least loaded, takes the next call.
  gatewayA = await startGateway('gw-a', portA, 39000);
  t.teardown(() => gatewayA.stop());
  await waitFor('gateway A back in the pool', () => pool.gateways()[0]?.up === true);
  await call('call-6');
  t.equal(pool.gatewayOf(ngCallId('call-6')), nameA, 'the rejoined gateway takes new calls');
  t.ok(await holds(nameA, 'call-6'), 'in the restarted process');
});

t.test('issue #15 / R-AGW-4: calls still in setup on a gateway that dies end cleanly: the caller gets 503 "media gateway lost" and the callee a CANCEL, each way; nothing is left behind', async (t) => {
  const { pool, core, pcscf, wic, registerAtCore, nameA, nameB, gatewayA, ngCallId, call } = await poolRig(t, 39300, 39450);

  // Originating: alice's call rings at the far end (180 from the IMS, no final yet).
  const { atCore: ringingAtCore } = await call('setup-o', 180);
  // A confirmed call in between, so the next new call goes to gateway A again (fewest calls, in turn).
  await call('up-1');
  // Terminating: the IMS calls alice with an offer; her WIC rings.
  const incoming = createRequest({ method: 'INVITE', uri: 'sip:alice@df7jal23ls0d.invalid;transport=ws', headers: [
    ['Via', `SIP/2.0/UDP 127.0.0.1:${core.port};branch=z9hG4bKsetup-t`], ['Max-Forwards', '68'], ['Route', getHeader(registerAtCore, 'Path') ?? ''],
    ['Record-Route', `<sip:127.0.0.1:${core.port};lr>`], ['From', '<sip:carol@ims.test>;tag=c1'], ['To', '<sip:alice@ims.test>'],
    ['Call-ID', 'setup-t'], ['CSeq', '1 INVITE'], ['Contact', `<sip:carol@127.0.0.1:${core.port}>`], ['Content-Type', 'application/sdp'],
  ], body: plainRtpAnswer('127.0.0.1', 30100) });
  core.send(incoming);
  const invitedWic = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'INVITE' && getHeader(m, 'Call-ID') === 'setup-t');
  await pcscf.fromClient('conn-1', createResponse(invitedWic, 180, 'Ringing', { toTag: 'w-t' }));
  await core.response(180, 'INVITE');
  t.equal(pool.gatewayOf(ngCallId('setup-o')), nameA, 'the ringing originating call is on gateway A');
  t.equal(pool.gatewayOf(ngCallId('setup-t', 't')), nameA, 'so is the ringing terminating call');
  t.equal(pool.gatewayOf(ngCallId('up-1')), nameB, 'the confirmed call is on B');

  process.kill(-gatewayA.pid, 'SIGKILL');
  await gatewayA.exited;

  // Originating: the WIC is told at once; the IMS's branch is cancelled (RFC 3261 §9.1) and ends 487.
  const failed = await wic.next<SipResponse>((m) => m.kind === 'response' && getHeader(m, 'Call-ID') === 'setup-o' && m.status >= 300);
  t.equal(failed.status, 503, 'the caller\'s INVITE fails 503');
  t.equal(failed.reason, 'Service Unavailable - media gateway lost', 'with a reason phrase that says why');
  t.ok(getHeader(failed, 'Retry-After'), 'and when to try again (new calls go to a live gateway)');
  const cancel = await core.next<SipRequest>((m) => m.kind === 'request' && m.method === 'CANCEL' && getHeader(m, 'Call-ID') === 'setup-o', 8_000);
  t.equal(getHeaders(cancel, 'Via')[0]?.split('branch=')[1], getHeaders(ringingAtCore, 'Via')[0]?.split('branch=')[1], 'the CANCEL toward the IMS names the pending INVITE (RFC 3261 §9.1)');
  core.answer(cancel, 200);
  core.answer(ringingAtCore, 487, { toTag: 'setup-o-b' });
  t.ok(await core.next((m) => m.kind === 'request' && m.method === 'ACK' && getHeader(m, 'Call-ID') === 'setup-o'), 'the 487 is acknowledged');

  // Terminating: the IMS is told 503; the WIC's ringing INVITE is cancelled.
  const refused = await core.next<SipResponse>((m) => m.kind === 'response' && getHeader(m, 'Call-ID') === 'setup-t' && m.status >= 300, 8_000);
  t.equal(refused.status, 503, 'the IMS\'s INVITE fails 503');
  t.equal(refused.reason, 'Service Unavailable - media gateway lost');
  t.notOk(getHeader(refused, 'Retry-After'), 'without Retry-After: the IMS must not take this P-CSCF for overloaded (RFC 3261 §21.5.4)');
  core.send(createAckForNonSuccess(incoming, refused));
  const cancelAtWic = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'CANCEL' && getHeader(m, 'Call-ID') === 'setup-t');
  await pcscf.fromClient('conn-1', createResponse(cancelAtWic, 200, 'OK'));
  await pcscf.fromClient('conn-1', createResponse(invitedWic, 487, 'Request Terminated', { toTag: 'w-t' }));

  await waitFor('the setups to be forgotten', () => pcscf.mediaLegCount === 1, 5_000);
  t.same((await pcscf.dialogs.all()).map((d) => d.callId), ['up-1'], 'only the confirmed call on B is left in the dialog store');
  t.equal(pcscf.mediaLegCount, 1, 'and in the media legs');
  t.same(pool.gateways().map((g) => [g.name, g.up, g.calls]), [[nameA, false, 0], [nameB, true, 1]]);
  t.notOk(core.received.some((m) => m.kind === 'response' && getHeader(m, 'Call-ID') === 'setup-t' && m.status === 487), 'the WIC\'s 487 is not relayed after the 503 (one final per INVITE)');
});
