import t from 'tap';
import {
  SipTransportLayer, type InboundSipMessage,
} from '../../../core/sip/transport/index.js';
import { selfSignedCertificate } from '../../support/tls-cert.js';
import { optionsRequest, until } from '../../support/transport-helpers.js';

t.test('SipTransportLayer: udp/tcp/tls listeners behind one sender, picked by target transport', async (t) => {
  const { key, cert } = selfSignedCertificate('scscf.ims.test');
  const a = await SipTransportLayer.start({
    listeners: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0', 'tls:127.0.0.1:0'], tls: { key, cert, ca: cert },
  });
  const b = await SipTransportLayer.start({
    listeners: ['udp:127.0.0.1:0', 'tcp:127.0.0.1:0', { transport: 'tls', host: '127.0.0.1', port: 0, advertise: { host: 'pcscf.ims.test', port: 5061 } }],
    tls: { key, cert, ca: cert },
  });
  t.teardown(() => Promise.all([a.close(), b.close()]).then(() => undefined));
  t.same(b.protocols, ['udp', 'tcp', 'tls']);
  t.same(b.localVia('tls'), { host: 'pcscf.ims.test', port: 5061 }, 'advertised sent-by');
  const got: InboundSipMessage[] = [];
  b.onMessage((m) => got.push(m));
  for (const transport of ['udp', 'tcp', 'tls'] as const) {
    const via = a.localVia(transport);
    t.equal(via.host, '127.0.0.1');
    t.equal(via.port, a.transport(transport)!.address().port);
    await a.send(optionsRequest(`layer-${transport}`, via.port), {
      transport, host: '127.0.0.1', port: b.transport(transport)!.address().port, tlsServerName: 'scscf.ims.test',
    });
  }
  await until(() => got.length === 3, 'one message per transport');
  t.same(got.map((m) => m.source.transport).sort(), ['tcp', 'tls', 'udp']);
  await t.rejects(a.send(optionsRequest('ws', 1), { transport: 'ws', host: '127.0.0.1', port: 80 }), {
    code: 'EPC_ERR_SIP_TRANSPORT', message: /no ws listener/,
  });
  t.throws(() => a.localVia('ws'), { code: 'EPC_ERR_INVALID_STATE' });
  await a.close();
  await a.close();
  await t.rejects(a.send(optionsRequest('closed', 1), { transport: 'udp', host: '127.0.0.1', port: 9 }), { code: 'EPC_ERR_SIP_TRANSPORT' });
});

t.test('SipTransportLayer: bad listener configs fail with EPC_ERR_CONFIG_INVALID and leave nothing bound', async (t) => {
  await t.rejects(SipTransportLayer.start({ listeners: ['sctp:127.0.0.1:5060'] }), { code: 'EPC_ERR_CONFIG_INVALID', message: /sctp:127\.0\.0\.1:5060/ });
  await t.rejects(SipTransportLayer.start({ listeners: ['udp:127.0.0.1:99999'] }), { code: 'EPC_ERR_CONFIG_INVALID', message: /above 65535/ });
  await t.rejects(SipTransportLayer.start({ listeners: ['tls:127.0.0.1:0'] }), { code: 'EPC_ERR_CONFIG_INVALID', message: /tls\.key/ });
  await t.rejects(SipTransportLayer.start({ listeners: ['udp:0.0.0.0:0'] }), { code: 'EPC_ERR_CONFIG_INVALID', message: /advertise/ });
  await t.rejects(SipTransportLayer.start({ listeners: ['udp:127.0.0.1:0', 'udp:127.0.0.1:0'] }), { code: 'EPC_ERR_CONFIG_INVALID', message: /two udp listeners/ });
  const taken = await SipTransportLayer.start({ listeners: ['tcp:127.0.0.1:0'] });
  t.teardown(() => taken.close());
  const port = taken.transport('tcp')!.address().port;
  await t.rejects(SipTransportLayer.start({ listeners: ['udp:127.0.0.1:0', `tcp:127.0.0.1:${port}`] }), {
    code: 'EPC_ERR_SIP_TRANSPORT', message: /EADDRINUSE/,
  });
});
