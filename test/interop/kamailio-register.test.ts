import t, { type Test } from 'tap';
import { DigestClient, formatDigestCredentials } from '../../core/sip/auth/digest.js';
import {
  authValues, contacts, createRequest, expires, formatUri, generateBranch, generateCallId, generateTag,
  getHeader, getParam, nameAddrList, type SipRequest, type SipResponse, type SipUri,
} from '../../core/sip/index.js';
import { TransactionLayer } from '../../core/sip/transaction/index.js';
import { UdpTransport } from '../../core/sip/transport/index.js';
import type { SipTarget } from '../../core/sip/transport/types.js';
import { KAMAILIO_CONFIGS, startKamailio } from '../support/peers/kamailio.js';
import { allocatePorts, releasePort } from '../support/peers/ports.js';

/**
 * Our own stack against a real registrar: UdpTransport + TransactionLayer carry the REGISTERs,
 * DigestClient answers Kamailio's challenges.
 */
async function setUp(t: Test) {
  const [sipPort = 0, clientPort = 0] = await allocatePorts(2);
  const kamailio = await startKamailio({ config: KAMAILIO_CONFIGS.imsCore, defines: { SIP_PORT: sipPort } });
  const transport = new UdpTransport();
  await transport.listen('127.0.0.1', clientPort);
  const layer = new TransactionLayer({ sender: transport, onRequest: () => undefined });
  transport.onMessage((inbound) => layer.receive(inbound));
  t.teardown(async () => {
    layer.close();
    await transport.close();
    await kamailio.stop();
    releasePort(sipPort);
    releasePort(clientPort);
  });
  const target: SipTarget = { transport: 'udp', host: '127.0.0.1', port: sipPort };
  const send = (request: SipRequest): Promise<SipResponse> => new Promise((resolve, reject) => {
    layer.sendRequest(request, target, {
      onFinal: resolve,
      onTimeout: () => reject(new Error(`no final response to ${request.method}\n${kamailio.output().slice(-2000)}`)),
      onTransportError: reject,
    });
  });
  return { sipPort, clientPort, send, kamailio };
}

function register(user: string, clientPort: number, callId: string, fromTag: string, seq: number,
  authorization?: string): SipRequest {
  const headers: [string, string][] = [
    ['Via', `SIP/2.0/UDP 127.0.0.1:${clientPort};branch=${generateBranch()};rport`],
    ['Max-Forwards', '70'],
    ['From', `<sip:${user}@ims.test>;tag=${fromTag}`],
    ['To', `<sip:${user}@ims.test>`],
    ['Call-ID', callId],
    ['CSeq', `${seq} REGISTER`],
    ['Contact', `<sip:${user}@127.0.0.1:${clientPort}>`],
    // We play the P-CSCF: RFC 3327 §5.1 Path toward us, and we say we support it.
    ['Path', `<sip:term@127.0.0.1:${clientPort};lr>`],
    ['Supported', 'path'],
    ['Expires', '300'],
  ];
  if (authorization !== undefined) headers.push(['Authorization', authorization]);
  return createRequest({ method: 'REGISTER', uri: 'sip:ims.test', headers });
}

t.test('RFC 3261 §22.2 + TS 24.229 5.2.2: our client registers with Kamailio through a 401 digest challenge', async (t) => {
  const { sipPort, clientPort, send } = await setUp(t);
  const client = new DigestClient({ username: 'alice', password: 'alicepw' });
  const callId = generateCallId();
  const tag = generateTag();
  const request = { method: 'REGISTER', uri: 'sip:ims.test' };

  const challenged = await send(register('alice', clientPort, callId, tag, 1));
  t.equal(challenged.status, 401, 'first REGISTER is challenged');
  const challenges = authValues(challenged, 'WWW-Authenticate');
  t.equal(challenges[0]?.params['realm'], 'ims.test');
  const credentials = client.respond(challenges, request);
  t.ok(credentials, 'DigestClient answers the challenge');
  if (credentials === undefined) return;

  const ok = await send(register('alice', clientPort, callId, tag, 2, formatDigestCredentials(credentials)));
  t.equal(ok.status, 200, 'the answered REGISTER is accepted');
  client.accepted();

  // TS 24.229 5.2.5.1 / 5.4.1.2.2: the Service-Route the P-CSCF must store and preload.
  const serviceRoute = nameAddrList(ok, 'Service-Route');
  t.equal(serviceRoute.length, 1);
  const sr = serviceRoute[0]?.uri as SipUri | undefined;
  t.equal(sr?.user, 'orig');
  t.equal(sr?.host, '127.0.0.1');
  t.equal(sr?.port, sipPort);
  t.ok(sr !== undefined && getParam(sr.params, 'lr') !== undefined, 'Service-Route is a loose route');
  // RFC 3455 §4.1: the registered identities.
  const associated = nameAddrList(ok, 'P-Associated-URI').map((na) => formatUri(na.uri));
  t.same(associated, ['sip:alice@ims.test']);
  // RFC 3327 §5.3: the registrar echoes Path to a UA that supports it.
  const path = nameAddrList(ok, 'Path').map((na) => formatUri(na.uri));
  t.same(path, [`sip:term@127.0.0.1:${clientPort};lr`]);
  const binding = contacts(ok)[0];
  t.ok(binding !== undefined && !('star' in binding && binding.star === true), 'the binding is listed');
  t.match(getHeader(ok, 'Contact') ?? '', /expires=300/, 'with the requested expiry');
  t.equal(expires(ok), undefined, 'the expiry is per contact, not an Expires header');

  // RFC 7616 §3.4: a refresh reuses the nonce with nc=2 and is accepted without a new challenge.
  const refreshCredentials = client.authorize('ims.test', request);
  t.equal(refreshCredentials?.params['nc'], '00000002');
  if (refreshCredentials === undefined) return;
  const refreshed = await send(register('alice', clientPort, callId, tag, 3, formatDigestCredentials(refreshCredentials)));
  t.equal(refreshed.status, 200, 'the pre-authorized refresh is accepted straight away');
});

t.test('RFC 3261 §22.2: a wrong password is challenged again and DigestClient gives up instead of looping', async (t) => {
  const { clientPort, send } = await setUp(t);
  const client = new DigestClient({ username: 'alice', password: 'not-alicepw' });
  const callId = generateCallId();
  const tag = generateTag();
  const request = { method: 'REGISTER', uri: 'sip:ims.test' };
  const first = await send(register('alice', clientPort, callId, tag, 1));
  const credentials = client.respond(authValues(first, 'WWW-Authenticate'), request);
  t.ok(credentials);
  if (credentials === undefined) return;
  const second = await send(register('alice', clientPort, callId, tag, 2, formatDigestCredentials(credentials)));
  t.equal(second.status, 401, 'Kamailio rejects the credentials with a new challenge');
  t.not(authValues(second, 'WWW-Authenticate')[0]?.params['stale'], 'true', 'not a stale nonce');
  t.equal(client.respond(authValues(second, 'WWW-Authenticate'), request), undefined, 'no second attempt');
});
