/**
 * Which document a Ut request addresses (TS 24.623 §5.2.1, RFC 4825 §6). The one document a
 * W2 client may touch is its own simservs document,
 *   /simservs.ngn.etsi.org/users/<XUI>/simservs.xml[/~~/<node selector>]
 * Everything else is refused here, before a byte goes to the XCAP server: another AUID, the
 * global tree, another user's XUI, dot segments and encoded slashes (path traversal), a query or
 * fragment, control characters. Plain string checks, no backtracking regex on client input.
 */
import { canonicalImpu } from '../webauth/web-token-verifier.js';

export const SIMSERVS_AUID = 'simservs.ngn.etsi.org';
export const SIMSERVS_DOCUMENT = 'simservs.xml';
/** RFC 4825 §6: the separator between the document selector and the node selector. */
const NODE_SEPARATOR = '/~~/';
const USERS_PREFIX = `/${SIMSERVS_AUID}/users/`;
const DOCUMENT_SUFFIX = `/${SIMSERVS_DOCUMENT}`;
const MAX_PATH = 1024;
const MAX_NODE = 512;
/** RFC 4825 §6.3 node-selector characters once percent-decoded (steps, predicates, attributes, namespaces). */
const NODE_CHARS = /^[A-Za-z0-9_.:\-/[\]@="' *]+$/;
/** The first step names the document element (`simservs`, maybe prefixed), RFC 4825 §6.3. */
const FIRST_STEP = /^([A-Za-z_][A-Za-z0-9_.-]*:)?simservs(\[|\/|$)/;

export interface UtTarget {
  /** The document's XUI as a canonical AOR (what registrations and web tokens name). */
  readonly xui: string;
  /** The decoded node selector; undefined: the whole document. */
  readonly node: string | undefined;
}

export type UtPathOutcome =
  | { readonly ok: true; readonly target: UtTarget }
  /** forbidden: a document that is not the client's own; otherwise a malformed request. */
  | { readonly ok: false; readonly forbidden: boolean; readonly problem: string };

const malformed = (problem: string): UtPathOutcome => ({ ok: false, forbidden: false, problem });
const forbidden = (problem: string): UtPathOutcome => ({ ok: false, forbidden: true, problem });

function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function hasControlOrSpecial(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // C0, DEL, '\' (a Windows separator some servers honour), '?' and '#' (no query, no fragment).
    if (c < 0x20 || c === 0x7f || c === 0x5c || c === 0x3f || c === 0x23) return true;
  }
  return false;
}

/** RFC 4825 §6.3 node selector (percent-encoded or not) → its decoded form, or a problem. */
export function checkNodeSelector(node: string): { readonly ok: true; readonly node: string } | { readonly ok: false; readonly problem: string } {
  if (node.length === 0 || node.length > MAX_NODE) return { ok: false, problem: `node selector must be 1..${MAX_NODE} characters` };
  const text = decoded(node);
  if (text === undefined || hasControlOrSpecial(text) || !NODE_CHARS.test(text)) return { ok: false, problem: 'node selector has characters RFC 4825 §6.3 does not allow' };
  const steps = text.split('/');
  // RFC 3986 §5.2.4 dot segments and empty steps ('//', a leading or trailing '/') never reach the server.
  if (steps.some((step) => step === '' || step === '.' || step === '..' || step === '~~')) return { ok: false, problem: 'node selector has an empty or dot step' };
  if (!FIRST_STEP.test(text)) return { ok: false, problem: 'node selector must start at the simservs document element (e.g. simservs/communication-diversion)' };
  return { ok: true, node: text };
}

/** A client's document selector (relative to the XCAP root) → the target, refusing anything but a simservs document under users/. */
export function parseSimservsPath(path: string): UtPathOutcome {
  if (path.length > MAX_PATH) return malformed(`path longer than ${MAX_PATH} characters`);
  if (hasControlOrSpecial(path)) return malformed('path has a control character, a backslash, a query or a fragment');
  if (!path.startsWith(USERS_PREFIX)) return forbidden(`only the user's own document under /${SIMSERVS_AUID}/users/ may be reached`);
  const rest = path.slice(USERS_PREFIX.length);
  const separator = rest.indexOf(NODE_SEPARATOR);
  const documentPart = separator < 0 ? rest : rest.slice(0, separator);
  if (!documentPart.endsWith(DOCUMENT_SUFFIX)) return forbidden(`only the ${SIMSERVS_DOCUMENT} document may be reached`);
  const xuiText = documentPart.slice(0, -DOCUMENT_SUFFIX.length);
  // One path segment: no '/', and no encoded one either (%2F would become a separator upstream).
  const xuiDecoded = decoded(xuiText);
  if (xuiText === '' || xuiText.includes('/') || xuiDecoded === undefined || xuiDecoded.includes('/') || hasControlOrSpecial(xuiDecoded)) {
    return malformed('the XUI must be one path segment');
  }
  const xui = canonicalImpu(xuiDecoded);
  if (xui === undefined) return malformed('the XUI is not a sip:, sips: or tel: URI (TS 24.623 §5.2.1: the XUI is the IMPU)');
  if (separator < 0) return { ok: true, target: { xui, node: undefined } };
  const node = checkNodeSelector(rest.slice(separator + NODE_SEPARATOR.length));
  return node.ok ? { ok: true, target: { xui, node: node.node } } : malformed(node.problem);
}

/** RFC 3986 §3.3 pchar keeps ':' '@' '+': the XUI as TS 24.623 examples write it, other bytes encoded. */
function encodeXui(xui: string): string {
  return encodeURIComponent(xui).replace(/%3A/gi, ':').replace(/%40/g, '@').replace(/%2B/gi, '+');
}

/** The request path for the XCAP server (to append to the XCAP root's path). */
export function xcapPathOf(target: UtTarget): string {
  const document = `${USERS_PREFIX}${encodeXui(target.xui)}${DOCUMENT_SUFFIX}`;
  // encodeURI keeps '/', ':', '@', '=', "'" and encodes '"', '[', ']' and spaces.
  return target.node === undefined ? document : `${document}${NODE_SEPARATOR}${encodeURI(target.node)}`;
}
