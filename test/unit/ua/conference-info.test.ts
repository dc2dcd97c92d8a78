import t from 'tap';
import { parseConferenceInfo } from '../../../core/ua/conference-info.js';
import { derivedConferenceFactoryUri } from '../../../core/ua/conference-focus.js';

const NS = 'urn:ietf:params:xml:ns:conference-info';

t.test('RFC 4575 §5: entity, state, version and each <user> with its display text and first endpoint status', async (t) => {
  const info = parseConferenceInfo(`<?xml version="1.0" encoding="UTF-8"?>
<conference-info xmlns="${NS}" entity="sip:conf-1@focus.ims.test" state="full" version="3">
  <conference-description><subject>x</subject></conference-description>
  <users>
    <user entity="sip:alice@ims.test" state="full"><display-text>Alice &amp; co</display-text>
      <endpoint entity="sip:alice@ims.test"><status>connected</status></endpoint>
      <endpoint entity="sip:alice2@ims.test"><status>on-hold</status></endpoint></user>
    <user entity="tel:+15551234" state="deleted"/>
    <user><display-text>no entity: skipped</display-text></user>
  </users>
</conference-info>`);
  t.same(info, {
    entity: 'sip:conf-1@focus.ims.test', state: 'full', version: 3,
    participants: [
      { entity: 'sip:alice@ims.test', state: 'full', displayText: 'Alice & co', status: 'connected' },
      { entity: 'tel:+15551234', state: 'deleted' },
    ],
  });
});

t.test('RFC 4575: elements of other namespaces are not conference-info ones', async (t) => {
  t.equal(parseConferenceInfo('<conference-info entity="sip:c@x" version="1"><users/></conference-info>'), undefined, 'no namespace: not a body of this package');
  const foreign = parseConferenceInfo(`<conference-info xmlns="${NS}" entity="sip:c@x"><users><x:user xmlns:x="urn:other" entity="sip:evil@x"/></users></conference-info>`);
  t.same(foreign?.participants, [], 'a <user> of another namespace is ignored');
});

t.test('untrusted bodies: DTDs (entity expansion), malformed XML, oversized or too deep documents give no list', async (t) => {
  t.equal(parseConferenceInfo(`<!DOCTYPE c [<!ENTITY a "aaaa">]><conference-info xmlns="${NS}" entity="&a;"/>`), undefined, 'a DOCTYPE stops the parse');
  t.equal(parseConferenceInfo(`<conference-info xmlns="${NS}" entity="sip:c@x"><users>`), undefined, 'not well-formed');
  t.equal(parseConferenceInfo(`<conference-info xmlns="${NS}" entity="sip:c@x">${' '.repeat(70_000)}</conference-info>`), undefined, 'over 64 KiB');
  t.equal(parseConferenceInfo(`<conference-info xmlns="${NS}" entity="sip:c@x">${'<a>'.repeat(20)}${'</a>'.repeat(20)}</conference-info>`), undefined, 'deeper than 16');
  const users = Array.from({ length: 300 }, (_, i) => `<user entity="sip:u${i}@x"/>`).join('');
  t.equal(parseConferenceInfo(`<conference-info xmlns="${NS}" entity="sip:c@x"><users>${users}</users></conference-info>`), undefined, 'more than 256 users');
  t.equal(parseConferenceInfo(''), undefined);
});

t.test('TS 23.003 §13.10 / TS 24.605 §4.2.1: the derived conference factory URI of a home domain', async (t) => {
  t.equal(derivedConferenceFactoryUri('ims.test'), 'sip:mmtel@conf-factory.ims.test');
});
