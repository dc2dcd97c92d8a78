import { malformed } from '../codec/parse-error.js';
import type { CSeq } from '../model/views.js';
import { DIGITS, TOKEN, isAllClass, isDigit, isWs } from './chars.js';

const MAX_UINT32 = 4294967295;

/** CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16); the number is at most 2^32-1 (RFC 4475 §3.1.2.4). */
export function parseCSeq(value: string): CSeq {
  let i = 0;
  while (i < value.length && isDigit(value.charCodeAt(i))) i++;
  if (i === 0) throw malformed('CSeq without a sequence number');
  const digits = value.slice(0, i).replace(/^0+(?=\d)/, '');
  if (digits.length > 10 || Number(digits) > MAX_UINT32) throw malformed('CSeq number larger than 2^32-1');
  const afterDigits = i;
  while (i < value.length && isWs(value.charCodeAt(i))) i++;
  if (i === afterDigits) throw malformed('CSeq without a method');
  const method = value.slice(i);
  if (!isAllClass(TOKEN, method)) throw malformed('invalid CSeq method');
  return { seq: Number(digits), method };
}

/** Max-Forwards = 1*DIGIT, at most 255 (RFC 3261 §20.22; leading zeros allowed, RFC 4475 §3.1.1.1). */
export function parseMaxForwards(value: string): number {
  if (!isAllClass(DIGITS, value)) throw malformed('Max-Forwards is not a number');
  const n = Number(value);
  if (n > 255) throw malformed('Max-Forwards larger than 255');
  return n;
}
