/**
 * The SIP of a TS 24.615 CW AS, for the tests: the multipart/mixed INVITE body (RFC 5621) with
 * the SDP and the 3GPP CW indication (TS 24.615 §4.4, A.1 Table A.1-1), and the RFC 7462
 * Alert-Info the AS adds toward the callee (and in the 180 toward the caller).
 */
export const CW_BOUNDARY = 'cw-boundary-24615';
export const CW_CONTENT_TYPE_HEADER = `multipart/mixed;boundary="${CW_BOUNDARY}"`;
export const CW_XML = '<?xml version="1.0" encoding="UTF-8"?>\r\n<ims-cw xmlns="urn:3gpp:ns:cw:1.0" version="1">\r\n  <communication-waiting-indication/>\r\n</ims-cw>\r\n';
export const CALL_WAITING_ALERT_INFO = '<urn:alert:service:call-waiting>';

/** The multipart body: the SDP part first, then the CW XML part (exact bytes the tests compare). */
export function cwMultipartBody(sdp: string): string {
  return [
    `--${CW_BOUNDARY}`, 'Content-Type: application/sdp', '', sdp.replace(/\r\n$/, ''),
    `--${CW_BOUNDARY}`, 'Content-Type: application/vnd.3gpp.cw+xml', '', CW_XML.replace(/\r\n$/, ''),
    `--${CW_BOUNDARY}--`, '',
  ].join('\r\n');
}

/** The CW XML part exactly as cwMultipartBody framed it (what must arrive byte-exact). */
export const CW_PART = `Content-Type: application/vnd.3gpp.cw+xml\r\n\r\n${CW_XML.replace(/\r\n$/, '')}`;
