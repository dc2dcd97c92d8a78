/**
 * plugins/xmpp-ws/address: RFC 7622 JIDs, XEP-0106 escaping, RFC 7247 §5 JID <-> SIP/tel URI.
 */
import t from 'tap';
import { escapeLocalpart, unescapeLocalpart } from '../../../../plugins/xmpp-ws/address/jid-escaping.js';
import { bareJid, formatJid, parseJid } from '../../../../plugins/xmpp-ws/address/jid.js';
import { globalNumberOf, jidToUri, uriToJid } from '../../../../plugins/xmpp-ws/address/jid-sip-mapping.js';

/** The one typed refusal: an EpcError coded EPC_ERR_XMPP_JID_INVALID. */
const JID_INVALID = { name: 'EpcError', code: 'EPC_ERR_XMPP_JID_INVALID' };

t.test('XEP-0106 §5 examples: escaping and unescaping agree with the table', async (t) => {
  const table: [string, string][] = [
    ['space cadet', 'space\\20cadet'],
    ['call me "ishmael"', 'call\\20me\\20\\22ishmael\\22'],
    ['at&t guy', 'at\\26t\\20guy'],
    ["d'artagnan", 'd\\27artagnan'],
    ['/.fanboy', '\\2f.fanboy'],
    ['::foo::', '\\3a\\3afoo\\3a\\3a'],
    ['<foo>', '\\3cfoo\\3e'],
    ['user@host', 'user\\40host'],
    ['c:\\net', 'c\\3a\\net'],
    ['c:\\\\net', 'c\\3a\\\\net'],
    ['c:\\cool stuff', 'c\\3a\\cool\\20stuff'],
    ['c:\\5commas', 'c\\3a\\5c5commas'],
  ];
  for (const [plain, escaped] of table) {
    t.equal(escapeLocalpart(plain), escaped, `escape ${plain}`);
    t.equal(unescapeLocalpart(escaped), plain, `unescape ${escaped}`);
    t.same(parseJid(`${escaped}@example.com`).local, escaped.toLowerCase(), 'the escaped form is a valid localpart');
  }
  t.equal(escapeLocalpart(' leading'), undefined, 'XEP-0106 §4.3: a leading space cannot be escaped');
  t.equal(escapeLocalpart('trailing '), undefined);
  t.equal(unescapeLocalpart('\\41bc\\zz'), '\\41bc\\zz', 'only the ten defined sequences are unescaped');
});

t.test('RFC 7622: JIDs parse into local, domain and resource; invalid ones are refused with a typed error', async (t) => {
  t.same(parseJid('Juliet@Capulet.LIT/Balcony'), { local: 'juliet', domain: 'capulet.lit', resource: 'Balcony' }, 'local and domain are case-insensitive, resource is not');
  t.same(parseJid('capulet.lit'), { domain: 'capulet.lit' });
  t.same(parseJid('juliet@capulet.lit/balcony/stair with spaces'), { local: 'juliet', domain: 'capulet.lit', resource: 'balcony/stair with spaces' }, '§3.2: only the first / separates the resource');
  t.same(parseJid('juliet@capulet.lit.'), { local: 'juliet', domain: 'capulet.lit' }, '§3.2: a trailing dot is dropped');
  t.same(parseJid('juliet@[2001:db8::1]'), { local: 'juliet', domain: '[2001:db8::1]' });
  t.same(parseJid('juliet@192.0.2.1'), { local: 'juliet', domain: '192.0.2.1' });
  t.equal(formatJid(parseJid('a@b.example/r')), 'a@b.example/r');
  t.same(bareJid(parseJid('a@b.example/r')), { local: 'a', domain: 'b.example' });
  const refused: [string, string][] = [
    ['', 'empty'], ['@capulet.lit', 'empty localpart'], ['juliet@', 'empty domain'], ['juliet@capulet.lit/', 'empty resource'],
    ['a@b@capulet.lit', 'two @'], ['jul"iet@capulet.lit', 'quote in localpart'], ['jul iet@capulet.lit', 'space in localpart'],
    ["o'neil@capulet.lit", "' in localpart"], ['a<b@capulet.lit', '< in localpart'], ['a:b@capulet.lit', ': in localpart'],
    ['a&b@capulet.lit', '& in localpart'], ['juliet@capu let.lit', 'space in domain'], ['juliet@-capulet.lit', 'label starting with -'],
    ['juliet@[not-ipv6]', 'bad IP literal'], ['juliet@capulet.lit/bal\u0007cony', 'control in resource'],
    [`${'a'.repeat(1024)}@capulet.lit`, 'localpart over 1023 octets'], [`juliet@capulet.lit/${'é'.repeat(512)}`, 'resource over 1023 octets (UTF-8)'],
    [`juliet@${'a'.repeat(64)}.lit`, 'label over 63'],
  ];
  for (const [jid, label] of refused) t.throws(() => parseJid(jid), JID_INVALID, label);
  t.same(parseJid(`${'a'.repeat(1023)}@capulet.lit`).local?.length, 1023, '1023 octets is the limit, inclusive');
});

