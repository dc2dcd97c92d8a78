import t from 'tap';
import { classes, Message, methods, parseMessage } from 'werift';
import { IceLiteAgent } from '../../../media-gw/webrtc/ice-lite-agent.js';
import { classifyDatagram, PacketClass } from '../../../media-gw/webrtc/demux.js';

const LOCAL = { ufrag: 'gwUf', pwd: 'gateway-password-0123456789' };
const REMOTE = { ufrag: 'brUf', pwd: 'browser-password-0123456789' };
const FROM = { address: '127.0.0.1', port: 40000 };

function check(options: { username?: string; key?: string; useCandidate?: boolean } = {}): Buffer {
  const request = new Message(methods.BINDING, classes.REQUEST)
    .setAttribute('USERNAME', options.username ?? `${LOCAL.ufrag}:${REMOTE.ufrag}`)
    .setAttribute('PRIORITY', 1853824767)
    .setAttribute('ICE-CONTROLLING', BigInt(12345));
  if (options.useCandidate) request.setAttribute('USE-CANDIDATE', null);
  return request.addMessageIntegrity(Buffer.from(options.key ?? LOCAL.pwd)).addFingerprint().bytes;
}

t.test('R-ICE-2 / RFC 8445 §7.3: an authenticated check gets a signed success response with XOR-MAPPED-ADDRESS', async (t) => {
  const agent = new IceLiteAgent({ local: LOCAL, remote: REMOTE });
  const verdict = agent.handleStun(check(), FROM);
  t.equal(verdict.kind, 'response');
  if (verdict.kind !== 'response') return;
  t.equal(verdict.nominated, false);
  const response = parseMessage(verdict.bytes, Buffer.from(LOCAL.pwd));
  t.ok(response, 'MESSAGE-INTEGRITY verifies with our pwd');
  t.equal(response?.messageClass, classes.RESPONSE);
  t.same(response?.getAttributeValue('XOR-MAPPED-ADDRESS'), ['127.0.0.1', 40000]);
  t.equal(agent.selected, undefined, 'no pair before USE-CANDIDATE');
  t.ok(agent.isValidated(FROM));
});

t.test('RFC 8445 §7.3.1.5: USE-CANDIDATE nominates the pair the check came from', async (t) => {
  const agent = new IceLiteAgent({ local: LOCAL, remote: REMOTE });
  const verdict = agent.handleStun(check({ useCandidate: true }), FROM);
  t.equal(verdict.kind === 'response' && verdict.nominated, true);
  t.same(agent.selected, FROM);
});

t.test('RFC 5389 §10.1.2: wrong password, foreign ufrag or a non-STUN datagram are dropped', async (t) => {
  const agent = new IceLiteAgent({ local: LOCAL, remote: REMOTE });
  t.equal(agent.handleStun(check({ key: 'not-the-password-at-all!!' }), FROM).kind, 'drop');
  t.equal(agent.handleStun(check({ username: `other:${REMOTE.ufrag}` }), FROM).kind, 'drop');
  t.equal(agent.handleStun(check({ username: `${LOCAL.ufrag}:someoneElse` }), FROM).kind, 'drop');
  t.equal(agent.handleStun(Buffer.from('not stun at all, just bytes'), FROM).kind, 'drop');
  t.notOk(agent.isValidated(FROM));
});

t.test('R-SDP-9: with no remote ufrag known yet, any sender ufrag is accepted for our ufrag', async (t) => {
  const agent = new IceLiteAgent({ local: LOCAL });
  t.equal(agent.handleStun(check({ username: `${LOCAL.ufrag}:whoever` }), FROM).kind, 'response');
});

t.test('RFC 7675 §5.1: consent expires 30 s after the last check on the selected pair', async (t) => {
  let now = 0;
  const agent = new IceLiteAgent({ local: LOCAL, remote: REMOTE, now: () => now });
  agent.handleStun(check({ useCandidate: true }), FROM);
  now = 29_000;
  t.notOk(agent.consentExpired());
  agent.handleStun(check(), FROM); // consent refresh
  now = 58_000;
  t.notOk(agent.consentExpired(), 'refreshed at 29 s');
  now = 59_001;
  t.ok(agent.consentExpired());
});

t.test('R-ICE-4: an ICE restart takes new credentials; checks with the old ones fail', async (t) => {
  const agent = new IceLiteAgent({ local: LOCAL, remote: REMOTE });
  agent.restart({ ufrag: 'newB', pwd: 'new-browser-password-0123456' }, { ufrag: 'newG', pwd: 'new-gateway-password-012345' });
  t.equal(agent.handleStun(check(), FROM).kind, 'drop');
  t.equal(agent.handleStun(check({ username: 'newG:newB', key: 'new-gateway-password-012345' }), FROM).kind, 'response');
});

t.test('RFC 7983 §7: first-byte demultiplexing of STUN, DTLS and RTP/RTCP', async (t) => {
  t.equal(classifyDatagram(0), PacketClass.stun);
  t.equal(classifyDatagram(1), PacketClass.stun);
  t.equal(classifyDatagram(22), PacketClass.dtls);
  t.equal(classifyDatagram(0x80), PacketClass.media);
  t.equal(classifyDatagram(191), PacketClass.media);
  t.equal(classifyDatagram(64), PacketClass.unknown, 'TURN channel range is not ours');
});
