// Issue #11 #8 (media-leg bookkeeping leaks) and the media-ownership guard: every path that ends a
// call attempt frees its media legs, in the IMS-ALG's leg table (what `epcscf_media_legs` reads:
// Pcscf.mediaLegCount, as core/cli/admin-backend.ts does) and in the gateway (calls and UDP
// ports); a failed re-offer keeps the call's legs and rolls the gateway back to the previous
// offer/answer; a periodic audit releases legs no dialog or pending transaction owns.
// Real calls through the P-CSCF (test/support/pcscf-rig.ts: a fake IMS core on UDP) with our
// media-gw, in this process and over the ng protocol.
import t, { type Test } from 'tap';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { createEpcscfMetrics, observePcscfMedia } from '../../core/admin/index.js';
import { resolveConfig } from '../../core/config/index.js';
import { EpcError } from '../../core/errors.js';
import { InProcessMediaControl, NgMediaControl, type MediaControl } from '../../core/pcscf/alg/media-control.js';
import type { PcscfOptions } from '../../core/pcscf/index.js';
import {
  createRequest, createResponse, getHeader, getHeaders, setHeader, tagOf, to, type SipRequest, type SipResponse,
} from '../../core/sip/index.js';
import { createCancel } from '../../core/sip/transaction/index.js';
import { dialogId } from '../../core/state/dialog-store.js';
import { createMediaGateway } from '../../media-gw/gateway/index.js';
import type {
  MediaGatewayControl, NgAnswerRequest, NgDeleteRequest, NgOfferRequest, NgQueryRequest, NgQueryResult, NgSdpResult,
} from '../../media-gw/ng/control.js';
import { NgServer } from '../../media-gw/ng/ng-server.js';
import { invite, registered, wicVia, type RigSettings } from '../support/pcscf-rig.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { startRtpengine, type RtpenginePeer } from '../support/peers/rtpengine.js';
import { CHROME_AUDIO_OFFER, plainRtpAnswer } from '../unit/ng/ims-alg-requests.js';

type Range = { readonly min: number; readonly max: number };
/**
 * This file's media ports: 19400-19439, used by no other test and below both the test port
 * allocator (20000-32767, test/support/peers/ports.ts) and Linux's ephemeral range (32768+),
 * so no socket bound to port 0 elsewhere on the machine can make a freed port look held.
 */
const WEBRTC_PORTS: Range = { min: 19400, max: 19409 };
const IMS_PORTS: Range = { min: 19410, max: 19429 };
/** One call's worth of IMS ports (RTP + RTCP, R-ALG-11): the second call finds none. */
const TINY_WEBRTC_PORTS: Range = { min: 19430, max: 19433 };
const TINY_IMS_PORTS: Range = { min: 19434, max: 19435 };

type Recorded =
  | { readonly command: 'offer'; readonly request: NgOfferRequest }
  | { readonly command: 'answer'; readonly request: NgAnswerRequest }
  | { readonly command: 'delete'; readonly request: NgDeleteRequest };

/**
 * The gateway under test behind a recorder; `failNext` makes the next offer (or answer) fail
 * with an ng error after the gateway ran it — as when the reply is lost or the gateway errors
 * late, the worst case: the gateway holds state the ALG was told failed.
 */
class RecordingGateway implements MediaGatewayControl {
  readonly commands: Recorded[] = [];
  failNext: 'offer' | 'answer' | undefined;
  constructor(readonly inner: MediaGatewayControl, readonly closeAll: () => Promise<void>) {}

  async offer(request: NgOfferRequest): Promise<NgSdpResult> {
    this.commands.push({ command: 'offer', request });
    const result = await this.inner.offer(request);
    return this.#maybeFail('offer', result);
  }

  async answer(request: NgAnswerRequest): Promise<NgSdpResult> {
    this.commands.push({ command: 'answer', request });
    const result = await this.inner.answer(request);
    return this.#maybeFail('answer', result);
  }

  delete(request: NgDeleteRequest): Promise<void> {
    this.commands.push({ command: 'delete', request });
    return this.inner.delete(request);
  }

  query(request: NgQueryRequest): Promise<NgQueryResult> {
    return this.inner.query(request);
  }

  since(index: number): Recorded[] {
    return this.commands.slice(index);
  }

  /** Of the ng call-ids the ALG ever named, those the gateway still knows. */
  async liveCalls(): Promise<string[]> {
    const ids = [...new Set(this.commands.map((c) => c.request.callId))];
    const live = await Promise.all(ids.map((callId) => this.inner.query({ callId }).then(() => true, () => false)));
    return ids.filter((_, i) => live[i]);
  }

