/**
 * Issue #15 "Several nodes": media gateways as a pool behind ng. Two real `epcscf-media-gw`
 * processes behind one P-CSCF (media.ng.pool): calls spread over both; SIGKILL one → the calls it
 * carried are released both ways (BYE toward the IMS and the WIC, R-AGW-4) while the other's
 * stay up, and new calls go to the survivor; restart it → it rejoins and takes new calls again.
 */
import t from 'tap';
import pino from 'pino';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../core/config/index.js';
import { mediaFromConfig } from '../../core/pcscf/alg/configured-media.js';
import type { MediaPool } from '../../core/pcscf/alg/media-pool.js';
import type { Pcscf } from '../../core/pcscf/index.js';
import { createResponse, getHeader, getHeaders, setHeader, type SipRequest } from '../../core/sip/index.js';
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

t.test('issue #15: calls spread over two media gateways; a dead one\'s calls are released both ways (R-AGW-4), new calls go to the other; it rejoins', async (t) => {
  const [portA, portB] = [await allocatePort(), await allocatePort()];
  t.teardown(() => { releasePort(portA); releasePort(portB); });
  let gatewayA = await startGateway('gw-a', portA, 39000);
  const gatewayB = await startGateway('gw-b', portB, 39150);
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
  const { core, pcscf, wic } = await registered(t, { media: pool });
  pcscfRef = pcscf;
  const flowKey = pcscf.flows()[0]?.flow ?? '';
  const ngCallId = (callId: string): string => `${callId}~o~${flowKey}`;
  const probes = new Map([[nameA, new NgClient({ address: '127.0.0.1', port: portA, timeoutMs: 1_000, retries: 1 })], [nameB, new NgClient({ address: '127.0.0.1', port: portB, timeoutMs: 1_000, retries: 1 })]]);
  t.teardown(() => Promise.all([...probes.values()].map((p) => p.close())));
  /** Does the gateway process itself hold the call? (ng query) */
  const holds = (gateway: string, callId: string): Promise<boolean> =>
    (probes.get(gateway) as NgClient).query({ callId: ngCallId(callId) }).then(() => true, () => false);

  let n = 0;
  const call = async (callId: string): Promise<void> => {
    n++;
    let request = setHeader(invite(`<sip:alice@ims.test>;tag=${callId}-a`), 'Call-ID', callId);
    request = setHeader(request, 'Via', wicVia(`inv-${callId}`));
    await pcscf.fromClient('conn-1', { ...request, body: new TextEncoder().encode(CHROME_AUDIO_OFFER) });
    const atCore = await core.next<SipRequest>((m) => m.kind === 'request' && m.method === 'INVITE' && getHeader(m, 'Call-ID') === callId, 8_000);
    core.answer(atCore, 200, { toTag: `${callId}-b`, body: plainRtpAnswer('127.0.0.1', 30000 + 2 * n), contentType: 'application/sdp',
      headers: [['Contact', `<sip:bob@127.0.0.1:${core.port}>`], ['Record-Route', getHeaders(atCore, 'Record-Route').join(', ')]] });
    await wic.next((m) => m.kind === 'response' && m.status === 200 && getHeader(m, 'Call-ID') === callId);
  };

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
  await waitFor('gateway A back in the pool', () => pool.gateways()[0]?.up === true);
  await call('call-6');
  t.equal(pool.gatewayOf(ngCallId('call-6')), nameA, 'the rejoined gateway takes new calls');
  t.ok(await holds(nameA, 'call-6'), 'in the restarted process');
});
