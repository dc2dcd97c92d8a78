// The dev IMS core's trusted nodes (R-REG-9): whose trusted-node REGISTERs it honours.
import t from 'tap';
import { createRequest } from '../../../core/sip/index.js';
import type { SipSource } from '../../../core/sip/transport/types.js';
import { TrustedNodes } from '../../../examples/dev-ims-core/index.js';

const register = (via: string) => createRequest({ method: 'REGISTER', uri: 'sip:ims.test', headers: [
  ['Via', via], ['From', '<sip:alice@ims.test>;tag=1'], ['To', '<sip:alice@ims.test>'], ['Call-ID', 'c'], ['CSeq', '1 REGISTER'],
] });
const source = (transport: 'udp' | 'tcp', remoteAddress: string, remotePort: number): SipSource => ({ transport, remoteAddress, remotePort, localAddress: '127.0.0.1', localPort: 5070 });

t.test('R-REG-9: over UDP the source address and port must be a trusted node\'s', async (t) => {
  const nodes = new TrustedNodes([{ host: '127.0.0.1', port: 5060 }]);
  const request = register('SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1');
  t.ok(nodes.trusts(source('udp', '127.0.0.1', 5060), request));
  t.notOk(nodes.trusts(source('udp', '127.0.0.1', 5061), request), 'another port on the same host');
  t.notOk(nodes.trusts(source('udp', '127.0.0.2', 5060), request), 'another host');
  t.ok(nodes.trusts(source('udp', '::ffff:127.0.0.1', 5060), request), 'IPv4-mapped IPv6 is the same host');
});

t.test('over TCP (ephemeral source port) the source IP and the top Via\'s port must match', async (t) => {
  const nodes = new TrustedNodes([{ host: '127.0.0.1', port: 5060 }]);
  t.ok(nodes.trusts(source('tcp', '127.0.0.1', 43210), register('SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK1')));
  t.notOk(nodes.trusts(source('tcp', '127.0.0.1', 43210), register('SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK1')));
  t.notOk(nodes.trusts(source('tcp', '10.0.0.1', 43210), register('SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK1')));
});

t.test('nobody is trusted by default; a wildcard host trusts any source on its port', async (t) => {
  const request = register('SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1');
  t.equal(new TrustedNodes().size, 0);
  t.notOk(new TrustedNodes().trusts(source('udp', '127.0.0.1', 5060), request));
  t.ok(new TrustedNodes([{ host: '0.0.0.0', port: 5060 }]).trusts(source('udp', '192.0.2.7', 5060), request));
});