  #maybeFail(command: 'offer' | 'answer', result: NgSdpResult): NgSdpResult {
    if (this.failNext !== command) return result;
    this.failNext = undefined;
    throw new EpcError('EPC_ERR_MEDIA', `ng ${command} failed: injected error after the gateway ran it`);
  }
}

/** Our media-gw in this process, our media-gw over ng, or Debian's rtpengine over ng. */
type Via = 'in-process' | 'ng' | 'rtpengine';

interface RigOptions {
  readonly via?: Via;
  readonly rtpengine?: RtpenginePeer;
  readonly ports?: { readonly webrtc: Range; readonly ims: Range };
  readonly pcscf?: Partial<PcscfOptions>;
  readonly settings?: RigSettings;
}

async function leakRig(t: Test, options: RigOptions = {}) {
  const ports = options.ports ?? { webrtc: WEBRTC_PORTS, ims: IMS_PORTS };
  let recorder: RecordingGateway;
  let control: MediaControl;
  /** Media ports still bound (our media-gw; rtpengine's go with its calls, checked by query). */
  let heldPorts = async (): Promise<number[]> => [];
  const extra: Partial<PcscfOptions> = {};
  if (options.via === 'rtpengine') {
    const rtpengine = options.rtpengine;
    if (rtpengine === undefined) throw new Error('rtpengine rig without rtpengine');
    const ng = new NgMediaControl({ address: '127.0.0.1', port: rtpengine.ngPort, timeoutMs: 500, retries: 1 });
    recorder = new RecordingGateway(ng, () => ng.close());
    control = new InProcessMediaControl(recorder, { owned: true });
    Object.assign(extra, { mediaInterfaces: { wic: 'lo', ims: 'lo' } });
  } else {
    const gateway = createMediaGateway({ webrtc: { host: '127.0.0.1', ports: ports.webrtc }, ims: { host: '127.0.0.1', ports: ports.ims } });
    recorder = new RecordingGateway(gateway, () => gateway.closeAll());
    heldPorts = async () => [...await unbindable(ports.webrtc), ...await unbindable(ports.ims)];
    if (options.via === 'ng') {
      const server = await NgServer.listen({ control: recorder });
      t.teardown(async () => { await server.close(); await gateway.closeAll(); });
      control = new NgMediaControl({ address: '127.0.0.1', port: server.address().port, timeoutMs: 500, retries: 1 });
    } else {
      control = new InProcessMediaControl(recorder, { owned: true });
    }
  }
  // The audit runs only when a test asks for it (auditMedia() or its own interval).
  const env = await registered(t, { media: control, ...extra, ...options.pcscf }, {
    ...options.settings, media: { auditIntervalSeconds: 0, ...options.settings?.media },
  });
  return { ...env, recorder, heldPorts };
}

type Rig = Awaited<ReturnType<typeof leakRig>>;

/** Ports of `range` that cannot be bound now (held by a relay). */
async function unbindable(range: Range): Promise<number[]> {
  const held: number[] = [];
  for (let port = range.min; port <= range.max; port++) {
    const socket = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind({ port, address: '127.0.0.1', exclusive: true }, () => resolve(true));
    });
    if (!ok) held.push(port);
    await new Promise<void>((resolve) => { try { socket.close(() => resolve()); } catch { resolve(); } });
  }
  return held;
}

