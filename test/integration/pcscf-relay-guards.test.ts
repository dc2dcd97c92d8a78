// Issue 11 #2 (open relay) and #9 (malformed responses relayed unchanged): nothing a client sends
// picks where epcscf sends traffic, except through the routes the IMS gave it (R-ORIG-4,
// R-ORIG-10), and what the P-CSCF cannot process is answered 502 rather than relayed (RFC 3261
// §16.7, §21.5.3). A UDP and a TCP listener stand at the address a client names in Route, and a
// DNS server (the P-CSCF's only resolver here) logs every query: both must see nothing.
import t, { type Test } from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { InProcessMediaControl } from '../../core/pcscf/alg/media-control.js';
import { NodeDnsLookup } from '../../core/sip/resolve/index.js';
import {
  createRequest, createResponse, getHeader, getHeaders, tagOf, to, vias, withBody,
  type SipMessage, type SipRequest, type SipResponse,
} from '../../core/sip/index.js';
import { TestDnsServer } from '../support/dns-server.js';
import { FakeGateway } from '../unit/ng/fake-gateway.js';
import { CHROME_AUDIO_OFFER, plainRtpAnswer } from '../unit/ng/ims-alg-requests.js';
import { invite, registered, setup, wicVia, type FakeWic } from '../support/pcscf-rig.js';
import type { PcscfOptions, RelayGuard } from '../../core/pcscf/index.js';

/** The "victim": a UDP socket and a TCP listener on one port, counting what reaches them. */
class Target {
  datagrams = 0;
  connections = 0;
  readonly #udp: Socket;
  readonly #tcp: Server;
  private constructor(udp: Socket, tcp: Server) {
    this.#udp = udp;
    this.#tcp = tcp;
    udp.on('message', () => { this.datagrams++; });
    tcp.on('connection', (socket) => { this.connections++; socket.destroy(); });
  }
  static async start(): Promise<Target> {
    const tcp = createServer();
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as { port: number }).port;
    const udp = createSocket('udp4');
    await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind(port, '127.0.0.1', resolve); });
    return new Target(udp, tcp);
  }
  get port(): number { return this.#udp.address().port; }
  close(): void {
    this.#udp.close();
    this.#tcp.close();
  }
}

async function guarded(t: Test, register: boolean, options: Partial<PcscfOptions> = {}) {
  const target = await Target.start();
  const dns = new TestDnsServer({ 'victim.example': [{ type: 'A', address: '127.0.0.1' }] });
  await dns.start();
  t.teardown(async () => { target.close(); await dns.stop(); });
  const lookup = new NodeDnsLookup({ servers: [dns.server] });
  const env = register ? await registered(t, { dns: lookup, ...options }) : { ...(await setup(t, { dns: lookup, ...options })), registerAtCore: undefined };
  const guards: RelayGuard[] = [];
  env.pcscf.observer.on('guard', (guard) => guards.push(guard));
  const tripped = (guard: RelayGuard): number => guards.filter((g) => g === guard).length;
  return { ...env, target, dns, tripped };
}

/** What a probing client puts in Route: the target by address (UDP and TCP) and by name. */
const evilRoutes = (port: number): string[] => [
  `<sip:127.0.0.1:${port};lr>`, `<sip:127.0.0.1:${port};transport=tcp;lr>`, `<sip:victim.example:${port};lr>`,
];

/** A request with a To tag (it looks mid-dialog), 60 KB of body, and Route entries of the client's choosing. */
function midDialog(method: string, id: string, routes: readonly string[], extra: [string, string][] = []): SipRequest {
  const request = createRequest({ method, uri: 'sip:bob@victim.example', headers: [
    ['Via', wicVia(id)], ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=a-probe'], ['To', '<sip:bob@ims.test>;tag=b-probe'],
    ['Call-ID', `probe-${id}`], ['CSeq', `2 ${method}`], ['Contact', '<sip:alice@df7jal23ls0d.invalid;transport=ws>'],
    ...routes.map((r): [string, string] => ['Route', r]), ['Content-Type', 'text/plain'], ...extra,
  ] });
  return withBody(request, 'x'.repeat(60_000), 'text/plain');
}

async function settle(ms = 300): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

function nothingAt(t: Test, env: { target: Target; dns: TestDnsServer }, what: string): void {
  t.equal(env.target.datagrams, 0, `${what}: no datagram at the address the client named`);
  t.equal(env.target.connections, 0, `${what}: no TCP connection to it`);
  t.same(env.dns.queries, [], `${what}: no DNS query for a name the client chose`);
}

