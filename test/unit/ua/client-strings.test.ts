// Issue #11 defects 1 and 3 at core/ua: every client string the virtual UE writes into SIP
// (identities, targets, media types, reasons) is checked against its grammar where it enters;
// a refusal is EPC_ERR_UA_INVALID_ARGUMENT and nothing is sent. Quotes in a display name are
// legal and escaped (RFC 3261 §25.1 quoted-pair).
import t, { type Test } from 'tap';
import { EpcError } from '../../../core/errors.js';
import { formatUri, from, getHeader, getHeaders } from '../../../core/sip/index.js';
import { createVirtualUe } from '../../../core/ua/index.js';
import { FakeClock } from '../../support/fake-clock.js';
import { makeUe, OFFER, RecordingTransport, registeredUe } from '../../support/ua-fake-core.js';

const PAI_PROBE = 'text/plain\r\nP-Asserted-Identity: <sip:boss@ims.test>\r\n\r\n';

async function refusal(t: Test, action: () => unknown, what: string): Promise<void> {
  let thrown: unknown;
  try {
    await action();
  } catch (error) {
    thrown = error;
  }
  t.ok(thrown instanceof EpcError && thrown.code === 'EPC_ERR_UA_INVALID_ARGUMENT', `${what}: EPC_ERR_UA_INVALID_ARGUMENT`, { thrown: String(thrown) });
}

t.test('issue 11 #1: message() refuses a content type that is not a media type (the PAI probe); nothing is sent', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const before = transport.sent.length;
  for (const type of [PAI_PROBE, 'text/plain\nX: y', 'text/plain\0', 'text', 'text/plain;', 'text/plain, text/html']) {
    await refusal(t, () => ue.message('sip:bob@ims.test', 'hi', type), `contentType ${JSON.stringify(type)}`);
  }
  t.equal(transport.sent.length, before, 'no request left the UE');
  void ue.message('sip:bob@ims.test', 'hi', 'text/plain; charset="utf-8"');
  t.equal(getHeader(transport.last('MESSAGE'), 'Content-Type'), 'text/plain; charset="utf-8"', 'a media type with parameters is sent as given');
});

t.test('issue 11 #3 / RFC 3261 §19.1.1: targets with URI headers or that do not parse are refused by message, call, subscribe and transfer', async (t) => {
  const { ue, transport } = await registeredUe(t);
  const before = transport.sent.length;
  for (const target of ['sip:bob@ims.test?X-Evil=1', 'sip:bob@ims.test?Route=%3Csip:evil%3E', 'sip:bob@ims.test>\r\nX-Evil: 1', 'sip:bob@ims.test x', 'mailto:bob@ims.test', 'bob']) {
    await refusal(t, () => ue.message(target, 'hi'), `message to ${JSON.stringify(target)}`);
    await refusal(t, () => ue.call(target, { sdp: OFFER }), `call to ${JSON.stringify(target)}`);
    await refusal(t, () => ue.subscribe('reg', target), `subscribe to ${JSON.stringify(target)}`);
  }
  t.equal(transport.sent.length, before, 'no request left the UE');
});

t.test('issue 11 #3: identity strings: CR/LF in displayName, a non-NAI impi, an IMPU with URI headers are refused at creation', async (t) => {
  const make = (identity: Record<string, string>) => () => createVirtualUe({
    transport: new RecordingTransport(), clock: new FakeClock(), secure: false,
    identity: { impu: 'sip:alice@ims.test', password: 'alicepw', ...identity },
  });
  for (const displayName of ['Alice\r\nX-Evil: 1', 'Alice\nX', 'Alice\r']) await refusal(t, make({ displayName }), `displayName ${JSON.stringify(displayName)}`);
  for (const impi of ['alice@ims.test\r\nX-Evil: 1', 'alice", nc=00000099, x="', 'ali\\ce', 'ali ce', '']) await refusal(t, make({ impi }), `impi ${JSON.stringify(impi)}`);
  await refusal(t, make({ impu: 'sip:alice@ims.test?X-Evil=1' }), 'impu with URI headers');
  await refusal(t, make({ impu: 'sip:alice%0D%0AX-Evil:1@ims.test' }), 'an IMPU whose user part (the default impi) holds CR/LF');
});

t.test('RFC 3261 §25.1: quotes and backslashes in the display name are escaped; the REGISTER has one From that reads back exactly', async (t) => {
  const displayName = 'Al"ice \\ "boss" <sip:boss@ims.test>';
  const { ue, transport } = makeUe(t, { identity: { impu: 'sip:alice@ims.test', password: 'alicepw', displayName } });
  void ue.register();
  const register = transport.last('REGISTER');
  t.equal(getHeaders(register, 'From').length, 1);
  t.equal(from(register).displayName, displayName);
  t.equal(formatUri(from(register).uri), 'sip:alice@ims.test', 'the From URI is the IMPU');
});
