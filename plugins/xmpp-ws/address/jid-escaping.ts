/**
 * XEP-0106 JID Escaping: the ten characters a JID localpart cannot hold (RFC 7622 §3.3.1 forbids
 * " & ' / : < > @, and spaces; \ is the escape character itself) are written as \xx. Used when
 * a SIP user part (which may hold them, percent-encoded) becomes a JID localpart, and back.
 */
const ESCAPES: Readonly<Record<string, string>> = {
  ' ': '\\20', '"': '\\22', '&': '\\26', "'": '\\27', '/': '\\2f', ':': '\\3a', '<': '\\3c', '>': '\\3e', '@': '\\40', '\\': '\\5c',
};
const UNESCAPES: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(ESCAPES).map(([char, code]) => [code.slice(1), char]));
const ESCAPE_SEQUENCE = /\\(20|22|26|27|2f|3a|3c|3e|40|5c)/g;

/**
 * XEP-0106 §4.2: escape the nine forbidden characters, and a backslash only when it would
 * otherwise start an escape sequence (`c:\net` -> `c\3a\net`, `c:\5commas` -> `c\3a\5c5commas`).
 * Leading or trailing spaces cannot be escaped (§4.3): the caller gets undefined.
 */
export function escapeLocalpart(unescaped: string): string | undefined {
  if (unescaped.startsWith(' ') || unescaped.endsWith(' ')) return undefined;
  let out = '';
  for (let i = 0; i < unescaped.length; i++) {
    const char = unescaped.charAt(i);
    if (char === '\\') {
      out += /^(20|22|26|27|2f|3a|3c|3e|40|5c)/i.test(unescaped.slice(i + 1, i + 3)) ? '\\5c' : '\\';
    } else {
      out += ESCAPES[char] ?? char;
    }
  }
  return out;
}

/** XEP-0106 §4.3: only the ten defined sequences are unescaped; anything else stays as written. */
export function unescapeLocalpart(escaped: string): string {
  return escaped.replace(ESCAPE_SEQUENCE, (_match, code: string) => UNESCAPES[code.toLowerCase()] ?? _match);
}
