/** Shared by the SIP transport tests: a request to send and a polling wait. */
import { createRequest, type SipRequest } from '../../core/sip/index.js';

/** An OPTIONS toward an S-CSCF whose Via names `port` over TLS (any transport carries it). */
export function optionsRequest(id: string, port: number): SipRequest {
  return createRequest({
    method: 'OPTIONS', uri: 'sip:scscf.ims.test',
    headers: [
      ['Via', `SIP/2.0/TLS 127.0.0.1:${port};branch=z9hG4bK-${id}`], ['Max-Forwards', '70'],
      ['From', '<sip:pcscf@ims.test>;tag=p'], ['To', '<sip:scscf.ims.test>'], ['Call-ID', id], ['CSeq', '1 OPTIONS'],
    ],
  });
}

/** Polls `check` every 5 ms; rejects naming `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