const PROBED = ['MESSAGE', 'OPTIONS', 'NOTIFY', 'SUBSCRIBE', 'REFER', 'INFO', 'UPDATE', 'BYE'];

for (const registeredFlow of [false, true]) {
  const who = registeredFlow ? 'a registered client' : 'an unregistered client';
  t.test(`issue 11 #2 / R-ORIG-10: mid-dialog requests of every method from ${who} for no known dialog get 481, nothing leaves toward the target`, async (t) => {
    const env = await guarded(t, registeredFlow);
    const { core, pcscf, wic } = env;
    for (const method of PROBED) {
      await pcscf.fromClient('conn-1', midDialog(method, `md-${method}`, evilRoutes(env.target.port)));
      const refused = await wic.response(481, method);
      t.equal(refused.status, 481, `${method}: 481 Call/Transaction Does Not Exist`);
    }
    await settle();
    nothingAt(t, env, 'mid-dialog probes');
    t.equal(env.tripped('unknown-dialog'), PROBED.length, 'each refusal counted (metrics)');
    t.same(core.received.filter((m) => m.kind === 'request' && m.method !== 'REGISTER').map((m) => (m as SipRequest).method), [], 'nothing on Mw');
  });

  t.test(`issue 11 #2: a stray ACK from ${who} for no known dialog is dropped`, async (t) => {
    const env = await guarded(t, registeredFlow);
    const { core, pcscf } = env;
    await pcscf.fromClient('conn-1', midDialog('ACK', 'ack-probe', evilRoutes(env.target.port)));
    await settle();
    nothingAt(t, env, 'stray ACK');
    t.equal(env.tripped('stray-ack'), 1, 'the drop is counted');
    t.notOk(core.received.some((m) => m.kind === 'request' && m.method === 'ACK'), 'no ACK on Mw');
  });

  t.test(`issue 11 #2: a fabricated response from ${who} with Vias [epcscf, target] reaches nothing`, async (t) => {
    const env = await guarded(t, registeredFlow);
    const { core, pcscf } = env;
    for (const next of [`SIP/2.0/UDP 127.0.0.1:${env.target.port};branch=z9hG4bKv1`, `SIP/2.0/TCP 127.0.0.1:${env.target.port};branch=z9hG4bKv2`, `SIP/2.0/UDP victim.example:${env.target.port};branch=z9hG4bKv3`]) {
      const fabricated = withBody(createResponse(midDialog('MESSAGE', 'fab', []), 200, 'OK'), 'x'.repeat(60_000), 'text/plain');
      await pcscf.fromClient('conn-1', { ...fabricated, headers: fabricated.headers.map((h) => (h.name === 'Via' ? { name: 'Via', value: `SIP/2.0/WS 127.0.0.1:18080;branch=z9hG4bKfab, ${next}` } : h)) });
    }
    await settle();
    nothingAt(t, env, 'fabricated response');
    t.equal(env.tripped('stray-response'), 3, 'each drop is counted');
    t.notOk(core.received.some((m) => m.kind === 'response' && m.status === 200 && getHeader(m, 'CSeq')?.endsWith('MESSAGE')), 'nothing on Mw');
  });
}

t.test('issue 11 #2 / R-ORIG-1: every initial request from an unregistered flow gets 403; a CANCEL for nothing known 481', async (t) => {
  const env = await guarded(t, false);
  const { core, pcscf, wic } = env;
  for (const method of ['INVITE', 'MESSAGE', 'OPTIONS', 'SUBSCRIBE', 'REFER', 'NOTIFY', 'PUBLISH', 'INFO']) {
    const initial = midDialog(method, `init-${method}`, evilRoutes(env.target.port));
    await pcscf.fromClient('conn-1', { ...initial, headers: initial.headers.map((h) => (h.name === 'To' ? { name: 'To', value: '<sip:bob@ims.test>' } : h)) });
    t.ok(await wic.response(403, method), `${method}: 403`);
  }
  const cancel = midDialog('CANCEL', 'cancel-probe', evilRoutes(env.target.port));
  await pcscf.fromClient('conn-1', cancel);
  t.ok(await wic.response(481, 'CANCEL'), 'CANCEL for no pending INVITE: 481');
  await settle();
  nothingAt(t, env, 'initial probes');
  t.same(core.received.filter((m) => m.kind === 'request' && m.method !== 'REGISTER'), [], 'nothing on Mw');
});

