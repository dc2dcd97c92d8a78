/**
 * A small XCAP server (RFC 4825) holding TS 24.623 simservs documents, one per user, for the Ut
 * tests: whole-document GET/PUT, and GET/PUT/DELETE of one element under the document element
 * (`~~/simservs/communication-diversion`), ETags that change on every write, If-Match /
 * If-None-Match (412). Like an MMTel AS behind an authentication proxy (TS 24.109 §6.6), it
 * trusts X-3GPP-Asserted-Identity and refuses (403) a document of anyone else; a request with no
 * asserted identity and no Authorization gets a digest challenge (401). It records every request
 * with the identity headers it carried.
 *
 *   const xcap = await startXcapServer({ 'sip:alice@ims.test': simservsDocument() });
 *   t.teardown(() => xcap.close());   // epcscf: ut: { xcapRoot: xcap.root }
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SaxesParser } from 'saxes';

export const SIMSERVS_NS = 'http://uri.etsi.org/ngn/params/xml/simservs/xcap';
export const COMMON_POLICY_NS = 'urn:ietf:params:xml:ns:common-policy';
export const XCAP_ROOT_PATH = '/xcap-root';
export const DIGEST_CHALLENGE = 'Digest realm="xcap.ims.test", nonce="b7c9036a", qop="auth"';

export interface XcapRequestSeen {
  readonly method: string;
  /** The path after the XCAP root, as received (percent-encoded). */
  readonly path: string;
  /** The document's XUI, decoded. */
  readonly xui: string | undefined;
  readonly assertedIdentity: string | undefined;
  readonly intendedIdentity: string | undefined;
  readonly authorization: string | undefined;
  readonly ifMatch: string | undefined;
  readonly contentType: string | undefined;
  readonly status: number;
}

export interface XcapServer {
  /** http://127.0.0.1:port/xcap-root */
  readonly root: string;
  readonly requests: readonly XcapRequestSeen[];
  /** The stored document of `xui` (serialized), undefined when none. */
  document(xui: string): string | undefined;
  close(): Promise<void>;
}

