/**
 * Service configuration over Ut (TS 24.623) for W2 clients: every request is checked against the
 * identity the client authenticated as, then proxied to the XCAP server (xcap-client.ts).
 *  - A plugin's session (jsonrpc-ws, xmpp-ws; digest or web token alike): the public identities
 *    registered on that connection's flow (its bindings' AORs) — `forConnection`.
 *  - The W2 REST endpoint with a web token: the token's `impu`, verified by core/webauth as a
 *    REGISTER's would be — `forToken`.
 *  - The REST endpoint without a token (a digest sip-ws client): no identity is asserted; the
 *    client's Authorization goes to the XCAP server, whose own challenge comes back — `passThrough`.
 * The document is always the client's own simservs.xml (simservs-path.ts).
 */
import { EpcError } from '../errors.js';
import type { WebTokenOutcome } from '../webauth/web-token-verifier.js';
import { checkNodeSelector, parseSimservsPath, xcapPathOf, type UtTarget } from './simservs-path.js';
import { XcapClient, type XcapAnswer, type XcapCall } from './xcap-client.js';
import { xmlProblem } from './xml-check.js';
import type { UtRequest, UtResponse } from './ut-types.js';

/** What the Ut service asks the P-CSCF (core/pcscf implements it). */
export interface UtIdentities {
  /** The AORs registered (live bindings) on the flow of this W2 connection. */
  registeredIdentities(connectionId: string): Promise<readonly string[]>;
  /** A web token checked as a REGISTER's would be (core/webauth). */
  verifyWebToken(token: string, origin: string | undefined): Promise<WebTokenOutcome>;
}

export interface UtServiceOptions {
  readonly xcapRoot: URL;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly identities: UtIdentities;
}