/** alice calls bob; the IMS records its own route (127.0.0.1:core port) above ours. */
async function confirmedCall(t: Test, env: Awaited<ReturnType<typeof guarded>>) {
  const { core, pcscf, wic } = env;
  await pcscf.fromClient('conn-1', invite());
  const atCore = await core.request('INVITE');
  const imsRoute = `<sip:127.0.0.1:${core.port};lr;imsdialog>`;
  core.answer(atCore, 200, { toTag: 'b1', headers: [
    ['Contact', `<sip:bob@127.0.0.1:${core.port}>`], ['Record-Route', [imsRoute, ...getHeaders(atCore, 'Record-Route')].join(', ')],
  ] });
  const ok = await wic.response(200, 'INVITE');
  t.equal(vias(ok).length, 1);
  return { imsRoute, atCore };
}

function inDialog(method: string, cseq: number, routes: readonly string[], port: number): SipRequest {
  return createRequest({ method, uri: `sip:bob@127.0.0.1:${port}`, headers: [
    ['Via', wicVia(`dlg-${method}-${cseq}`)], ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=a1'], ['To', '<sip:bob@ims.test>;tag=b1'],
    ['Call-ID', 'call-a'], ['CSeq', `${cseq} ${method}`], ...routes.map((r): [string, string] => ['Route', r]),
  ] });
}

t.test('issue 11 #2 / R-ORIG-10: a registered client with a real dialog reaches the IMS along the dialog\'s route set, whatever Route it adds', async (t) => {
  const env = await guarded(t, true);
  const { core, pcscf, wic } = env;
  const { imsRoute } = await confirmedCall(t, env);
  const evil = evilRoutes(env.target.port);
  await pcscf.fromClient('conn-1', inDialog('ACK', 10, evil, env.target.port));
  const ack = await core.request('ACK');
  t.same(getHeaders(ack, 'Route'), [imsRoute], 'the 2xx ACK follows the dialog route set (RFC 3261 §12.2.1.1), not the client\'s');
  await pcscf.fromClient('conn-1', inDialog('MESSAGE', 11, evil, env.target.port));
  const message = await core.request('MESSAGE');
  t.same(getHeaders(message, 'Route'), [imsRoute], 'the route set the IMS recorded');
  core.answer(message, 200);
  t.ok(await wic.response(200, 'MESSAGE'));
  await pcscf.fromClient('conn-1', inDialog('BYE', 12, [], env.target.port));
  const bye = await core.request('BYE');
  t.same(getHeaders(bye, 'Route'), [imsRoute], 'without a Route from the client as well');
  core.answer(bye, 200);
  t.ok(await wic.response(200, 'BYE'));
  await settle();
  nothingAt(t, env, 'in-dialog requests with client Route');
});

t.test('issue 11 #2 / R-ORIG-10: a dialog of another flow is not found on this one (481), nothing on Mw', async (t) => {
  const env = await guarded(t, true);
  const { core, pcscf } = env;
  await confirmedCall(t, env);
  const { FakeWic } = await import('../support/pcscf-rig.js');
  const other: FakeWic = new FakeWic('conn-2');
  pcscf.sessionOpened(other.connection, other);
  await pcscf.fromClient('conn-2', inDialog('MESSAGE', 11, evilRoutes(env.target.port), env.target.port));
  t.ok(await other.response(481, 'MESSAGE'), 'R-ORIG-10: 481 on a flow that is not the dialog\'s');
  await pcscf.fromClient('conn-2', inDialog('ACK', 10, evilRoutes(env.target.port), env.target.port));
  await settle();
  nothingAt(t, env, 'other flow');
  t.notOk(core.received.some((m) => m.kind === 'request' && (m.method === 'MESSAGE' || m.method === 'ACK')), 'nothing on Mw');
});

