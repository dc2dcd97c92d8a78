/**
 * Error answers (F-JR-1, R-JR-3): the JSON-RPC reserved codes and this plugin's application
 * codes (-32000..-32099, schemas/jsonrpc/errors.json). Every error carries a `data` object that
 * tells the developer what went wrong and what to do; a SIP failure of a call is never an error
 * here but a call.ended notification with the SIP status.
 */
import { JSONRPCErrorException } from 'json-rpc-2.0';
import { EpcError } from '../../core/contract/index.js';
import { UaRejectedError } from '../../core/contract/index.js';

/** JSON-RPC 2.0 §5.1 reserved codes. */
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;

/** Application codes (R-JR-3; errors.json is the documented table). */
export const NOT_REGISTERED = -32001;
export const RESUME_TOKEN_INVALID = -32002;
export const NO_MEDIA_RESOURCES = -32003;
export const UNKNOWN_CALL = -32004;
export const WRONG_STATE = -32005;
export const RATE_LIMITED = -32006;
export const UNKNOWN_SUBSCRIPTION = -32007;
export const SIP_REJECTED = -32008;
/** A web token the eP-CSCF refused (R-REG-4); data {sipStatus, reason} like SIP_REJECTED's sipStatus. */
export const TOKEN_REFUSED = -32009;
/** Ut (TS 24.623): refused before the XCAP server (not registered, not the user's own document). */
export const UT_REFUSED = -32030;
/** Ut off (ut.xcapRoot unset), or the XCAP server did not answer in time or in bounds. */
export const UT_UNAVAILABLE = -32031;

const MESSAGES: Readonly<Record<number, string>> = {
  [PARSE_ERROR]: 'Parse error',
  [INVALID_REQUEST]: 'Invalid Request',
  [METHOD_NOT_FOUND]: 'Method not found',
  [INVALID_PARAMS]: 'Invalid params',
  [INTERNAL_ERROR]: 'Internal error',
  [NOT_REGISTERED]: 'Not registered',
  [RESUME_TOKEN_INVALID]: 'Resume token invalid or expired',
  [NO_MEDIA_RESOURCES]: 'No media resources',
  [UNKNOWN_CALL]: 'Unknown call',
  [WRONG_STATE]: 'Wrong state for this method',
  [RATE_LIMITED]: 'Rate limited',
  [UNKNOWN_SUBSCRIPTION]: 'Unknown subscription',
  [SIP_REJECTED]: 'Rejected by the network',
  [TOKEN_REFUSED]: 'Token refused',
  [UT_REFUSED]: 'Ut request refused',
  [UT_UNAVAILABLE]: 'Ut unavailable',
};

export type ErrorData = Readonly<Record<string, unknown>>;

/** A JSON-RPC error to throw from a method handler; json-rpc-2.0 turns it into the error answer. */
export function rpcError(code: number, data: ErrorData): JSONRPCErrorException {
  return new JSONRPCErrorException(errorMessage(code), code, data);
}

export function errorMessage(code: number): string {
  return MESSAGES[code] ?? 'Server error';
}

/**
 * What a fault from core/ua or the core means for the client. The UA rejects a local misuse with
 * EPC_ERR_INVALID_STATE / EPC_ERR_UA_*; media trouble is EPC_ERR_MEDIA (R-JR-3: -32003).
 * Anything unexpected is -32603 without internals in `data` (the log has the detail).
 */
export function toRpcError(error: unknown): JSONRPCErrorException {
  if (error instanceof JSONRPCErrorException) return error;
  if (error instanceof EpcError) {
    const code = error.code as string;
    const status = sipStatusOf(error);
    if (code === 'EPC_ERR_MEDIA') return rpcError(NO_MEDIA_RESOURCES, { hint: 'the media gateway has no capacity or is down; try again later', detail: error.message });
    // A request that resolves with its SIP outcome (SUBSCRIBE) and got a failure (R-JR-3).
    if (status !== undefined) return rpcError(SIP_REJECTED, { sipStatus: status, detail: error.message });
    if (code === 'EPC_ERR_UA_INVALID_ARGUMENT') return rpcError(INVALID_PARAMS, { problem: error.message });
    // Issue #11: a SIP builder refused a client value (CR/LF, not a media type, URI headers...).
    if (code === 'EPC_ERR_SIP_BUILD') return rpcError(INVALID_PARAMS, { problem: error.message });
    if (code === 'EPC_ERR_INVALID_STATE' || code.startsWith('EPC_ERR_UA')) return rpcError(WRONG_STATE, { detail: error.message, errorCode: code });
  }
  return rpcError(INTERNAL_ERROR, { hint: 'epcscf failed to handle this request; the server log has the detail' });
}

/** The SIP status of a rejection core/ua reports (UaRejectedError, EPC_ERR_UA_REJECTED). */
export function sipStatusOf(error: unknown): number | undefined {
  return error instanceof UaRejectedError ? error.status : undefined;
}
