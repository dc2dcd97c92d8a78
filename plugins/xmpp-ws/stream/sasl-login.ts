/**
 * Who an <auth/> logs in as, and with what credential for the virtual UE (RFC 6120 §6.4.2):
 *  - PLAIN (RFC 4616, scenario 1): authcid = the IMPI user, the password answers the IMS digest;
 *    the JID is authcid@domain and the IMPU sip:authcid@domain (RFC 7247 §5).
 *  - OAUTHBEARER (RFC 7628, scenarios 2/3, TS 24.371): the web token's `impu` claim is the IMPU,
 *    and its RFC 7247 §5 mapping the JID. The token is only decoded here (jose decodeJwt), never
 *    trusted: the P-CSCF validates it when the UE registers with it (R-REG-4), and that REGISTER
 *    decides the login.
 * A refusal is a SASL failure condition (RFC 6120 §6.5), with a <text/> for token problems that
 * uses the P-CSCF's reason phrases.
 */
import { decodeJwt } from 'jose';
import { EpcError, TOKEN_REFUSAL_REASONS, checkPrivateIdentity, type UaIdentity } from '../../../core/contract/index.js';
import { bareJid, formatJid, parseJid, type Jid } from '../address/jid.js';
import { jidToUri, uriToJid } from '../address/jid-sip-mapping.js';
import { decodeOauthBearer } from './sasl-oauthbearer.js';
import { decodePlain } from './sasl-plain.js';

export type SaslLogin =
  | { readonly mechanism: 'PLAIN'; readonly user: Jid; readonly impu: string; readonly impi: string; readonly password: string }
  | { readonly mechanism: 'OAUTHBEARER'; readonly user: Jid; readonly impu: string; readonly token: string; readonly expiresAtMs: number | undefined };

/** RFC 6120 §6.5 conditions a login attempt can fail with before any REGISTER. */
export type SaslCondition = 'invalid-mechanism' | 'incorrect-encoding' | 'malformed-request' | 'not-authorized' | 'invalid-authzid';

export type SaslAuthResult =
  | { readonly ok: true; readonly login: SaslLogin }
  | { readonly ok: false; readonly condition: SaslCondition; readonly text?: string };

export function readSaslAuth(mechanism: string | undefined, payload: string, offered: readonly string[], domain: string): SaslAuthResult {
  if (mechanism === undefined || !offered.includes(mechanism)) return { ok: false, condition: 'invalid-mechanism' };
  return mechanism === 'OAUTHBEARER' ? readOauthBearer(payload, domain) : readPlain(payload, domain);
}

/** The virtual UE's identity and credential for this login. */
export function ueIdentity(login: SaslLogin): UaIdentity {
  return login.mechanism === 'PLAIN'
    ? { impu: login.impu, impi: login.impi, password: login.password }
    : { impu: login.impu, token: login.token };
}

/** The credential a detached stream is resumed with (XEP-0198 §5): the same mechanism and secret. */
export function loginSecret(login: SaslLogin): string {
  return `${login.mechanism}\u0000${login.mechanism === 'PLAIN' ? login.password : login.token}`;
}

function readPlain(payload: string, domain: string): SaslAuthResult {
  const decoded = decodePlain(payload);
  if (!decoded.ok) return decoded;
  const { authzid, authcid, password } = decoded.credentials;
  const user = userOf(authcid, domain);
  if (user === undefined) return { ok: false, condition: 'not-authorized' };
  if (authzid !== '' && authzid !== formatJid(user)) return { ok: false, condition: 'invalid-authzid' };
  return { ok: true, login: { mechanism: 'PLAIN', user, impu: jidToUri(user), impi: `${authcid.split('@')[0] ?? ''}@${domain}`, password } };
}

/** authcid = the IMPI user: `alice` or `alice@domain`; anything else does not log in here. */
function userOf(authcid: string, domain: string): Jid | undefined {
  const at = authcid.indexOf('@');
  const local = at < 0 ? authcid : authcid.slice(0, at);
  if (at >= 0 && authcid.slice(at + 1).toLowerCase() !== domain) return undefined;
  try {
    checkPrivateIdentity(`${local}@${domain}`, 'authcid');
    const jid = parseJid(`${local}@${domain}`);
    return { local: jid.local ?? local, domain: jid.domain };
  } catch (error) {
    if (error instanceof EpcError) return undefined;
    throw error;
  }
}

function readOauthBearer(payload: string, domain: string): SaslAuthResult {
  const decoded = decodeOauthBearer(payload);
  if (!decoded.ok) return decoded;
  const { authzid, token } = decoded.response;
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(token);
  } catch {
    // Not even a JWT: nothing to register with, so nothing goes toward the IMS.
    return { ok: false, condition: 'not-authorized', text: TOKEN_REFUSAL_REASONS.malformed };
  }
  const impu = claims['impu'];
  const user = typeof impu === 'string' ? tokenUser(impu, domain) : undefined;
  if (typeof impu !== 'string' || user === undefined) return { ok: false, condition: 'not-authorized', text: TOKEN_REFUSAL_REASONS.claims_invalid };
  // This XMPP service names users of its own domain only (RFC 7247 §5: JID domain = IMPU host).
  if (user.domain !== domain) return { ok: false, condition: 'not-authorized', text: TOKEN_REFUSAL_REASONS.impu_mismatch };
  // RFC 6120 §6.4.6 / §6.5.6: the client may only ask to act as the identity the token grants.
  if (authzid !== '' && !sameBareJid(authzid, user)) return { ok: false, condition: 'invalid-authzid', text: TOKEN_REFUSAL_REASONS.impu_mismatch };
  const exp = claims['exp'];
  return { ok: true, login: { mechanism: 'OAUTHBEARER', user, impu, token, expiresAtMs: typeof exp === 'number' ? exp * 1000 : undefined } };
}

/** RFC 7247 §5: the bare JID of the token's IMPU (sip:user@host or a global tel number). */
function tokenUser(impu: string, domain: string): Jid | undefined {
  try {
    const jid = bareJid(uriToJid(impu, { telDomain: domain }));
    return jid.local === undefined ? undefined : jid;
  } catch (error) {
    if (error instanceof EpcError) return undefined;
    throw error;
  }
}

function sameBareJid(text: string, user: Jid): boolean {
  try {
    return formatJid(bareJid(parseJid(text))) === formatJid(user);
  } catch (error) {
    if (error instanceof EpcError) return false;
    throw error;
  }
}
