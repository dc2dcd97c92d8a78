/**
 * Ut (TS 24.623, RFC 4825) as a plugin and the W2 REST endpoint see it: one XCAP operation on
 * the client's own simservs document, and the XCAP server's answer as it came back.
 */

export type UtMethod = 'GET' | 'PUT' | 'DELETE';

export interface UtRequest {
  readonly method: UtMethod;
  /**
   * The node selector inside the user's simservs document (RFC 4825 §6.3, what follows `~~/`),
   * e.g. `simservs/communication-diversion`; absent: the whole document.
   */
  readonly node?: string;
  /**
   * Or the whole document selector relative to the XCAP root, as an XCAP client writes it:
   * `/simservs.ngn.etsi.org/users/<XUI>/simservs.xml[/~~/<node selector>]`. The XUI must be the
   * client's own IMPU. Takes precedence over `node`.
   */
  readonly path?: string;
  /** PUT: the XML element, document, or attribute value (RFC 4825 §8.2). */
  readonly body?: string;
  /** PUT: the body's media type; default from the selector (RFC 4825 §15). */
  readonly contentType?: string;
  /** RFC 4825 §7.11 / RFC 9110 §13.1.1: only if the document still has this ETag. */
  readonly ifMatch?: string;
  /** RFC 9110 §13.1.2 (`*`: only create). */
  readonly ifNoneMatch?: string;
}

/** The XCAP server's answer, whatever its status (404, 409 and 412 are answers, not faults). */
export interface UtResponse {
  readonly status: number;
  readonly etag?: string;
  readonly contentType?: string;
  /** The response body (a document, an element, an RFC 4825 §11 <xcap-error>); '' when none. */
  readonly body: string;
}
