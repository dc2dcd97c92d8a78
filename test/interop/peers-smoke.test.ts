import t from 'tap';
import WebSocket from 'ws';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KAMAILIO_CONFIGS, sipOptionsAnswered, startKamailio } from '../support/peers/kamailio.js';
import { allocatePorts, releasePort } from '../support/peers/ports.js';
import { portBound } from '../support/peers/process.js';
import { SIPP_SCENARIOS, runSipp, startSippUas } from '../support/peers/sipp.js';

const DOMAIN_ARGS = ['-key', 'domain', 'ims.test', '-i', '127.0.0.1'];

t.test('port allocator: distinct ports, each locked for this process until released', async (t) => {
  const ports = await allocatePorts(4);
  t.equal(new Set(ports).size, 4);
  for (const port of ports) {
    t.ok(port >= 20000 && port < 32000, `${port} is below the ephemeral range`);
    t.ok(existsSync(join(tmpdir(), 'epcscf-test-ports', String(port))), `${port} has a lock file`);
  }
  for (const port of ports) releasePort(port);
  t.notOk(existsSync(join(tmpdir(), 'epcscf-test-ports', String(ports[0]))), 'released ports are unlocked');
});

t.test('RFC 3261 §22 + RFC 3327 + TS 24.229 5.4.1.2.2: the IMS core stand-in registers sipp with digest, Path and Service-Route', async (t) => {
  const [sipPort = 0, uacPort = 0, uasPort = 0, callerPort = 0] = await allocatePorts(4);
  const kamailio = await startKamailio({ config: KAMAILIO_CONFIGS.imsCore, defines: { SIP_PORT: sipPort } });
  t.teardown(async () => {
    await kamailio.stop();
    for (const p of [sipPort, uacPort, uasPort, callerPort]) releasePort(p);
  });
  t.ok(await sipOptionsAnswered(sipPort), 'kamailio answers OPTIONS once started');
  t.ok(portBound('tcp', sipPort), 'and listens on TCP too');

  const register = (user: string, password: string, localPort: number, extra: string[] = []) => runSipp([
    `127.0.0.1:${sipPort}`, '-sf', SIPP_SCENARIOS.registerAuth, '-m', '1', '-s', user, '-au', user, '-ap', password,
    ...DOMAIN_ARGS, '-p', String(localPort), '-timeout', '5', ...extra,
  ], { timeoutMs: 10_000 });

  const alice = await register('alice', 'alicepw', uacPort);
  t.equal(alice.code, 0, 'alice/alicepw registers (401 then 200 with Service-Route, P-Associated-URI, Path)');
  if (alice.code !== 0) t.comment(alice.stdout.slice(-1500), kamailio.output().slice(-1500));
  t.same(alice.stats, { created: 1, successful: 1, failed: 0 });

  const aliceTcp = await register('alice', 'alicepw', uacPort, ['-t', 't1']);
  t.equal(aliceTcp.code, 0, 'the same over TCP');

  const wrong = await register('alice', 'secret', uacPort);
  t.equal(wrong.code, 1, 'a wrong password stays at 401');
  t.same(wrong.stats, { created: 1, successful: 0, failed: 1 });

  // bob registers with its Contact and Path on uasPort; a sipp UAS then takes that port.
  const bob = await register('bob', 'secret', uasPort);
  t.equal(bob.code, 0, 'any other user registers with "secret"');
  const uas = await startSippUas({ port: uasPort, calls: 1 });
  t.teardown(() => uas.stop().then(() => undefined));
  const call = await runSipp([
    `127.0.0.1:${sipPort}`, '-sf', SIPP_SCENARIOS.uacRecordRoute, '-m', '1', '-s', 'bob', ...DOMAIN_ARGS,
    '-p', String(callerPort), '-d', '200', '-timeout', '8',
  ], { timeoutMs: 12_000 });
  t.equal(call.code, 0, 'INVITE to bob follows the stored Path, ACK/BYE follow Record-Route');
  if (call.code !== 0) t.comment(call.stdout.slice(-1500), uas.output().slice(-1500), kamailio.output().slice(-1500));
  t.same(call.stats, { created: 1, successful: 1, failed: 0 });
  const uasExit = await Promise.race([uas.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 3000).unref())]);
  t.equal(uasExit?.code, 0, 'the UAS saw its one call complete');
});

t.test('RFC 7118 §4: the WS registrar variant starts and accepts a WebSocket with the "sip" subprotocol', async (t) => {
  const [sipPort = 0, wsPort = 0] = await allocatePorts(2);
  const kamailio = await startKamailio({
    config: KAMAILIO_CONFIGS.wsRegistrar, defines: { SIP_PORT: sipPort, WS_PORT: wsPort },
    alsoReady: [{ kind: 'port', protocol: 'tcp', port: wsPort }],
  });
  t.teardown(async () => { await kamailio.stop(); releasePort(sipPort); releasePort(wsPort); });
  const protocol = await new Promise<string>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/`, ['sip']);
    ws.once('open', () => { resolve(ws.protocol); ws.close(); });
    ws.once('error', reject);
  });
  t.equal(protocol, 'sip', 'the subprotocol is echoed');
});