async function eventually(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

/** The leak audit: the gauge, the gateway's calls and its ports all back to 0. */
async function assertNoMediaLeft(t: Test, rig: Rig, what: string): Promise<void> {
  await eventually(() => rig.pcscf.mediaLegCount === 0);
  t.equal(rig.pcscf.mediaLegCount, 0, `${what}: epcscf_media_legs back to 0`);
  t.same(await rig.recorder.liveCalls(), [], `${what}: no call left in the gateway`);
  t.same(await rig.heldPorts(), [], `${what}: every media port binds again`);
}

function sdpOf(command: Recorded | undefined): string | undefined {
  return command !== undefined && 'sdp' in command.request ? command.request.sdp : undefined;
}

async function assertCallHoldsMedia(t: Test, rig: Rig, what: string): Promise<void> {
  t.equal(rig.pcscf.mediaLegCount, 1, `${what}: the call keeps its media leg`);
  t.equal((await rig.recorder.liveCalls()).length, 1, `${what}: and its gateway call`);
}

/** A WIC INVITE with Chrome's audio offer (Call-ID call-a, tag a1 unless changed). */
function chromeInvite(options: { callId?: string; branch?: string; body?: string; extra?: [string, string][] } = {}): SipRequest {
  let request = invite(undefined, options.extra ?? []);
  if (options.callId !== undefined) request = setHeader(request, 'Call-ID', options.callId);
  if (options.branch !== undefined) request = setHeader(request, 'Via', wicVia(options.branch));
  return { ...request, body: new TextEncoder().encode(options.body ?? CHROME_AUDIO_OFFER) };
}

const IMS_ANSWER = plainRtpAnswer('127.0.0.1', 30000);

function answerAtCore(rig: Rig, atCore: SipRequest, status: number, body?: string): void {
  rig.core.answer(atCore, status, {
    toTag: 'b9',
    headers: [['Contact', `<sip:bob@127.0.0.1:${rig.core.port}>`], ['Record-Route', getHeaders(atCore, 'Record-Route').join(', ')]],
    ...(body !== undefined ? { body, contentType: 'application/sdp' } : {}),
  });
}

/** An answered call from the WIC (offer in the INVITE, answer in the 200, ACK sent). */
async function answeredCall(t: Test, rig: Rig): Promise<{ atCore: SipRequest; ok: SipResponse }> {
  await rig.pcscf.fromClient('conn-1', chromeInvite());
  const atCore = await rig.core.request('INVITE');
  answerAtCore(rig, atCore, 180);
  await rig.wic.response(180, 'INVITE');
  answerAtCore(rig, atCore, 200, IMS_ANSWER);
  const ok = await rig.wic.response(200, 'INVITE');
  await rig.pcscf.fromClient('conn-1', inDialogFromWic('ACK', 10, ok));
  await rig.core.request('ACK');
  await assertCallHoldsMedia(t, rig, 'answered');
  return { atCore, ok };
}

/** A request in alice's dialog toward the IMS (Route from the 200's Record-Route). */
function inDialogFromWic(method: string, seq: number, ok: SipResponse, body?: string): SipRequest {
  return createRequest({ method, uri: `sip:bob@127.0.0.1:5060`, headers: [
    ['Via', wicVia(`${method.toLowerCase()}-${seq}`)], ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=a1'],
    ['To', '<sip:bob@ims.test>;tag=b9'], ['Call-ID', 'call-a'], ['CSeq', `${seq} ${method}`],
    ['Route', getHeaders(ok, 'Record-Route').join(', ')], ['Contact', '<sip:alice@df7jal23ls0d.invalid;transport=ws;ob>'],
    ...(body !== undefined ? [['Content-Type', 'application/sdp'] as [string, string]] : []),
  ], ...(body !== undefined ? { body } : {}) });
}

/** A request in the call's dialog from the IMS toward alice (Route: our two Record-Route entries). */
function inDialogFromIms(rig: Rig, method: string, seq: number, atCore: SipRequest, body?: string): SipRequest {
  return createRequest({ method, uri: 'sip:alice@df7jal23ls0d.invalid;transport=ws;ob', headers: [
    ['Via', `SIP/2.0/UDP 127.0.0.1:${rig.core.port};branch=z9hG4bK${method.toLowerCase()}-ims-${seq}`], ['Max-Forwards', '70'],
    ['Route', getHeaders(atCore, 'Record-Route').join(', ')], ['From', '<sip:bob@ims.test>;tag=b9'], ['To', '<sip:alice@ims.test>;tag=a1'],
    ['Call-ID', 'call-a'], ['CSeq', `${seq} ${method}`], ['Contact', `<sip:bob@127.0.0.1:${rig.core.port}>`],
    ...(body !== undefined ? [['Content-Type', 'application/sdp'] as [string, string]] : []),
  ], ...(body !== undefined ? { body } : {}) });
}

function sendFromIms(rig: Rig, request: SipRequest): void {
  rig.core.send(request, { host: '127.0.0.1', port: rig.pcscf.mwAddresses[0]!.port });
}

async function byeFromWic(rig: Rig, ok: SipResponse): Promise<void> {
  await rig.pcscf.fromClient('conn-1', inDialogFromWic('BYE', 20, ok));
  rig.core.answer(await rig.core.request('BYE'), 200);
  await rig.wic.response(200, 'BYE');
}

/** An INVITE from the IMS toward alice over her registered flow (Route: her Path), with a plain RTP offer. */
function terminatingInvite(rig: Rig, branch = 'term-1'): SipRequest {
  return createRequest({ method: 'INVITE', uri: 'sip:alice@df7jal23ls0d.invalid;transport=ws', headers: [
    ['Via', `SIP/2.0/UDP 127.0.0.1:${rig.core.port};branch=z9hG4bK${branch}`], ['Max-Forwards', '68'],
    ['Route', getHeader(rig.registerAtCore, 'Path') ?? ''], ['Record-Route', `<sip:127.0.0.1:${rig.core.port};lr>`],
    ['From', '<sip:carol@ims.test>;tag=c1'], ['To', '<sip:alice@ims.test>'], ['Call-ID', 'term-1'], ['CSeq', '1 INVITE'],
    ['Contact', `<sip:carol@127.0.0.1:${rig.core.port}>`], ['Content-Type', 'application/sdp'],
  ], body: plainRtpAnswer('127.0.0.1', 31000) });
}

async function inviteAtWic(rig: Rig): Promise<SipRequest> {
  return rig.wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'INVITE');
}

