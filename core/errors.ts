/**
 * The one error model of epcscf (docs/style.md): coded `EpcError`s for faults, `SipError`
 * for SIP outcomes. Every code lives in this table; nothing is thrown as a bare string.
 */
export const ERROR_CODES = {
  EPC_ERR_SIP_PARSE: 'malformed SIP message',
  EPC_ERR_SIP_FRAMING: 'SIP stream framing lost',
  EPC_ERR_SIP_TOO_LARGE: 'SIP message exceeds the size limit',
  EPC_ERR_SIP_TIMEOUT: 'SIP transaction timed out',
  EPC_ERR_SIP_TRANSPORT: 'SIP transport failure',
  EPC_ERR_SIP_REJECTED: 'SIP request rejected',
  EPC_ERR_SIP_RESOLVE: 'SIP next hop could not be resolved',
  EPC_ERR_SIP_AUTH: 'SIP authentication failure',
  EPC_ERR_SIP_BUILD: 'a SIP builder refused a value the SIP grammar forbids',
  EPC_ERR_INVALID_STATE: 'operation not valid in the current state',
  EPC_ERR_CONFIG_INVALID: 'invalid configuration',
  EPC_ERR_INSTALLATION: 'the epcscf installation is incomplete (package files missing)',
  EPC_ERR_PLUGIN_LOAD: 'plugin could not be loaded',
  EPC_ERR_PLUGIN_CONTRACT_MISMATCH: 'plugin contract version mismatch',
  EPC_ERR_PLUGIN_MISSING_HOOK: 'plugin is missing a mandatory hook',
  EPC_ERR_PLUGIN_OPTIONS_INVALID: 'plugin options are invalid',
  EPC_ERR_PLUGIN_DUPLICATE_BINDING: 'two plugins claim the same path and subprotocol',
  EPC_ERR_PLUGIN_INIT_TIMEOUT: 'plugin init timed out',
  EPC_ERR_PLUGIN_NOT_SESSION_OWNER: 'the connection is not one of this plugin\'s open sessions',
  EPC_ERR_MEDIA: 'media gateway failure',
  EPC_ERR_SDP_NOT_ACCEPTABLE: 'SDP offer or answer not acceptable',
  EPC_ERR_ADMIN_UNAUTHORIZED: 'admin API bearer key missing or wrong',
  EPC_ERR_ADMIN_NOT_FOUND: 'no such admin resource',
  EPC_ERR_ADMIN_BAD_REQUEST: 'invalid admin API request',
  EPC_ERR_ADMIN_BACKEND: 'admin operation failed',
  EPC_ERR_NOT_READY: 'epcscf is not ready to serve',
  EPC_ERR_UT_FORBIDDEN: 'Ut (TS 24.623): not the client\'s own simservs document, or the client is not authenticated',
  EPC_ERR_UT_BAD_REQUEST: 'Ut (TS 24.623): invalid document path, node selector, header or XML body',
  EPC_ERR_UT_UNAVAILABLE: 'Ut (TS 24.623): service configuration is off, or the XCAP server did not answer in time or in bounds',
  EPC_ERR_UA_REJECTED: 'the remote side rejected the request (the SIP status says why)',
  EPC_ERR_UA_INVALID_ARGUMENT: 'invalid argument for a virtual UE operation',
  EPC_ERR_UA_CLOSED: 'the virtual UE is closed',
  EPC_ERR_XMPP_STREAM: 'XMPP stream error (RFC 6120 §4.9): the stream must be closed',
  EPC_ERR_XMPP_JID_INVALID: 'not a valid JID (RFC 7622) or not mappable to a SIP/tel URI (RFC 7247 §5)',
  EPC_ERR_JINGLE_MAPPING: 'Jingle description cannot be mapped to or from SDP',
  EPC_ERR_STATE_UNAVAILABLE: 'the shared state store (Redis) cannot be reached or did not answer in time',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class EpcError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERROR_CODES[code], options);
    this.name = 'EpcError';
    this.code = code;
  }
}