/** A TS 24.623 simservs document: OIR default restricted off, CDIV and barring without rules. */
export function simservsDocument(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<simservs xmlns="${SIMSERVS_NS}" xmlns:cp="${COMMON_POLICY_NS}">`
    + '<originating-identity-presentation-restriction active="true"><default-behaviour>presentation-not-restricted</default-behaviour></originating-identity-presentation-restriction>'
    + '<communication-diversion active="false"><cp:ruleset/></communication-diversion>'
    + '<incoming-communication-barring active="false"><cp:ruleset/></incoming-communication-barring>'
    + '<outgoing-communication-barring active="false"><cp:ruleset/></outgoing-communication-barring>'
    + '</simservs>';
}

/** A document as the document element's start tag and its child elements, by local name, in order. */
interface StoredDocument {
  head: string;
  children: { name: string; xml: string }[];
  etag: string;
}

const USERS = '/simservs.ngn.etsi.org/users/';
const DOCUMENT = '/simservs.xml';

function localName(qname: string): string {
  return qname.slice(qname.indexOf(':') + 1);
}

/** Splits a document into its root start tag and depth-1 elements (saxes positions). */
function splitDocument(text: string): { head: string; children: { name: string; xml: string }[] } | undefined {
  const parser = new SaxesParser();
  let depth = 0;
  let start = 0;
  let headEnd = -1;
  let failed = false;
  const children: { name: string; xml: string }[] = [];
  parser.on('error', () => { failed = true; });
  parser.on('opentagstart', () => {
    if (depth === 1) start = text.lastIndexOf('<', parser.position);
  });
  parser.on('opentag', (tag) => {
    if (depth === 0) headEnd = parser.position;
    if (!tag.isSelfClosing) depth++;
    else if (depth === 1) children.push({ name: localName(tag.name), xml: text.slice(start, parser.position) });
  });
  parser.on('closetag', (tag) => {
    if (tag.isSelfClosing) return;
    depth--;
    if (depth === 1) children.push({ name: localName(tag.name), xml: text.slice(start, parser.position) });
  });
  try {
    parser.write(text).close();
  } catch {
    return undefined;
  }
  if (failed || headEnd < 0) return undefined;
  return { head: text.slice(0, headEnd), children };
}

function serialize(doc: StoredDocument): string {
  const rootName = /<([A-Za-z_][\w.:-]*)/.exec(doc.head.slice(doc.head.lastIndexOf('<')))?.[1] ?? 'simservs';
  return `${doc.head}${doc.children.map((c) => c.xml).join('')}</${rootName}>`;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function unquote(value: string | undefined): string | undefined {
  return value === undefined ? undefined : value.replace(/^\s*"(.*)"\s*$/, '$1');
}

export async function startXcapServer(initial: Readonly<Record<string, string>> = {}): Promise<XcapServer> {
  const documents = new Map<string, StoredDocument>();
  let version = 0;
  const nextEtag = (): string => `"v${++version}"`;
  for (const [xui, text] of Object.entries(initial)) {
    const split = splitDocument(text);
    if (split === undefined) throw new Error(`xcap-server: the initial document of ${xui} is not XML`);
    documents.set(xui, { ...split, etag: nextEtag() });
  }
  const requests: XcapRequestSeen[] = [];

  const handle = (request: IncomingMessage, body: string, response: ServerResponse): void => {
    const url = request.url ?? '';
    const path = url.startsWith(XCAP_ROOT_PATH) ? url.slice(XCAP_ROOT_PATH.length) : url;
    const asserted = unquote(header(request, 'x-3gpp-asserted-identity'));
    let xui: string | undefined;
    const answer = (status: number, text = '', headers: Record<string, string> = {}): void => {
      requests.push({
        method: request.method ?? '', path, xui, assertedIdentity: asserted, intendedIdentity: unquote(header(request, 'x-3gpp-intended-identity')),
        authorization: header(request, 'authorization'), ifMatch: header(request, 'if-match'), contentType: header(request, 'content-type'), status,
      });
      response.writeHead(status, headers).end(text);
    };
    if (!path.startsWith(USERS)) return answer(404);
    const rest = path.slice(USERS.length);
    const separator = rest.indexOf('/~~/');
    const documentPart = separator < 0 ? rest : rest.slice(0, separator);
    if (!documentPart.endsWith(DOCUMENT)) return answer(404);
    xui = decodeURIComponent(documentPart.slice(0, -DOCUMENT.length));
    // TS 24.109 §6.6: the AS serves the asserted identity its own documents only.
    if (asserted === undefined) return answer(401, '', { 'www-authenticate': DIGEST_CHALLENGE });
    if (asserted !== xui) return answer(403);
    const node = separator < 0 ? undefined : decodeURIComponent(rest.slice(separator + 4));
    const doc = documents.get(xui);
    const ifMatch = header(request, 'if-match');
    const ifNoneMatch = header(request, 'if-none-match');
    // RFC 9110 §13.1.1/§13.1.2 (RFC 4825 §7.11).
    if (ifMatch !== undefined && (doc === undefined || (ifMatch !== '*' && !ifMatch.split(',').map((e) => e.trim()).includes(doc.etag)))) return answer(412);
    if (ifNoneMatch !== undefined && doc !== undefined && (ifNoneMatch === '*' || ifNoneMatch.split(',').map((e) => e.trim()).includes(doc.etag))) {
      return answer(request.method === 'GET' ? 304 : 412);
    }
    const element = node === undefined ? undefined : /^(?:[A-Za-z_][\w.-]*:)?simservs\/(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)$/.exec(node)?.[1];
    if (node !== undefined && element === undefined) return answer(404); // only depth-1 elements in this test server
    switch (request.method) {
      case 'GET': {
        if (doc === undefined) return answer(404);
        if (element === undefined) return answer(200, serialize(doc), { 'content-type': 'application/vnd.etsi.simservs+xml', etag: doc.etag });
        const child = doc.children.find((c) => c.name === element);
        return child === undefined ? answer(404) : answer(200, child.xml, { 'content-type': 'application/xcap-el+xml', etag: doc.etag });
      }
      case 'PUT': {
        if (element === undefined) {
          const split = splitDocument(body);
          if (split === undefined) return answer(409, '<xcap-error xmlns="urn:ietf:params:xml:ns:xcap-error"><not-well-formed/></xcap-error>', { 'content-type': 'application/xcap-error+xml' });
          const etag = nextEtag();
          documents.set(xui, { ...split, etag });
          return answer(doc === undefined ? 201 : 200, '', { etag });
        }
        if (doc === undefined) return answer(409, '<xcap-error xmlns="urn:ietf:params:xml:ns:xcap-error"><no-parent/></xcap-error>', { 'content-type': 'application/xcap-error+xml' });
        const parsed = splitDocument(`<wrap>${body}</wrap>`);
        const put = parsed?.children.length === 1 ? parsed.children[0] : undefined;
        // RFC 4825 §8.2.4: the element must be the one the node selector names.
        if (put === undefined || put.name !== element) return answer(409, '<xcap-error xmlns="urn:ietf:params:xml:ns:xcap-error"><cannot-insert/></xcap-error>', { 'content-type': 'application/xcap-error+xml' });
        const index = doc.children.findIndex((c) => c.name === element);
        if (index < 0) doc.children.push(put);
        else doc.children[index] = put;
        doc.etag = nextEtag();
        return answer(index < 0 ? 201 : 200, '', { etag: doc.etag });
      }
      case 'DELETE': {
        if (doc === undefined) return answer(404);
        if (element === undefined) {
          documents.delete(xui);
          return answer(200);
        }
        const index = doc.children.findIndex((c) => c.name === element);
        if (index < 0) return answer(404);
        doc.children.splice(index, 1);
        doc.etag = nextEtag();
        return answer(200, '', { etag: doc.etag });
      }
      default: return answer(405);
    }
  };

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, Buffer.concat(chunks).toString('utf8'), response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    root: `http://127.0.0.1:${port}${XCAP_ROOT_PATH}`,
    requests,
    document: (xui) => {
      const doc = documents.get(xui);
      return doc === undefined ? undefined : serialize(doc);
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