t.test('issue 11 #2: a terminating dialog\'s stray 2xx goes only to the IMS hop that sent the INVITE', async (t) => {
  const env = await guarded(t, true);
  const { core, pcscf, wic, registerAtCore } = env;
  const inbound = createRequest({ method: 'INVITE', uri: 'sip:alice@df7jal23ls0d.invalid;transport=ws', headers: [
    ['Via', `SIP/2.0/UDP 127.0.0.1:${core.port};branch=z9hG4bKterm9;rport`], ['Max-Forwards', '68'], ['Route', getHeader(registerAtCore!, 'Path') ?? ''],
    ['Record-Route', `<sip:127.0.0.1:${core.port};lr>`], ['From', '<sip:carol@ims.test>;tag=c9'], ['To', '<sip:alice@ims.test>'],
    ['Call-ID', 'term-9'], ['CSeq', '1 INVITE'], ['Contact', `<sip:carol@127.0.0.1:${core.port}>`],
  ] });
  core.send(inbound, { host: '127.0.0.1', port: pcscf.mwAddresses[0]!.port });
  const atWic = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'INVITE');
  const ok = createResponse(atWic, 200, 'OK', { toTag: 'w9', headers: [['Contact', '<sip:alice@df7jal23ls0d.invalid;transport=ws>']] });
  await pcscf.fromClient('conn-1', ok);
  await core.response(200, 'INVITE');
  // A 2xx no transaction claims (another branch), its next Via the IMS hop: relayed (RFC 3261 §16.7).
  const [ours, ims] = getHeaders(atWic, 'Via');
  const stray = (next: string): SipResponse => ({ ...ok, headers: ok.headers.map((h) => (h.name === 'Via' ? { name: 'Via', value: `${ours!.replace(/branch=[^;,]+/, 'branch=z9hG4bKgone')}, ${next}` } : h)) });
  await pcscf.fromClient('conn-1', stray(ims!));
  t.ok(await core.response(200, 'INVITE'), 'the retransmission reaches the IMS hop of the dialog');
  await pcscf.fromClient('conn-1', stray(`SIP/2.0/UDP 127.0.0.1:${env.target.port};branch=z9hG4bKterm9;rport`));
  await settle();
  nothingAt(t, env, 'stray 2xx with a foreign next Via');
});

// ---- issue 11 #9: a response the P-CSCF cannot process is answered 502, never relayed ----------

function chromeInvite(): SipRequest {
  return { ...invite(), body: new TextEncoder().encode(CHROME_AUDIO_OFFER) };
}

t.test('issue 11 #9 / RFC 3261 §16.7: a 200 whose Record-Route is unparsable → 502 with Warning to the client; ACK + BYE toward the IMS; media released', async (t) => {
  const gateway = new FakeGateway();
  const env = await guarded(t, true, { media: new InProcessMediaControl(gateway) });
  const { core, pcscf, wic } = env;
  await pcscf.fromClient('conn-1', chromeInvite());
  const atCore = await core.request('INVITE');
  t.equal(pcscf.mediaLegCount, 1, 'the offer opened a media leg');
  const answer = withBody(createResponse(atCore, 200, 'OK', { toTag: 'b7', headers: [
    ['Contact', `<sip:bob@127.0.0.1:${core.port}>`], ['Record-Route', `<sip:127.0.0.1:${core.port};lr>, <sip:broken`],
  ] }), plainRtpAnswer('127.0.0.1', 4000), 'application/sdp');
  core.send(answer);
  const refused = await wic.response(502, 'INVITE');
  t.equal(refused.reason, 'Bad Gateway');
  t.match(getHeader(refused, 'Warning') ?? '', /^399 127\.0\.0\.1 ".+"$/, 'RFC 3261 §20.43: code 399, our host, the reason');
  t.equal(refused.body.length, 0, 'no SDP of the IMS reaches the client');
  const ack = await core.request('ACK');
  t.equal(tagOf(to(ack)), 'b7', 'the 2xx is acknowledged (RFC 3261 §13.2.2.4)');
  const bye = await core.request('BYE');
  t.equal(tagOf(to(bye)), 'b7', 'and the session the IMS set up ended');
  t.equal(getHeader(bye, 'Call-ID'), 'call-a');
  core.answer(bye, 200);
  await settle();
  t.equal(pcscf.mediaLegCount, 0, 'the media leg is released');
  t.equal(env.tripped('unprocessable-response'), 1, 'counted');
  t.same(await pcscf.dialogs.byCallId('call-a'), [], 'no dialog left behind');
  t.notOk(wic.received.some((m: SipMessage) => m.kind === 'response' && m.status === 200), 'the raw 200 never reaches the client');
});

