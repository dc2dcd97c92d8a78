/**
 * Where the P-CSCF procedures meet the IMS-ALG: each relayed request, response and ACK gets its
 * SDP rewritten for the other side, refusals are answered, and a call's media is released when
 * its INVITE fails, a BYE passes or the W2 connection dies. Without a media gateway (media.mode
 * off) every method lets the message through untouched.
 */
import { removeHeader, tagOf, to, withBody, callId, type SipRequest, type SipResponse } from '../sip/index.js';
import { EpcError } from '../errors.js';
import type { ServerTransaction } from '../sip/transaction/index.js';
import { dialogId } from '../state/dialog-store.js';
import { carriesSdp, type ImsAlg, type MediaLeg, type MediaSide } from './alg/ims-alg.js';
import type { PcscfContext } from './context.js';

export class SessionMedia {
  readonly alg: ImsAlg | undefined;
  readonly #ctx: PcscfContext;

  constructor(alg: ImsAlg | undefined, ctx: PcscfContext) {
    this.alg = alg;
    this.#ctx = ctx;
  }

  /**
   * A request's SDP from `side` toward the other. Returns undefined after refusing the request
   * (488/400 for SDP nothing of which can be relayed, 503 when the gateway failed): nothing is
   * forwarded then. A BYE releases the call's media.
   */
  async inRequest(request: SipRequest, side: MediaSide, leg: MediaLeg, tx: ServerTransaction): Promise<SipRequest | undefined> {
    if (this.alg === undefined) return request;
    if (request.method === 'BYE') {
      await this.alg.release(leg, `BYE from ${side}`);
      return request;
    }
    try {
      return await this.alg.request(request, side, leg);
    } catch (error) {
      tx.respond(this.alg.refusal(tx.request, error));
      return undefined;
    }
  }

  /**
   * A response's SDP (`side`: where the response comes from). A failed initial INVITE releases
   * the call's media. An SDP the gateway cannot relay rejects (EPC_ERR_MEDIA): the response is
   * not relayed at all (RFC 3261 §16.7, issue 11 #9; the forwarder answers 502 and ends what the
   * far side set up).
   */
  async inResponse(request: SipRequest, response: SipResponse, side: MediaSide, leg: MediaLeg): Promise<SipResponse> {
    if (this.alg === undefined) return response;
    const initialInvite = request.method === 'INVITE' && tagOf(to(request)) === undefined;
    if (initialInvite && response.status >= 300) {
      await this.alg.release(leg, `INVITE failed with ${response.status}`);
      return response;
    }
    try {
      return await this.alg.response(request, response, side, leg);
    } catch (error) {
      this.#ctx.log.error({ err: error, callId: leg.callId, status: response.status }, 'IMS-ALG could not relay the SDP of a response');
      throw new EpcError('EPC_ERR_MEDIA', `the SDP of the ${response.status} could not be relayed`, { cause: error });
    }
  }

  /**
   * An ACK (sent statelessly) may carry the answer to an offer made in a 2xx. Only then is the
   * dialog read (`wicTag` finds it), for the direction that names the media leg.
   */
  async inAck(ack: SipRequest, side: MediaSide, flowKey: string, wicTag: string | undefined): Promise<SipRequest> {
    if (this.alg === undefined || !carriesSdp(ack)) return ack;
    const dialog = wicTag === undefined ? undefined : await this.#ctx.dialogs.get(dialogId(callId(ack), wicTag));
    const leg: MediaLeg = { callId: callId(ack), flowKey, direction: dialog?.direction ?? 'originating' };
    try {
      return await this.alg.request(ack, side, leg);
    } catch (error) {
      this.#ctx.log.error({ err: error, callId: leg.callId }, 'IMS-ALG could not relay the SDP answer in an ACK; relayed without it');
      return removeHeader(withBody(ack, ''), 'Content-Type');
    }
  }

  /** Frees a call's media (never throws). */
  async release(leg: MediaLeg, why: string): Promise<void> {
    await this.alg?.release(leg, why);
  }

  async close(): Promise<void> {
    await this.alg?.close();
  }
}
