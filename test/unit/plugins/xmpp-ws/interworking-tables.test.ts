/**
 * plugins/xmpp-ws/interworking: Jingle reason <-> SIP status (spec-digest §10.6) and RFC 7247 §6
 * stanza error <-> SIP status.
 */
import t from 'tap';
import {
  JINGLE_REASONS, isJingleReason, jingleReasonForSipStatus, sipRejectionForJingleReason,
} from '../../../../plugins/xmpp-ws/interworking/jingle-reason-sip.js';
import {
  STANZA_ERROR_CONDITIONS, sipStatusForStanzaError, stanzaErrorForSipStatus,
} from '../../../../plugins/xmpp-ws/interworking/stanza-error-sip.js';

t.test('§10.6: SIP final responses to our INVITE become the session-terminate reason', async (t) => {
  const table: [number, string][] = [
    [486, 'busy'], [600, 'busy'], [403, 'decline'], [408, 'timeout'], [480, 'timeout'],
    [404, 'gone'], [410, 'gone'], [604, 'gone'], [488, 'incompatible-parameters'], [606, 'incompatible-parameters'],
    [415, 'unsupported-applications'], [487, 'cancel'], [200, 'success'],
  ];
  for (const [status, reason] of table) t.same(jingleReasonForSipStatus(status), { reason }, `${status} -> ${reason}`);
  t.same(jingleReasonForSipStatus(503, 'Service Unavailable'), { reason: 'general-error', text: 'SIP 503 Service Unavailable' },
    'other 4xx/5xx: general-error with the SIP status as <text/>');
  t.same(jingleReasonForSipStatus(499), { reason: 'general-error', text: 'SIP 499' });
});

t.test('TS 24.611 ACR/CB: 433 is security-error and 603 decline, each with the barring reason phrase as <text/>', async (t) => {
  t.same(jingleReasonForSipStatus(433, 'Anonymity Disallowed'), { reason: 'security-error', text: 'SIP 433 Anonymity Disallowed' });
  t.same(jingleReasonForSipStatus(603, 'Call Barred'), { reason: 'decline', text: 'SIP 603 Call Barred' });
  t.same(jingleReasonForSipStatus(603), { reason: 'decline', text: 'SIP 603 Decline' });
});

t.test('§10.6: a responder ending an incoming call before accepting it answers the INVITE', async (t) => {
  const table: [string, number][] = [
    ['busy', 486], ['decline', 603], ['timeout', 408], ['gone', 410], ['incompatible-parameters', 488],
    ['unsupported-applications', 488], ['media-error', 488], ['cancel', 487], ['general-error', 480], ['connectivity-error', 480],
  ];
  for (const [reason, status] of table) {
    if (!isJingleReason(reason)) throw new Error(reason);
    t.equal(sipRejectionForJingleReason(reason).status, status, `${reason} -> ${status}`);
  }
  for (const reason of JINGLE_REASONS) {
    const rejection = sipRejectionForJingleReason(reason);
    t.ok(rejection.status >= 400 && rejection.status < 700 && rejection.reasonPhrase !== '', `every reason (${reason}) has a final error status`);
  }
  t.equal(isJingleReason('not-a-reason'), false);
  // The four pairs of the issue go both ways.
  for (const [reason, status] of [['busy', 486], ['decline', 603], ['timeout', 408], ['gone', 410]] as const) {
    t.equal(jingleReasonForSipStatus(status).reason, reason);
    t.equal(sipRejectionForJingleReason(reason).status, status);
  }
});

t.test('RFC 7247 §6: SIP status <-> stanza error condition for messages', async (t) => {
  const fromSip: [number, string, string][] = [
    [404, 'item-not-found', 'cancel'], [480, 'recipient-unavailable', 'wait'], [486, 'recipient-unavailable', 'wait'],
    [403, 'forbidden', 'auth'], [408, 'remote-server-timeout', 'wait'], [488, 'not-acceptable', 'modify'],
    [503, 'service-unavailable', 'cancel'], [302, 'redirect', 'modify'], [401, 'not-authorized', 'auth'],
    [410, 'gone', 'cancel'], [500, 'internal-server-error', 'cancel'], [604, 'item-not-found', 'cancel'],
  ];
  for (const [status, condition, type] of fromSip) t.same(stanzaErrorForSipStatus(status), { condition, type }, `${status} -> ${condition}`);
  t.equal(stanzaErrorForSipStatus(499).condition, 'bad-request', 'RFC 3261 §8.1.3.2: an unknown 4xx is read as 400');
  t.equal(stanzaErrorForSipStatus(599).condition, 'internal-server-error');
  t.equal(stanzaErrorForSipStatus(699).condition, 'service-unavailable');
  t.equal(stanzaErrorForSipStatus(100).condition, 'undefined-condition', 'not an error status');

  const toSip: [string, number][] = [
    ['item-not-found', 404], ['recipient-unavailable', 480], ['service-unavailable', 503], ['forbidden', 403],
    ['remote-server-timeout', 408], ['not-authorized', 401], ['bad-request', 400], ['feature-not-implemented', 501],
  ];
  for (const [condition, status] of toSip) {
    const known = STANZA_ERROR_CONDITIONS.find((c) => c === condition);
    if (known === undefined) throw new Error(condition);
    t.equal(sipStatusForStanzaError(known), status, `${condition} -> ${status}`);
  }
  for (const condition of STANZA_ERROR_CONDITIONS) {
    const status = sipStatusForStanzaError(condition);
    t.ok(status >= 300 && status < 700, `${condition} maps to a SIP error status`);
  }
});