t.test('issue 11 #9: a provisional the P-CSCF cannot process is dropped, never relayed unchanged; the final still decides', async (t) => {
  const env = await guarded(t, true);
  const { core, pcscf, wic } = env;
  await pcscf.fromClient('conn-1', invite());
  const atCore = await core.request('INVITE');
  const contactOfBob: [string, string] = ['Contact', `<sip:bob@127.0.0.1:${core.port}>`];
  core.answer(atCore, 183, { toTag: 'b8', headers: [contactOfBob, ['Record-Route', '<sip:broken']] });
  core.answer(atCore, 180, { toTag: 'b8', headers: [contactOfBob] });
  t.ok(await wic.response(180, 'INVITE'), 'the well-formed 180 is relayed');
  t.notOk(wic.received.some((m) => m.kind === 'response' && m.status === 183), 'the 183 with an unparsable Record-Route is not');
  core.answer(atCore, 486, { toTag: 'b8' });
  t.ok(await wic.response(486, 'INVITE'), 'the final is relayed');
  t.same(await pcscf.dialogs.byCallId('call-a'), [], 'no dialog left behind');
});

t.test('issue 11 #9: an answer whose SDP the IMS-ALG cannot relay → 502 with Warning to the WIC; ACK + BYE toward the IMS; media released', async (t) => {
  const gateway = new FakeGateway();
  const env = await guarded(t, true, { media: new InProcessMediaControl(gateway) });
  const { core, pcscf, wic } = env;
  await pcscf.fromClient('conn-1', chromeInvite());
  const atCore = await core.request('INVITE');
  gateway.failure = new Error('gateway lost the call');
  core.send(withBody(createResponse(atCore, 200, 'OK', { toTag: 'b6', headers: [
    ['Contact', `<sip:bob@127.0.0.1:${core.port}>`], ['Record-Route', getHeaders(atCore, 'Record-Route').join(', ')],
  ] }), plainRtpAnswer('127.0.0.1', 4000), 'application/sdp'));
  const refused = await wic.response(502, 'INVITE');
  t.match(getHeader(refused, 'Warning') ?? '', /^399 127\.0\.0\.1 "unprocessable 200 .*SDP/, 'the Warning says why');
  t.equal(tagOf(to(await core.request('ACK'))), 'b6');
  const bye = await core.request('BYE');
  core.answer(bye, 200);
  await settle();
  t.equal(pcscf.mediaLegCount, 0, 'the media leg is released');
  t.same(await pcscf.dialogs.byCallId('call-a'), [], 'no dialog left behind');
});

t.test('issue 11 #9: a WIC answer the P-CSCF cannot relay → 502 with Warning toward the IMS; ACK + BYE to the WIC; media released', async (t) => {
  const gateway = new FakeGateway();
  const env = await guarded(t, true, { media: new InProcessMediaControl(gateway) });
  const { core, pcscf, wic, registerAtCore } = env;
  core.send(createRequest({ method: 'INVITE', uri: 'sip:alice@df7jal23ls0d.invalid;transport=ws', headers: [
    ['Via', `SIP/2.0/UDP 127.0.0.1:${core.port};branch=z9hG4bKterm5;rport`], ['Max-Forwards', '68'], ['Route', getHeader(registerAtCore!, 'Path') ?? ''],
    ['Record-Route', `<sip:127.0.0.1:${core.port};lr>`], ['From', '<sip:carol@ims.test>;tag=c5'], ['To', '<sip:alice@ims.test>'],
    ['Call-ID', 'term-5'], ['CSeq', '1 INVITE'], ['Contact', `<sip:carol@127.0.0.1:${core.port}>`], ['Content-Type', 'application/sdp'],
  ], body: plainRtpAnswer('127.0.0.1', 31000) }), { host: '127.0.0.1', port: pcscf.mwAddresses[0]!.port });
  const atWic = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'INVITE');
  t.equal(pcscf.mediaLegCount, 1);
  gateway.failure = new Error('gateway lost the call');
  const wicAnswer = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=setup:active\r\n';
  await pcscf.fromClient('conn-1', createResponse(atWic, 200, 'OK', { toTag: 'w5', body: wicAnswer, contentType: 'application/sdp', headers: [['Contact', '<sip:alice@df7jal23ls0d.invalid;transport=ws>']] }));
  const refused = await core.response(502, 'INVITE');
  t.match(getHeader(refused, 'Warning') ?? '', /^399 127\.0\.0\.1 "/, 'RFC 3261 §20.43: our Mw host');
  const ack = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'ACK');
  t.equal(tagOf(to(ack)), 'w5', 'the WIC\'s 2xx is acknowledged');
  const bye = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'BYE');
  t.equal(tagOf(to(bye)), 'w5', 'and its session ended');
  await pcscf.fromClient('conn-1', createResponse(bye, 200));
  await settle();
  t.equal(pcscf.mediaLegCount, 0, 'the media leg is released');
  t.same(await pcscf.dialogs.byCallId('term-5'), [], 'no dialog left behind');
});

