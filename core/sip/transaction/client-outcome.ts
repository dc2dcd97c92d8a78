import type { EpcError } from '../../errors.js';
import type { SipRequest } from '../model/message.js';
import { createResponse } from '../model/edit.js';
import type { ClientTransactionDelegate } from './types.js';

/**
 * RFC 3261 §8.1.3.1, shared by both client transactions: a timeout (Timer B/F) goes to
 * `onTimeout`, or — for a TU without one — arrives as the 408 the RFC says to treat it as.
 */
export function reportTimeout(delegate: ClientTransactionDelegate, request: SipRequest): void {
  if (delegate.onTimeout) delegate.onTimeout();
  else delegate.onFinal(createResponse(request, 408, 'Request Timeout'));
}

/**
 * RFC 3261 §8.1.3.1: a transport error goes to `onTransportError`, or arrives as a 503 — never
 * after a real final response was delivered.
 */
export function reportTransportError(delegate: ClientTransactionDelegate, request: SipRequest, error: EpcError, finalDelivered: boolean): void {
  if (delegate.onTransportError) delegate.onTransportError(error);
  else if (!finalDelivered) delegate.onFinal(createResponse(request, 503, 'Service Unavailable'));
}
