import { EpcError } from '../../errors.js';
import type { SipMessage } from '../model/message.js';
import type { SipSender, SipTarget } from '../transport/types.js';

/** Wrap whatever the transport threw as the one transport fault code. */
export function toTransportError(err: unknown): EpcError {
  if (err instanceof EpcError && err.code === 'EPC_ERR_SIP_TRANSPORT') return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new EpcError('EPC_ERR_SIP_TRANSPORT', `SIP transport failure: ${detail}`, { cause: err });
}

/**
 * Hand one message to the transport. Fire and forget for the state machine, but a failure,
 * whether the sender throws or its promise rejects, always reaches `onError`.
 */
export function transmit(
  sender: SipSender,
  message: SipMessage,
  target: SipTarget,
  onError: (error: EpcError) => void,
): void {
  let sent: Promise<void>;
  try {
    sent = sender.send(message, target);
  } catch (err) {
    sent = Promise.reject(err);
  }
  sent.catch((err: unknown) => onError(toTransportError(err)));
}
