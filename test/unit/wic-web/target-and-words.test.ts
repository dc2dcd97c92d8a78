// The WIC's dial field and its SIP outcomes in words (examples/wic-web/src/target.ts,
// sip-status-words.ts): what a user types becomes the address each protocol needs, and a SIP
// final status becomes a sentence that keeps the status for whoever looks into it.
import t from 'tap';
import { describeSipStatus } from '../../../examples/wic-web/src/sip-status-words.js';
import { displayAddress, toJid, toUri } from '../../../examples/wic-web/src/target.js';

t.test('the dial field: a name, a SIP URI, a global number, a local number', async (t) => {
  t.equal(toUri('bob', 'ims.test'), 'sip:bob@ims.test', 'a bare name is a user of the home domain');
  t.equal(toUri('  sip:bob@ims.test ', 'ims.test'), 'sip:bob@ims.test', 'a SIP URI as typed');
  t.equal(toUri('bob@other.test', 'ims.test'), 'sip:bob@other.test', 'user@domain gets sip:');
  t.equal(toUri('+1 (555) 000-2', 'ims.test'), 'tel:+15550002', 'RFC 3966: visual separators dropped from a global number');
  t.equal(toUri('1234', 'ims.test'), 'tel:1234;phone-context=ims.test', 'RFC 3966 §5.1.5: a local number needs a phone-context');
  t.throws(() => toUri('', 'ims.test'), /Type who to call/, 'empty: says what to type');
  t.throws(() => toUri('bob smith', 'ims.test'), /has spaces/, 'spaces: refused in words');
  t.throws(() => toUri('+1 55a', 'ims.test'), /has spaces/, 'a number with a letter in it is not a number');
});

t.test('RFC 7247 §5: XMPP reaches users and +numbers of the domain as JIDs', async (t) => {
  t.equal(toJid('bob', 'ims.test'), 'bob@ims.test');
  t.equal(toJid('sip:bob@ims.test', 'ims.test'), 'bob@ims.test');
  t.equal(toJid('+1 555 0002', 'ims.test'), '+15550002@ims.test', 'tel:+E.164 ⇄ +E.164@domain');
  t.throws(() => toJid('1234', 'ims.test'), /no XMPP address/, 'a local number has no JID form');
  t.equal(displayAddress('sip:bob@ims.test;transport=ws'), 'bob@ims.test');
  t.equal(displayAddress('bob@ims.test/wic-1'), 'bob@ims.test', 'the resource is not shown');
});

t.test('SIP outcomes in words, the status kept', async (t) => {
  t.equal(describeSipStatus(486, 'Busy Here', 'call'), 'busy (SIP 486 Busy Here)');
  t.equal(describeSipStatus(404, 'Not Found', 'call'), 'no such user (SIP 404 Not Found)');
  t.equal(describeSipStatus(603, 'Decline', 'call'), 'declined (SIP 603 Decline)');
  t.equal(describeSipStatus(401, 'Unauthorized', 'register'), 'wrong user name or password (SIP 401 Unauthorized)');
  t.equal(describeSipStatus(403, 'Token expired', 'register'), 'Token expired (SIP 403)', 'R-REG-4: a token refusal keeps its own words');
  t.equal(describeSipStatus(499, 'Odd', 'call'), 'SIP 499 Odd', 'unknown: the status as it is');
});

t.test('a challenge to a token REGISTER says web login is not taken, not "wrong password"', async (t) => {
  t.match(describeSipStatus(401, 'Unauthorized', 'register-token'), /^this eP-CSCF does not take web login tokens/);
  t.equal(describeSipStatus(403, 'Token IMPU mismatch', 'register-token'), 'Token IMPU mismatch (SIP 403)');
});
