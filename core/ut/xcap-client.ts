/**
 * The HTTP side toward the XCAP server (the Ut reference point behind epcscf). epcscf stands in
 * the authentication proxy's place (TS 24.109 §6.6, TS 24.623 §5.2.1): it asserts the identity
 * it authenticated in X-3GPP-Asserted-Identity (a quoted SIP/tel URI) and names the same one in
 * X-3GPP-Intended-Identity; the XCAP server trusts epcscf's network position. Bounded: one
 * deadline per request, the answer read up to a byte limit, no redirects followed.
 */
import { EpcError } from '../errors.js';
import type { UtMethod, UtResponse } from './ut-types.js';

export interface XcapClientOptions {
  /** The XCAP root URI (RFC 4825 §6.1), e.g. http://xcap.ims.example.com:8080/xcap-root. */
  readonly root: URL;
  readonly timeoutMs: number;
  /** The largest body accepted in either direction. */
  readonly maxBodyBytes: number;
}

export interface XcapCall {
  readonly method: UtMethod;
  /** From xcapPathOf(): already checked and encoded. */
  readonly path: string;
  readonly body?: string;
  readonly contentType?: string;
  readonly ifMatch?: string;
  readonly ifNoneMatch?: string;
  /** TS 24.109: the identity epcscf authenticated; undefined in digest pass-through. */
  readonly assertedIdentity?: string;
  /** TS 24.109 §6.6.2: the identity the client means to act as. */
  readonly intendedIdentity?: string;
  /** Digest pass-through: the client's own Authorization for the XCAP server. */
  readonly authorization?: string;
}

/** A UtResponse plus the challenge a digest pass-through hands back (RFC 7616 §3.3). */
export interface XcapAnswer extends UtResponse {
  readonly wwwAuthenticate?: string;
}

export class XcapClient {
  readonly #options: XcapClientOptions;
  readonly #rootPath: string;

  constructor(options: XcapClientOptions) {
    this.#options = options;
    this.#rootPath = options.root.pathname.replace(/\/+$/, '');
  }

  async send(call: XcapCall): Promise<XcapAnswer> {
    const url = new URL(this.#options.root.href);
    url.pathname = this.#rootPath + call.path;
    url.search = '';
    const headers: Record<string, string> = {};
    if (call.assertedIdentity !== undefined) headers['X-3GPP-Asserted-Identity'] = `"${call.assertedIdentity}"`;
    if (call.intendedIdentity !== undefined) headers['X-3GPP-Intended-Identity'] = `"${call.intendedIdentity}"`;
    if (call.authorization !== undefined) headers['Authorization'] = call.authorization;
    if (call.ifMatch !== undefined) headers['If-Match'] = call.ifMatch;
    if (call.ifNoneMatch !== undefined) headers['If-None-Match'] = call.ifNoneMatch;
    if (call.body !== undefined && call.contentType !== undefined) headers['Content-Type'] = call.contentType;
    let response: Response;
    try {
      response = await fetch(url, {
        method: call.method, headers, redirect: 'manual', signal: AbortSignal.timeout(this.#options.timeoutMs),
        ...(call.body !== undefined ? { body: call.body } : {}),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new EpcError('EPC_ERR_UT_UNAVAILABLE', timedOut
        ? `the XCAP server did not answer within ${this.#options.timeoutMs} ms`
        : 'the XCAP server cannot be reached', { cause: error });
    }
    const body = await this.#boundedBody(response);
    const etag = response.headers.get('etag') ?? undefined;
    const contentType = response.headers.get('content-type') ?? undefined;
    const challenge = response.status === 401 ? response.headers.get('www-authenticate') ?? undefined : undefined;
    return {
      status: response.status, body,
      ...(etag !== undefined ? { etag } : {}),
      ...(contentType !== undefined ? { contentType } : {}),
      ...(challenge !== undefined ? { wwwAuthenticate: challenge } : {}),
    };
  }

  async #boundedBody(response: Response): Promise<string> {
    const limit = this.#options.maxBodyBytes;
    const declared = Number(response.headers.get('content-length') ?? '0');
    const tooLarge = (): EpcError => new EpcError('EPC_ERR_UT_UNAVAILABLE', `the XCAP server answered more than ut.maxBodyBytes (${limit} bytes)`);
    if (declared > limit) {
      await response.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    if (response.body === null) return '';
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > limit) {
          await reader.cancel().catch(() => undefined);
          throw tooLarge();
        }
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof EpcError) throw error;
      throw new EpcError('EPC_ERR_UT_UNAVAILABLE', 'the XCAP server\'s answer was cut off', { cause: error });
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}