/** RFC 9110 §8.8.3 entity-tag list or `*`: visible ASCII only (no CR/LF reaches a header). */
const ETAG_HEADER = /^[\x21-\x7e][\x20-\x7e]{0,255}$/;
/** RFC 9110 §8.3 media type, kept simple: type/subtype and parameters, visible ASCII. */
const MEDIA_TYPE = /^[A-Za-z0-9.!#$&^_+-]{1,64}\/[A-Za-z0-9.!#$&^_+-]{1,64}(;[\x20-\x7e]{0,200})?$/;

/** RFC 4825 §15 (the whole document: application/vnd.etsi.simservs+xml, IANA): the media type a PUT body carries. */
function defaultContentType(target: UtTarget): string {
  if (target.node === undefined) return 'application/vnd.etsi.simservs+xml';
  const last = target.node.slice(target.node.lastIndexOf('/') + 1);
  return last.startsWith('@') ? 'application/xcap-att+xml' : 'application/xcap-el+xml';
}

export class UtService {
  readonly #client: XcapClient;
  readonly #identities: UtIdentities;
  readonly #maxBodyBytes: number;

  constructor(options: UtServiceOptions) {
    this.#client = new XcapClient({ root: options.xcapRoot, timeoutMs: options.timeoutMs, maxBodyBytes: options.maxBodyBytes });
    this.#identities = options.identities;
    this.#maxBodyBytes = options.maxBodyBytes;
  }

  get maxBodyBytes(): number {
    return this.#maxBodyBytes;
  }

  /** A plugin session's request: only a document of an identity registered on its flow. */
  async forConnection(connectionId: string, request: UtRequest): Promise<UtResponse> {
    const identities = await this.#identities.registeredIdentities(connectionId);
    const own = identities[0];
    if (own === undefined) throw new EpcError('EPC_ERR_UT_FORBIDDEN', 'Ut needs a registration: register first');
    const target = this.#target(request, own);
    if (!identities.includes(target.xui)) throw new EpcError('EPC_ERR_UT_FORBIDDEN', 'only the registered user\'s own simservs document may be reached');
    return this.#asserted(target, request);
  }

  /** The REST endpoint with a Bearer token: only the token's own IMPU's document. */
  async forToken(token: string, origin: string | undefined, request: UtRequest): Promise<UtResponse> {
    const outcome = await this.#identities.verifyWebToken(token, origin);
    if (!outcome.ok) throw new EpcError('EPC_ERR_UT_FORBIDDEN', outcome.refusal.reason);
    const target = this.#target(request, outcome.grant.impu);
    if (target.xui !== outcome.grant.impu) throw new EpcError('EPC_ERR_UT_FORBIDDEN', 'only the token\'s own simservs document may be reached');
    return this.#asserted(target, request);
  }

  /**
   * The REST endpoint without a token (a sip-ws client with digest credentials): the XCAP server
   * (or its authentication proxy) authenticates the user itself; epcscf asserts nothing and
   * still refuses anything but a simservs document. A 401 keeps its WWW-Authenticate.
   */
  async passThrough(authorization: string | undefined, request: UtRequest): Promise<XcapAnswer> {
    if (request.path === undefined) throw new EpcError('EPC_ERR_UT_BAD_REQUEST', 'a path naming the document is needed');
    const target = this.#target(request, '');
    return this.#client.send({
      ...this.#call(target, request), intendedIdentity: target.xui,
      ...(authorization !== undefined ? { authorization } : {}),
    });
  }

  #asserted(target: UtTarget, request: UtRequest): Promise<UtResponse> {
    // TS 24.109 §6.6.2: the identity epcscf authenticated, asserted toward the XCAP server.
    return this.#client.send({ ...this.#call(target, request), assertedIdentity: target.xui, intendedIdentity: target.xui })
      .then(({ wwwAuthenticate: _challenge, ...answer }) => answer);
  }

  #target(request: UtRequest, own: string): UtTarget {
    if (request.path !== undefined) {
      const parsed = parseSimservsPath(request.path);
      if (!parsed.ok) throw new EpcError(parsed.forbidden ? 'EPC_ERR_UT_FORBIDDEN' : 'EPC_ERR_UT_BAD_REQUEST', parsed.problem);
      return parsed.target;
    }
    if (request.node === undefined) return { xui: own, node: undefined };
    const node = checkNodeSelector(request.node);
    if (!node.ok) throw new EpcError('EPC_ERR_UT_BAD_REQUEST', node.problem);
    return { xui: own, node: node.node };
  }

  #call(target: UtTarget, request: UtRequest): XcapCall {
    for (const [name, value] of [['If-Match', request.ifMatch], ['If-None-Match', request.ifNoneMatch]] as const) {
      if (value !== undefined && !ETAG_HEADER.test(value)) throw new EpcError('EPC_ERR_UT_BAD_REQUEST', `${name} must be an entity-tag list or *`);
    }
    const common = {
      method: request.method, path: xcapPathOf(target),
      ...(request.ifMatch !== undefined ? { ifMatch: request.ifMatch } : {}),
      ...(request.ifNoneMatch !== undefined ? { ifNoneMatch: request.ifNoneMatch } : {}),
    };
    if (request.method !== 'PUT') return common;
    const body = request.body;
    if (body === undefined) throw new EpcError('EPC_ERR_UT_BAD_REQUEST', 'a PUT needs a body');
    if (Buffer.byteLength(body, 'utf8') > this.#maxBodyBytes) throw new EpcError('EPC_ERR_UT_BAD_REQUEST', `the body is larger than ut.maxBodyBytes (${this.#maxBodyBytes} bytes)`);
    const contentType = request.contentType ?? defaultContentType(target);
    if (!MEDIA_TYPE.test(contentType)) throw new EpcError('EPC_ERR_UT_BAD_REQUEST', 'contentType is not a media type');
    // RFC 4825 §8.2.1: element and document bodies are XML; an attribute value is not.
    if (!contentType.startsWith('application/xcap-att+xml')) {
      const problem = xmlProblem(body);
      if (problem !== undefined) throw new EpcError('EPC_ERR_UT_BAD_REQUEST', `the body is not well-formed XML: ${problem}`);
    }
    return { ...common, body, contentType };
  }
}
