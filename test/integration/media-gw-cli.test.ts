/**
 * `epcscf-media-gw` as its own process: the ng control protocol over UDP (ping, and the IMS-ALG's
 * offer/answer/delete through NgClient), SIGTERM → exit 0, a bad config → exit 1 with a coded error.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sdpTransform from 'sdp-transform';
import { NgClient } from '../../media-gw/ng/ng-client.js';
import { answerFromIms, offerFromWic } from '../../core/pcscf/alg/media-requests.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { runCommand, startDaemon } from '../support/peers/process.js';
import { ngPingAnswered } from '../support/peers/rtpengine.js';
import { CHROME_AUDIO_OFFER, plainRtpAnswer } from '../unit/ng/ims-alg-requests.js';

const LAUNCHER = new URL('../../media-gw/cli/epcscf-media-gw.mjs', import.meta.url).pathname;
const ENV = { ...process.env, EPCSCF_FROM_SOURCE: '1' };
const dir = mkdtempSync(join(tmpdir(), 'epcscf-media-gw-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('epcscf-media-gw: ng ping/offer/answer/delete over UDP; SIGTERM releases everything and exits 0', async (t) => {
  const ngPort = await allocatePort();
  t.teardown(() => releasePort(ngPort));
  const config = join(dir, 'media-gw.yaml');
  writeFileSync(config, [
    'media:',
    '  gateway:',
    '    webrtc: { host: 127.0.0.1, ports: { min: 38400, max: 38449 } }',
    '    ims: { host: 127.0.0.1, ports: { min: 38450, max: 38499 } }',
    '    maxCalls: 10',
    '  ngListen: 127.0.0.1:1', // overridden by --ng-listen
    'log: { level: warn }',
    '',
  ].join('\n'));
  const daemon = await startDaemon({
    name: 'epcscf-media-gw',
    command: process.execPath,
    args: [LAUNCHER, '--config', config, '--ng-listen', `127.0.0.1:${ngPort}`],
    env: ENV,
    ready: { kind: 'log', pattern: /epcscf-media-gw ng listening on udp:127\.0\.0\.1:\d+/ },
    readyTimeoutMs: 15_000,
  });
  t.teardown(() => daemon.stop());
  t.match(daemon.output(), `epcscf-media-gw ng listening on udp:127.0.0.1:${ngPort}`, 'the ready line names the ng address');

  t.ok(await ngPingAnswered(ngPort), 'raw bencode ping → pong');
  const client = new NgClient({ address: '127.0.0.1', port: ngPort, timeoutMs: 2_000, retries: 1 });
  t.teardown(() => client.close());
  const tags = { callId: 'cli-call', fromTag: 'wic' };
  const offer = await client.offer(offerFromWic(tags, CHROME_AUDIO_OFFER));
  const imsMedia = sdpTransform.parse(offer.sdp).media[0];
  t.equal(imsMedia?.protocol, 'RTP/AVP', 'offer: plain RTP toward IMS');
  t.ok((imsMedia?.port ?? 0) >= 38450 && (imsMedia?.port ?? 0) <= 38499, 'on the configured IMS range');
  const answer = await client.answer(answerFromIms({ ...tags, toTag: 'ims' }, plainRtpAnswer('127.0.0.1', 4000)));
  const wicMedia = sdpTransform.parse(answer.sdp).media[0];
  t.equal(wicMedia?.protocol, 'UDP/TLS/RTP/SAVPF', 'answer: DTLS-SRTP toward the WIC');
  t.ok((wicMedia?.port ?? 0) >= 38400 && (wicMedia?.port ?? 0) <= 38449, 'on the configured WebRTC range');
  const query = await client.query({ callId: tags.callId });
  t.same(query.streams.map((row) => row.tag).sort(), ['ims', 'wic'], 'query: one row per tag');
  await client.delete({ callId: tags.callId });
  await t.rejects(client.query({ callId: tags.callId }), { code: 'EPC_ERR_MEDIA', message: /Unknown call-id/ }, 'deleted');

  await client.offer(offerFromWic({ callId: 'left-open', fromTag: 'wic' }, CHROME_AUDIO_OFFER));
  const status = await daemon.stop(5_000);
  t.same(status, { code: 0, signal: null }, 'SIGTERM: closeAll, exit 0');
});

t.test('epcscf-media-gw: an invalid config fails boot with exit 1 and EPC_ERR_CONFIG_INVALID', async (t) => {
  const config = join(dir, 'bad.json');
  writeFileSync(config, JSON.stringify({ media: { gateway: { webrtc: { host: '0.0.0.0', ports: { min: 38400, max: 38449 } }, ims: { host: '127.0.0.1', ports: { min: 38450, max: 38499 } } } } }));
  const result = await runCommand(process.execPath, [LAUNCHER, '--config', config], { env: ENV, timeoutMs: 15_000 });
  t.equal(result.code, 1);
  t.match(result.stderr, /EPC_ERR_CONFIG_INVALID: media\.gateway: webrtc\.advertisedAddress is required/);
  const missing = await runCommand(process.execPath, [LAUNCHER], { env: ENV, timeoutMs: 15_000 });
  t.equal(missing.code, 1, 'no --config: exit 1');
  t.match(missing.stderr, /--config FILE is required/);
});
