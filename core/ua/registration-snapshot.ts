/**
 * A virtual UE's registration as another node needs it to carry on without registering again
 * (issue #15: a JSON-RPC or XMPP client that resumes on a surviving node is registered "without a
 * REGISTER on Mw"). It holds what RFC 3261 §10.2.4 needs for the next refresh (the same Call-ID,
 * From tag and Contact, the next CSeq), the RFC 5626 instance and reg-id, the Service-Route
 * (RFC 3608), the P-Associated-URI set, the expiry and refresh times (R-REG-23), and the digest
 * state per realm (RFC 7616 §3.4: the last nonce and its count). Never the password: the plugin
 * keeps the credential apart, encrypted. It travels as JSON through a shared store, so it is
 * checked field by field when it comes back (`readRegistrationSnapshot`).
 */
import { EpcError } from '../errors.js';

export interface DigestRealmSnapshot {
  readonly realm: string;
  readonly scheme: string;
  /** The challenge's parameters (nonce, qop, algorithm, opaque …). */
  readonly params: Readonly<Record<string, string>>;
  /** The last nonce count used with this nonce. */
  readonly nc: number;
}

export interface RegistrationSnapshot {
  readonly version: 1;
  readonly callId: string;
  readonly fromTag: string;
  /** The CSeq number of the last REGISTER sent; the next one uses cseq + 1 (RFC 3261 §10.2.4). */
  readonly cseq: number;
  /** The Contact URI's user and host (`sip:user@host;transport=ws;ob`), as registered. */
  readonly contactUser: string;
  readonly contactHost: string;
  readonly instanceId: string;
  readonly regId: number;
  /** Seconds the registrar granted. */
  readonly expires: number;
  /** Epoch ms when the binding lapses and when the next refresh is due (R-REG-23). */
  readonly expiresAt: number;
  readonly refreshAt: number;
  readonly minExpires: number;
  readonly serviceRoute: readonly string[];
  readonly associatedUris: readonly string[];
  readonly digest: readonly DigestRealmSnapshot[];
}

const TOKEN = /^[A-Za-z0-9.!%*_+`'~@:-]{1,256}$/;
const HOST = /^[A-Za-z0-9.-]{1,253}$/;
const USER = /^[A-Za-z0-9._~!$&'()*+,;=%-]{1,128}$/;

/** The snapshot in `value` (parsed JSON from the store), or EPC_ERR_UA_INVALID_ARGUMENT naming the bad field. */
export function readRegistrationSnapshot(value: unknown): RegistrationSnapshot {
  const bad = (field: string): never => {
    throw new EpcError('EPC_ERR_UA_INVALID_ARGUMENT', `registration snapshot: invalid ${field}`);
  };
  if (typeof value !== 'object' || value === null) return bad('value');
  const v = value as Record<string, unknown>;
  if (v['version'] !== 1) bad('version');
  const text = (field: string, pattern: RegExp): string => {
    const x = v[field];
    return typeof x === 'string' && pattern.test(x) ? x : bad(field);
  };
  const count = (field: string): number => {
    const x = v[field];
    return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : bad(field);
  };
  const texts = (field: string): string[] => {
    const x = v[field];
    return Array.isArray(x) && x.length <= 32 && x.every((s) => typeof s === 'string' && s.length <= 1024) ? (x as string[]) : bad(field);
  };
  const digest = v['digest'];
  if (!Array.isArray(digest) || digest.length > 8) bad('digest');
  return {
    version: 1,
    callId: text('callId', /^[\x21-\x7e]{1,256}$/), fromTag: text('fromTag', TOKEN), cseq: count('cseq'),
    contactUser: text('contactUser', USER), contactHost: text('contactHost', HOST),
    instanceId: text('instanceId', /^urn:[\x21-\x7e]{1,200}$/), regId: count('regId'),
    expires: count('expires'), expiresAt: count('expiresAt'), refreshAt: count('refreshAt'), minExpires: count('minExpires'),
    serviceRoute: texts('serviceRoute'), associatedUris: texts('associatedUris'),
    digest: (digest as unknown[]).map((entry) => readDigestRealm(entry, bad)),
  };
}

function readDigestRealm(value: unknown, bad: (field: string) => never): DigestRealmSnapshot {
  if (typeof value !== 'object' || value === null) return bad('digest');
  const v = value as Record<string, unknown>;
  const params = v['params'];
  if (typeof v['realm'] !== 'string' || typeof v['scheme'] !== 'string' || typeof params !== 'object' || params === null) return bad('digest');
  const entries = Object.entries(params);
  if (entries.length > 16 || !entries.every(([, p]) => typeof p === 'string' && p.length <= 1024)) return bad('digest.params');
  const nc = v['nc'];
  if (typeof nc !== 'number' || !Number.isSafeInteger(nc) || nc < 0) return bad('digest.nc');
  return { realm: v['realm'], scheme: v['scheme'], params: Object.fromEntries(entries) as Record<string, string>, nc };
}
