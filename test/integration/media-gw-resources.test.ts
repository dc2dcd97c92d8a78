import t from 'tap';
import { readdirSync } from 'node:fs';
import { RelayFactory } from '../../media-gw/relay/relay-factory.js';
import { sharedCertificate } from '../../media-gw/webrtc/certificate.js';
import { trackResources } from '../support/resource-tracker.js';

const FINGERPRINT = [{ algorithm: 'sha-256', value: '00'.repeat(32).match(/../g)!.join(':') }];
const openFds = (): number => readdirSync('/proc/self/fd').length;

t.test('issue #4 resource control: 1,000 create/delete cycles leave no socket, timer or fd behind', async (t) => {
  await sharedCertificate();
  const factory = new RelayFactory({ webrtcPorts: { min: 36000, max: 36199 }, imsPorts: { min: 36200, max: 36399 } });
  const fdsBefore = openFds();
  const tracker = trackResources();
  t.teardown(() => tracker.stop());
  for (let i = 0; i < 1000; i++) {
    const relay = await factory.create({
      dtlsRole: i % 2 === 0 ? 'server' : 'client',
      remoteFingerprints: FINGERPRINT,
      streams: [{ payloadTypes: [0], rtcpMux: i % 3 === 0, remoteRtp: { address: '127.0.0.1', port: 9 } }],
    });
    await relay.close();
    if (i % 100 === 0) await relay.close(); // close() is idempotent
  }
  tracker.freeze();
  await new Promise((r) => setTimeout(r, 100));
  const after = tracker.live();
  t.equal(factory.size, 0, 'the factory tracks no live call');
  t.equal(after['UDPWRAP'] ?? 0, 0, 'no UDP socket left open (3,000+ were opened)');
  t.equal(after['Timeout'] ?? 0, 0, 'no consent, idle or DTLS handshake timer left');
  t.ok(openFds() <= fdsBefore + 2, `open fds ${openFds()} vs ${fdsBefore} before`);
});

t.test('issue #4 resource control: the per-gateway call limit refuses the call beyond it', async (t) => {
  const factory = new RelayFactory({ webrtcPorts: { min: 36400, max: 36449 }, imsPorts: { min: 36450, max: 36499 }, maxCalls: 2 });
  t.teardown(() => factory.closeAll());
  const spec = { dtlsRole: 'server' as const, remoteFingerprints: FINGERPRINT, streams: [{ payloadTypes: [0] }] };
  await factory.create(spec);
  const second = await factory.create(spec);
  await t.rejects(factory.create(spec), { code: 'EPC_ERR_MEDIA', message: /call limit/ });
  await second.close();
  const third = await factory.create(spec);
  t.ok(third, 'a released slot can be used again');
});

t.test('issue #4: no RTP for the idle timeout raises onIdle once', async (t) => {
  const factory = new RelayFactory({ webrtcPorts: { min: 36500, max: 36549 }, imsPorts: { min: 36550, max: 36599 }, idleTimeoutMs: 150 });
  t.teardown(() => factory.closeAll());
  const relay = await factory.create({ dtlsRole: 'server', remoteFingerprints: FINGERPRINT, streams: [{ payloadTypes: [0] }] });
  let idle = 0;
  relay.delegate = { onIdle: () => { idle++; } };
  await new Promise((r) => setTimeout(r, 100));
  t.equal(idle, 0, 'not before the timeout');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(idle, 1, 'exactly once after it');
});