t.test('RFC 7247 §5: local@domain[/resource] <-> sip:local@domain', async (t) => {
  t.equal(jidToUri(parseJid('juliet@example.com/balcony')), 'sip:juliet@example.com', 'the resource has no SIP equivalent');
  t.equal(jidToUri(parseJid('juliet@example.com/balcony'), { resourceAsGruu: true }), 'sip:juliet@example.com;gr=balcony');
  t.same(uriToJid('sip:juliet@example.com', { telDomain: 'ims.example' }), { local: 'juliet', domain: 'example.com' });
  t.same(uriToJid('sip:juliet@example.com;gr=balcony', { telDomain: 'ims.example' }), { local: 'juliet', domain: 'example.com', resource: 'balcony' });
  // XEP-0106 characters travel percent-encoded in the SIP user part (RFC 3261 §25.1) and escaped in the JID.
  t.equal(jidToUri(parseJid('call\\20me\\20\\22ishmael\\22@example.com')), 'sip:call%20me%20%22ishmael%22@example.com');
  t.same(uriToJid('sip:call%20me%20%22ishmael%22@example.com', { telDomain: 'x' }), { local: 'call\\20me\\20\\22ishmael\\22', domain: 'example.com' });
  t.same(uriToJid('sip:d\'artagnan@example.com', { telDomain: 'x' }), { local: 'd\\27artagnan', domain: 'example.com' });
  t.same(uriToJid('sip:at&t@example.com', { telDomain: 'x' }), { local: 'at\\26t', domain: 'example.com' });
  t.throws(() => jidToUri(parseJid('example.com')), JID_INVALID, 'a domain JID has no user');
  t.throws(() => uriToJid('sip:example.com', { telDomain: 'x' }), JID_INVALID, 'a SIP URI without user');
  t.throws(() => uriToJid('mailto:juliet@example.com', { telDomain: 'x' }), JID_INVALID, 'other schemes');
  t.throws(() => uriToJid('not a uri', { telDomain: 'x' }), JID_INVALID, 'not a URI');
  t.throws(() => uriToJid('sip:%20juliet@example.com', { telDomain: 'x' }), JID_INVALID, 'a user starting with a space cannot be escaped');
});

t.test('global numbers: +E.164@domain <-> tel:+E.164, visual separators removed', async (t) => {
  t.equal(jidToUri(parseJid('+15550001@ims.example')), 'tel:+15550001');
  t.equal(jidToUri(parseJid('+1-555-0001@ims.example')), 'tel:+15550001', 'RFC 3966 visual separators are not part of the number');
  t.equal(jidToUri(parseJid('+1(555)0001@ims.example')), 'tel:+15550001');
  t.equal(jidToUri(parseJid('+15550001@ims.example'), { telForGlobalNumbers: false }), 'sip:+15550001@ims.example');
  t.same(uriToJid('tel:+1-555-0001', { telDomain: 'ims.example' }), { local: '+15550001', domain: 'ims.example' });
  t.same(uriToJid('sip:+1-555-0001@ims.example;user=phone', { telDomain: 'x' }), { local: '+15550001', domain: 'ims.example' });
  t.same(uriToJid('sip:+15550001@ims.example', { telDomain: 'x' }), { local: '+15550001', domain: 'ims.example' }, 'without user=phone the user part is kept as is');
  t.throws(() => uriToJid('tel:5550001;phone-context=example.com', { telDomain: 'x' }), JID_INVALID, 'local numbers have no JID form');
  t.equal(globalNumberOf('+1234567890123456'), undefined, 'E.164 has at most 15 digits');
  t.equal(globalNumberOf('15550001'), undefined, 'no + means not global');
  t.equal(jidToUri(parseJid('15550001@ims.example')), 'sip:15550001@ims.example');
});
