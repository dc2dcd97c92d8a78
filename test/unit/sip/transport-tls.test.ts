import t from 'tap';
import { callId, createResponse, topVia, type SipRequest } from '../../../core/sip/index.js';
import {
  TlsTransport, viaResponseTarget, type InboundSipMessage, type TransportFault,
} from '../../../core/sip/transport/index.js';
import { selfSignedCertificate } from '../../support/tls-cert.js';
import { optionsRequest, until } from '../../support/transport-helpers.js';

t.test('RFC 3261 §26.3.1 / RFC 5922: TLS round trip with certificate verification and connection reuse', async (t) => {
  const { key, cert } = selfSignedCertificate('scscf.ims.test');
  const server = new TlsTransport({ key, cert });
  const client = new TlsTransport({ key, cert, ca: cert });
  t.teardown(() => Promise.all([server.close(), client.close()]).then(() => undefined));
  const { port } = await server.listen('127.0.0.1', 0);
  const clientPort = (await client.listen('127.0.0.1', 0)).port;
  const atServer: InboundSipMessage[] = [];
  const atClient: InboundSipMessage[] = [];
  server.onMessage((m) => atServer.push(m));
  client.onMessage((m) => atClient.push(m));

  // RFC 5922 §7.2: the certificate is checked against the domain the target was resolved from.
  const target = { transport: 'tls' as const, host: '127.0.0.1', port, tlsServerName: 'scscf.ims.test' };
  await client.send(optionsRequest('tls-1', clientPort), target);
  await client.send(optionsRequest('tls-2', clientPort), target);
  await until(() => atServer.length === 2, 'two requests over TLS');
  t.same(atServer.map((m) => callId(m.message)), ['tls-1', 'tls-2']);
  t.equal(atServer[0]!.source.transport, 'tls');
  t.equal(client.stats.connectionsOpened, 1, 'one TLS connection for both requests');

  const first = atServer[0]!;
  await server.send(createResponse(first.message as SipRequest, 200), viaResponseTarget(topVia(first.message), first.source));
  await until(() => atClient.length === 1, 'the response over the same TLS connection');
  t.equal(server.stats.connectionsOpened, 1);
});

t.test('RFC 5922 §7.2: a certificate that does not match the expected domain is refused', async (t) => {
  const { key, cert } = selfSignedCertificate('scscf.ims.test');
  const server = new TlsTransport({ key, cert });
  const client = new TlsTransport({ key, cert, ca: cert });
  t.teardown(() => Promise.all([server.close(), client.close()]).then(() => undefined));
  const { port } = await server.listen('127.0.0.1', 0);
  const faults: TransportFault[] = [];
  server.onFault((f) => faults.push(f));
  await t.rejects(
    client.send(optionsRequest('wrong-name', 5061), { transport: 'tls', host: '127.0.0.1', port, tlsServerName: 'icscf.other.test' }),
    { code: 'EPC_ERR_SIP_TRANSPORT', message: /icscf\.other\.test/ },
  );
  // An untrusted peer is refused too.
  const stranger = new TlsTransport({ key, cert });
  t.teardown(() => stranger.close());
  await t.rejects(stranger.send(optionsRequest('untrusted', 5061), { transport: 'tls', host: '127.0.0.1', port }), {
    code: 'EPC_ERR_SIP_TRANSPORT', message: /self.signed/i,
  });
  t.equal(client.connectionCount, 0);
  await until(() => faults.length >= 1, 'the server to report the failed handshakes');
  t.equal(faults[0]?.action, 'closed');
});