t.test('R-ORIG-10: subscription dialogs still work: a WIC SUBSCRIBE refresh and a WIC NOTIFY in an IMS-created subscription reach the IMS along their route sets', async (t) => {
  const env = await guarded(t, true);
  const { core, pcscf, wic, registerAtCore } = env;
  // The WIC subscribes (out of dialog, R-ORIG-11); the IMS records its route and answers 200.
  await pcscf.fromClient('conn-1', createRequest({ method: 'SUBSCRIBE', uri: 'sip:bob@ims.test', headers: [
    ['Via', wicVia('sub1')], ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=s1'], ['To', '<sip:bob@ims.test>'],
    ['Call-ID', 'sub-a'], ['CSeq', '1 SUBSCRIBE'], ['Event', 'presence'], ['Expires', '600'], ['Contact', '<sip:alice@df7jal23ls0d.invalid;transport=ws>'],
  ] }));
  const subscribe = await core.request('SUBSCRIBE');
  const imsRoute = `<sip:127.0.0.1:${core.port};lr;sub>`;
  core.answer(subscribe, 200, { toTag: 'n1', headers: [['Contact', `<sip:bob@127.0.0.1:${core.port}>`], ['Expires', '600'], ['Record-Route', [imsRoute, ...getHeaders(subscribe, 'Record-Route')].join(', ')]] });
  await wic.response(200, 'SUBSCRIBE');
  await pcscf.fromClient('conn-1', createRequest({ method: 'SUBSCRIBE', uri: `sip:bob@127.0.0.1:${core.port}`, headers: [
    ['Via', wicVia('sub2')], ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=s1'], ['To', '<sip:bob@ims.test>;tag=n1'],
    ['Call-ID', 'sub-a'], ['CSeq', '2 SUBSCRIBE'], ['Event', 'presence'], ['Expires', '0'], ['Route', `<sip:127.0.0.1:${env.target.port};lr>`],
  ] }));
  const refresh = await core.request('SUBSCRIBE');
  t.same(getHeaders(refresh, 'Route'), [imsRoute], 'the refresh follows the route set the IMS recorded');
  core.answer(refresh, 200);
  t.ok(await wic.response(200, 'SUBSCRIBE'));

  // The IMS subscribes to the WIC (terminating); the WIC's NOTIFY goes back in that dialog.
  core.send(createRequest({ method: 'SUBSCRIBE', uri: 'sip:alice@df7jal23ls0d.invalid;transport=ws', headers: [
    ['Via', `SIP/2.0/UDP 127.0.0.1:${core.port};branch=z9hG4bKsubterm;rport`], ['Max-Forwards', '68'], ['Route', getHeader(registerAtCore!, 'Path') ?? ''],
    ['Record-Route', `<sip:127.0.0.1:${core.port};lr;subterm>`], ['From', '<sip:carol@ims.test>;tag=c3'], ['To', '<sip:alice@ims.test>'],
    ['Call-ID', 'sub-t'], ['CSeq', '1 SUBSCRIBE'], ['Event', 'dialog'], ['Expires', '600'], ['Contact', `<sip:carol@127.0.0.1:${core.port}>`],
  ] }), { host: '127.0.0.1', port: pcscf.mwAddresses[0]!.port });
  const atWic = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'SUBSCRIBE');
  await pcscf.fromClient('conn-1', createResponse(atWic, 200, 'OK', { toTag: 'w3', headers: [['Contact', '<sip:alice@df7jal23ls0d.invalid;transport=ws>'], ['Expires', '600']] }));
  await core.response(200, 'SUBSCRIBE');
  await pcscf.fromClient('conn-1', createRequest({ method: 'NOTIFY', uri: `sip:carol@127.0.0.1:${core.port}`, headers: [
    ['Via', wicVia('not1')], ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=w3'], ['To', '<sip:carol@ims.test>;tag=c3'],
    ['Call-ID', 'sub-t'], ['CSeq', '1 NOTIFY'], ['Event', 'dialog'], ['Subscription-State', 'active;expires=600'],
    ['Route', `<sip:victim.example:${env.target.port};lr>`],
  ] }));
  const notify = await core.request('NOTIFY');
  t.same(getHeaders(notify, 'Route'), [`<sip:127.0.0.1:${core.port};lr;subterm>`], 'the NOTIFY follows the terminating dialog\'s route set');
  core.answer(notify, 200);
  t.ok(await wic.response(200, 'NOTIFY'));
  await settle();
  nothingAt(t, env, 'subscription dialogs');
});