const WAYS: readonly Via[] = ['in-process', 'ng', 'rtpengine'];

for (const via of WAYS) {
  t.test(`media gateway ${via}`, async (t) => {
    let rtpengine: RtpenginePeer | undefined;
    if (via === 'rtpengine') {
      const ngPort = await allocatePort();
      const peer = await startRtpengine({ ngPort, mediaPorts: 60 });
      rtpengine = peer;
      t.teardown(async () => { await peer.stop(); releasePort(ngPort); });
    }
    const rigFor = (tt: Test, options: Omit<RigOptions, 'via'> = {}) =>
      leakRig(tt, { ...options, via, ...(rtpengine ? { rtpengine } : {}) });

    t.test('issue 11 #8: answered then BYE from the WIC frees every media leg', async (t) => {
      const rig = await rigFor(t);
      const { ok } = await answeredCall(t, rig);
      await byeFromWic(rig, ok);
      await assertNoMediaLeft(t, rig, 'BYE from the WIC');
    });

    t.test('issue 11 #8: answered then BYE from the IMS frees every media leg', async (t) => {
      const rig = await rigFor(t);
      const { atCore } = await answeredCall(t, rig);
      sendFromIms(rig, inDialogFromIms(rig, 'BYE', 30, atCore));
      const bye = await rig.wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'BYE');
      await rig.pcscf.fromClient('conn-1', createResponse(bye, 200, 'OK'));
      await rig.core.response(200, 'BYE');
      await assertNoMediaLeft(t, rig, 'BYE from the IMS');
    });

    for (const status of [486, 404]) {
      t.test(`issue 11 #8: a ${status} from the core frees the attempt's media`, async (t) => {
        const rig = await rigFor(t);
        await rig.pcscf.fromClient('conn-1', chromeInvite());
        const atCore = await rig.core.request('INVITE');
        answerAtCore(rig, atCore, 180);
        await rig.wic.response(180, 'INVITE');
        answerAtCore(rig, atCore, status);
        await rig.wic.response(status, 'INVITE');
        await assertNoMediaLeft(t, rig, String(status));
      });
    }

    t.test('issue 11 #8, spec-digest §6.4: an offer refused with 488 (nothing relayable) leaves no media leg', async (t) => {
      const rig = await rigFor(t);
      const isacOnly = CHROME_AUDIO_OFFER.replace(/m=audio (\d+) (\S+) [\d ]+/, 'm=audio $1 $2 103')
        .replace(/a=rtpmap:(?!103 )\d+ .*\r\n/g, '').replace(/a=rtpmap:103 .*/, 'a=rtpmap:103 ISAC/16000');
      await rig.pcscf.fromClient('conn-1', chromeInvite({ body: isacOnly }));
      await rig.wic.response(488, 'INVITE');
      await assertNoMediaLeft(t, rig, '488');
    });

    // The port range of rtpengine is its own; the 503 of a gateway out of ports is proven with ours.
    if (via !== 'rtpengine') {
      t.test('issue 11 #8: an offer refused with 503 (no media ports left) leaves no media leg', async (t) => {
        const rig = await rigFor(t, { ports: { webrtc: TINY_WEBRTC_PORTS, ims: TINY_IMS_PORTS } });
        await rig.pcscf.fromClient('conn-1', chromeInvite());
        const atCore = await rig.core.request('INVITE');
        await rig.pcscf.fromClient('conn-1', chromeInvite({ callId: 'call-b', branch: 'inv-b' }));
        const refused = await rig.wic.response(503, 'INVITE');
        t.match(refused.reason, /media gateway/, 'the second call finds no ports');
        t.equal(rig.pcscf.mediaLegCount, 1, 'only the first call holds a leg');
        answerAtCore(rig, atCore, 486);
        await rig.wic.response(486, 'INVITE');
        await assertNoMediaLeft(t, rig, '503 then 486');
      });
    }

    t.test('issue 11 #8, RFC 3261 §16.10: a call CANCELed while ringing frees its media', async (t) => {
      const rig = await rigFor(t);
      const request = chromeInvite();
      await rig.pcscf.fromClient('conn-1', request);
      const atCore = await rig.core.request('INVITE');
      answerAtCore(rig, atCore, 180);
      await rig.wic.response(180, 'INVITE');
      await rig.pcscf.fromClient('conn-1', createCancel(request));
      await rig.wic.response(200, 'CANCEL');
      const cancel = await rig.core.request('CANCEL');
      rig.core.answer(cancel, 200);
      answerAtCore(rig, atCore, 487);
      await rig.wic.response(487, 'INVITE');
      await assertNoMediaLeft(t, rig, 'CANCEL');
    });

    t.test('issue 11 #8, RFC 3261 §16.10: a CANCEL that arrives while the offer is in the gateway ends the attempt with 487, nothing on Mw, no media left', async (t) => {
      const rig = await rigFor(t);
      const request = chromeInvite();
      // Both reach the P-CSCF back to back: the CANCEL finds the INVITE before it is forwarded.
      await rig.pcscf.fromClient('conn-1', request);
      await rig.pcscf.fromClient('conn-1', createCancel(request));
      await rig.wic.response(200, 'CANCEL');
      await rig.wic.response(487, 'INVITE');
      await assertNoMediaLeft(t, rig, 'early CANCEL');
      t.notOk(rig.core.received.some((m) => m.kind === 'request' && m.method === 'INVITE'), 'the INVITE was never forwarded');
    });

    t.test('issue 11 #8: a 408 (the core never answers, Timer B) frees the attempt\'s media', async (t) => {
      const rig = await rigFor(t, { pcscf: { timers: { t1: 20 } } });
      await rig.pcscf.fromClient('conn-1', chromeInvite());
      await rig.core.request('INVITE');
      await rig.wic.response(408, 'INVITE');
      await assertNoMediaLeft(t, rig, '408');
    });

    t.test('issue 11 #8, RFC 3261 §8.1.3.1: a Mw transport error frees the attempt\'s media', async (t) => {
      const dead = createServer();
      await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
      const deadPort = (dead.address() as { port: number }).port;
      await new Promise<void>((resolve) => dead.close(() => resolve()));
      const rig = await rigFor(t, { settings: {
        mwListen: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0'], serviceRoute: () => `<sip:orig@127.0.0.1:${deadPort};transport=tcp;lr>`,
      } });
      await rig.pcscf.fromClient('conn-1', chromeInvite());
      const failed = await rig.wic.next<SipResponse>((m) => m.kind === 'response' && m.status >= 500);
      t.equal(failed.status, 503, 'the TCP connection is refused');
      await assertNoMediaLeft(t, rig, 'transport error');
    });

    t.test('issue 11 #8, R-ORIG-9: the WebSocket closed while ringing frees the media', async (t) => {
      const rig = await rigFor(t);
      await rig.pcscf.fromClient('conn-1', chromeInvite());
      const atCore = await rig.core.request('INVITE');
      answerAtCore(rig, atCore, 180);
      await rig.wic.response(180, 'INVITE');
      await rig.pcscf.sessionClosed('conn-1', { cause: 'remote', code: 1006, reason: '' });
      rig.core.answer(await rig.core.request('CANCEL'), 200);
      answerAtCore(rig, atCore, 487);
      await assertNoMediaLeft(t, rig, 'closed while ringing');
    });

    t.test('issue 11 #8, R-ORIG-9: the WebSocket closed in a call frees the media', async (t) => {
      const rig = await rigFor(t);
      await answeredCall(t, rig);
      await rig.pcscf.sessionClosed('conn-1', { cause: 'remote', code: 1006, reason: '' });
      rig.core.answer(await rig.core.request('BYE'), 200);
      await assertNoMediaLeft(t, rig, 'closed in a call');
    });

    t.test('issue 11 #8, RFC 3261 §16.10: an IMS call to the WIC CANCELed while ringing frees its media', async (t) => {
      const rig = await rigFor(t);
      const request = terminatingInvite(rig);
      sendFromIms(rig, request);
      const atWic = await inviteAtWic(rig);
      await rig.pcscf.fromClient('conn-1', createResponse(atWic, 180, 'Ringing', { toTag: 'w1' }));
      await rig.core.response(180, 'INVITE');
      t.equal(rig.pcscf.mediaLegCount, 1, 'the terminating leg while ringing');
      sendFromIms(rig, createCancel(request));
      await rig.core.response(200, 'CANCEL');
      const cancel = await rig.wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'CANCEL');
      await rig.pcscf.fromClient('conn-1', createResponse(cancel, 200, 'OK'));
      await rig.pcscf.fromClient('conn-1', createResponse(atWic, 487, 'Request Terminated', { toTag: 'w1' }));
      await rig.core.response(487, 'INVITE');
      await assertNoMediaLeft(t, rig, 'terminating CANCEL');
    });

    t.test('issue 11 #8: an IMS call the WIC refuses (486) frees its media', async (t) => {
      const rig = await rigFor(t);
      sendFromIms(rig, terminatingInvite(rig));
      const atWic = await inviteAtWic(rig);
      await rig.pcscf.fromClient('conn-1', createResponse(atWic, 486, 'Busy Here', { toTag: 'w1' }));
      await rig.core.response(486, 'INVITE');
      await assertNoMediaLeft(t, rig, 'terminating 486');
    });

    t.test('issue 11 #8: an IMS offer that meets an ng error is refused 503 toward the IMS and leaves no media', async (t) => {
      const rig = await rigFor(t);
      rig.recorder.failNext = 'offer';
      sendFromIms(rig, terminatingInvite(rig));
      await rig.core.response(503, 'INVITE');
      await assertNoMediaLeft(t, rig, 'terminating ng error');
    });

    t.test('issue 11 #8, RFC 3261 §8.2.2.2: a duplicate INVITE with a new branch refused 482 keeps the answered call\'s media, and frees it at BYE', async (t) => {
      const rig = await rigFor(t);
      await rig.pcscf.fromClient('conn-1', chromeInvite());
      const first = await rig.core.request('INVITE');
      await rig.pcscf.fromClient('conn-1', chromeInvite({ branch: 'inv-dup' }));
      const duplicate = await rig.core.request('INVITE');
      answerAtCore(rig, first, 200, IMS_ANSWER);
      const ok = await rig.wic.response(200, 'INVITE');
      rig.core.answer(duplicate, 482, { toTag: 'b9-dup' });
      await rig.wic.response(482, 'INVITE');
      await assertCallHoldsMedia(t, rig, 'after the 482 to the duplicate');
      await rig.pcscf.fromClient('conn-1', inDialogFromWic('ACK', 10, ok));
      await byeFromWic(rig, ok);
      await assertNoMediaLeft(t, rig, 'duplicate INVITE');
    });

    t.test('issue 11 #8, RFC 3261 §16.3 step 3: a 483 (Max-Forwards 0) leaves no media leg', async (t) => {
      const rig = await rigFor(t);
      await rig.pcscf.fromClient('conn-1', setHeader(chromeInvite(), 'Max-Forwards', '0'));
      await rig.wic.response(483, 'INVITE');
      await assertNoMediaLeft(t, rig, '483');
    });

    t.test('issue 11 guard, RFC 3261 §14.1: a re-INVITE answered 491 (glare) keeps the call\'s media and rolls the gateway back', async (t) => {
      const rig = await rigFor(t);
      const { ok } = await answeredCall(t, rig);
      const agreed = rig.recorder.commands.filter((c) => c.command !== 'delete');
      const before = rig.recorder.commands.length;
      const hold = CHROME_AUDIO_OFFER.replace(/a=sendrecv/g, 'a=sendonly');
      await rig.pcscf.fromClient('conn-1', inDialogFromWic('INVITE', 11, ok, hold));
      const reinvite = await rig.core.request('INVITE');
      rig.core.answer(reinvite, 491);
      await rig.wic.response(491, 'INVITE');
      await assertCallHoldsMedia(t, rig, '491');
      const after = rig.recorder.since(before);
      t.same(after.map((c) => c.command), ['offer', 'offer', 'answer'], 'the re-offer, then the previous offer and answer again');
      t.match(after[0]?.request, { sdp: /a=sendonly/ }, 'the re-offer reached the gateway');
      t.same(after.slice(1).map(sdpOf), agreed.slice(-2).map(sdpOf), 'rolled back to the agreed offer/answer');
      t.notOk(after.some((c) => c.command === 'delete'), 'nothing released');
      await byeFromWic(rig, ok);
      await assertNoMediaLeft(t, rig, 'BYE after the 491');
    });

    t.test('issue 11 guard: a re-INVITE from the IMS the WIC refuses (488) keeps the call\'s media at its previous state', async (t) => {
      const rig = await rigFor(t);
      const { atCore, ok } = await answeredCall(t, rig);
      const agreed = rig.recorder.commands.filter((c) => c.command !== 'delete').slice(-2);
      const before = rig.recorder.commands.length;
      sendFromIms(rig, inDialogFromIms(rig, 'INVITE', 2, atCore, plainRtpAnswer('127.0.0.1', 30500)));
      const reinvite = await rig.wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'INVITE' && tagOf(to(m)) === 'a1');
      await rig.pcscf.fromClient('conn-1', createResponse(reinvite, 488, 'Not Acceptable Here'));
      await rig.core.response(488, 'INVITE');
      await assertCallHoldsMedia(t, rig, 'failed re-INVITE');
      const after = rig.recorder.since(before);
      t.same(after.map((c) => c.command), ['offer', 'offer', 'answer'], 'the re-offer, then the rollback');
      t.same(after.slice(1).map(sdpOf), agreed.map(sdpOf), 'the IMS address of the agreed answer (30000) is back');
      await byeFromWic(rig, ok);
      await assertNoMediaLeft(t, rig, 'BYE after the failed re-INVITE');
    });

    t.test('issue 11 guard: only the failure of the transaction that made an offer rolls it back (an INFO refused meanwhile does not)', async (t) => {
      const rig = await rigFor(t);
      const { ok } = await answeredCall(t, rig);
      const before = rig.recorder.commands.length;
      await rig.pcscf.fromClient('conn-1', inDialogFromWic('INVITE', 11, ok, CHROME_AUDIO_OFFER.replace(/a=sendrecv/g, 'a=sendonly')));
      const reinvite = await rig.core.request('INVITE');
      await rig.pcscf.fromClient('conn-1', inDialogFromWic('INFO', 12, ok));
      rig.core.answer(await rig.core.request('INFO'), 415);
      await rig.wic.response(415, 'INFO');
      answerAtCore(rig, reinvite, 200, IMS_ANSWER.replace('a=sendrecv', 'a=recvonly'));
      await rig.wic.response(200, 'INVITE');
      t.same(rig.recorder.since(before).map((c) => c.command), ['offer', 'answer'], 'the re-offer and its answer, no rollback');
      await assertCallHoldsMedia(t, rig, 'after the re-INVITE');
      await byeFromWic(rig, ok);
      await assertNoMediaLeft(t, rig, 'BYE after the hold');
    });

    t.test('issue 11 #8: an ng error after the gateway allocated (503 to the caller) frees the gateway call too', async (t) => {
      const rig = await rigFor(t);
      rig.recorder.failNext = 'offer';
      await rig.pcscf.fromClient('conn-1', chromeInvite());
      await rig.wic.response(503, 'INVITE');
      t.same(rig.recorder.commands.map((c) => c.command), ['offer', 'delete'], 'the ALG deletes what the gateway may hold');
      await assertNoMediaLeft(t, rig, 'ng error');
    });

    t.test('issue 11 guard: an ng error on a re-offer keeps the call and rolls the gateway back', async (t) => {
      const rig = await rigFor(t);
      const { ok } = await answeredCall(t, rig);
      rig.recorder.failNext = 'offer';
      const before = rig.recorder.commands.length;
      await rig.pcscf.fromClient('conn-1', inDialogFromWic('INVITE', 11, ok, CHROME_AUDIO_OFFER.replace(/a=sendrecv/g, 'a=inactive')));
      await rig.wic.response(503, 'INVITE');
      await assertCallHoldsMedia(t, rig, 'ng error on a re-offer');
      t.same(rig.recorder.since(before).map((c) => c.command), ['offer', 'offer', 'answer'], 'rolled back');
      await byeFromWic(rig, ok);
      await assertNoMediaLeft(t, rig, 'BYE after the ng error');
    });

    t.test('issue 11 guard: the audit releases a media leg no dialog owns, logs it and counts it in /metrics', async (t) => {
      const rig = await rigFor(t, { settings: { media: { auditGraceSeconds: 0 } } });
      const metrics = createEpcscfMetrics();
      const unobserve = observePcscfMedia(rig.pcscf.observer, metrics);
      t.teardown(unobserve);
      await answeredCall(t, rig);
      t.equal(await rig.pcscf.auditMedia(), 0, 'a leg whose dialog lives is left alone');
      await assertCallHoldsMedia(t, rig, 'audit with the dialog');
      await rig.pcscf.dialogs.remove(dialogId('call-a', 'a1'));
      t.equal(await rig.pcscf.auditMedia(), 1, 'the orphan is released');
      await assertNoMediaLeft(t, rig, 'audit');
      t.match(await metrics.metrics(), /^epcscf_media_legs_orphaned_total 1$/m, 'and counted');
      t.equal(await rig.pcscf.auditMedia(), 0, 'once');
    });

    t.test('issue 11 guard: the audit leaves a leg alone while its INVITE is pending', async (t) => {
      const rig = await rigFor(t, { settings: { media: { auditGraceSeconds: 0 } } });
      await rig.pcscf.fromClient('conn-1', chromeInvite());
      const atCore = await rig.core.request('INVITE');
      t.equal(await rig.pcscf.auditMedia(), 0, 'no dialog yet, but the INVITE is pending');
      t.equal(rig.pcscf.mediaLegCount, 1);
      answerAtCore(rig, atCore, 486);
      await rig.wic.response(486, 'INVITE');
      await assertNoMediaLeft(t, rig, 'pending then 486');
    });
  });
}

