/**
 * What the user types in a target field → the address each protocol needs.
 * `bob` → sip:bob@<domain>; `sip:bob@ims.test` as is; `+1 555 0100` → tel:+15550100 (RFC 3966:
 * visual separators dropped); `1234` → tel:1234;phone-context=<domain> (a local number).
 * XMPP reaches users of the domain as JIDs (RFC 7247 §5): sip:bob@d → bob@d, tel:+E164 → +E164@d.
 */
import { WicError } from './wic-error.js';

const PHONE = /^\+?[\d\s().-]+$/;

export function toUri(input: string, domain: string): string {
  const text = input.trim();
  if (text === '') throw new WicError('Type who to call: a name like bob, sip:bob@ims.test or a phone number.');
  if (/^(sips?|tel):/i.test(text)) return text;
  if (PHONE.test(text)) {
    const digits = text.replace(/[\s().-]/g, '');
    if (!/^\+?\d+$/.test(digits)) throw new WicError(`"${text}" is not a phone number.`);
    return digits.startsWith('+') ? `tel:${digits}` : `tel:${digits};phone-context=${domain}`;
  }
  if (/\s/.test(text)) throw new WicError(`"${text}" has spaces: type a user name like bob.`);
  return text.includes('@') ? `sip:${text}` : `sip:${text}@${domain}`;
}

export function toJid(input: string, domain: string): string {
  const uri = toUri(input, domain);
  const tel = /^tel:(\+\d+)$/i.exec(uri);
  if (tel) return `${tel[1]}@${domain}`;
  const sip = /^sips?:([^@;?]+)@([^;?>]+)/i.exec(uri);
  if (sip) return `${sip[1]}@${sip[2]}`;
  throw new WicError(`${uri} has no XMPP address: over XMPP only users and +numbers of ${domain} can be reached.`);
}

/** A short name for the screen: sip:bob@ims.test → bob@ims.test, bob@ims.test/res → bob@ims.test. */
export function displayAddress(address: string): string {
  return address.replace(/^(sips?|tel):/i, '').replace(/[;?].*$/, '').replace(/\/.*$/, '');
}