t.test('issue 11 guard: the audit leaves a leg without a dialog alone within media.auditGraceSeconds; the W2 flow\'s end still frees it', async (t) => {
  const rig = await leakRig(t, { settings: { media: { auditGraceSeconds: 30 } } });
  await answeredCall(t, rig);
  await rig.pcscf.dialogs.remove(dialogId('call-a', 'a1'));
  t.equal(await rig.pcscf.auditMedia(), 0, 'acted on less than 30 s ago: not an orphan yet');
  t.equal(rig.pcscf.mediaLegCount, 1);
  await rig.pcscf.sessionClosed('conn-1', { cause: 'remote', code: 1006, reason: '' });
  await assertNoMediaLeft(t, rig, 'flow closed');
});

t.test('issue 11 guard: the audit runs by itself every media.auditIntervalSeconds', async (t) => {
  const rig = await leakRig(t, { settings: { media: { auditIntervalSeconds: 0.2, auditGraceSeconds: 0 } } });
  Object.assign(rig, { t });
  await answeredCall(t, rig);
  await rig.pcscf.dialogs.remove(dialogId('call-a', 'a1'));
  await eventually(() => rig.pcscf.mediaLegCount === 0);
  await assertNoMediaLeft(t, rig, 'periodic audit');
});

t.test('issue 11 guard: media.auditIntervalSeconds defaults to 60 s and media.auditGraceSeconds to 30 s; negative values are refused', async (t) => {
  const noEnv = { configDir: process.cwd(), env: {} };
  const media = resolveConfig(null, noEnv).media;
  t.equal(media.auditIntervalSeconds, 60);
  t.equal(media.auditGraceSeconds, 30);
  t.equal(resolveConfig({ media: { auditIntervalSeconds: 0 } }, noEnv).media.auditIntervalSeconds, 0, '0 disables the audit');
  t.throws(() => resolveConfig({ media: { auditIntervalSeconds: -1 } }, noEnv), { code: 'EPC_ERR_CONFIG_INVALID' });
  t.throws(() => resolveConfig({ media: { auditGraceSeconds: -5 } }, noEnv), { code: 'EPC_ERR_CONFIG_INVALID' });
});

t.test('issue 11 guard: an ACK with SDP outside any dialog (stray or forged) creates no media leg and never reaches Mw (#2: stray ACKs are dropped)', async (t) => {
  const rig = await leakRig(t);
  const ack = createRequest({ method: 'ACK', uri: 'sip:bob@ims.test', headers: [
    ['Via', wicVia('ghost-ack')], ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=a1'], ['To', '<sip:bob@ims.test>;tag=nobody'],
    ['Call-ID', 'ghost-call'], ['CSeq', '1 ACK'], ['Content-Type', 'application/sdp'],
  ], body: CHROME_AUDIO_OFFER });
  await rig.pcscf.fromClient('conn-1', ack);
  await t.rejects(rig.core.next((m) => m.kind === 'request' && m.method === 'ACK', 1000), /timed out/, 'nothing reaches the IMS core');
  t.same(rig.recorder.commands, [], 'the gateway is never asked');
  await assertNoMediaLeft(t, rig, 'stray ACK');
});
