/**
 * Where the P-CSCF procedures meet the IMS-ALG: each relayed request, response and ACK gets its
 * SDP rewritten for the other side, refusals are answered, and every final response settles the
 * media of its transaction (ImsAlg.settle): a call's media is released when its attempt fails,
 * a BYE passes or the W2 connection dies, and rolled back when a re-offer fails. Without a
 * media gateway (media.mode off) every method lets the message through untouched.
 */
import { removeHeader, tagOf, to, withBody, callId, type SipRequest, type SipResponse } from '../sip/index.js';
import { EpcError } from '../errors.js';
import type { ServerTransaction } from '../sip/transaction/index.js';
import { dialogId } from '../state/dialog-store.js';
import { carriesSdp, hasUnlabelledBody, isInitialInvite, type ImsAlg, type MediaLeg, type MediaSide } from './alg/ims-alg.js';
import { mediaCallId } from './alg/media-legs.js';
import { CallsInSetup } from './calls-in-setup.js';
import type { PcscfContext } from './context.js';

export class SessionMedia {
  readonly alg: ImsAlg | undefined;
  /** Initial INVITEs whose attempt has media and no final yet (a media failure ends them: setup-release.ts). */
  readonly setup = new CallsInSetup();
  readonly #ctx: PcscfContext;

  constructor(alg: ImsAlg | undefined, ctx: PcscfContext) {
    this.alg = alg;
    this.#ctx = ctx;
  }

  /**
   * A request's SDP from `side` toward the other. Returns undefined after refusing the request
   * (488/400 for SDP nothing of which can be relayed, 503 when the gateway failed): nothing is
   * forwarded then, and the refusal settles the transaction's media like any final response. An
   * initial INVITE opens a call attempt on its leg; a BYE releases the call's media.
   */
  async inRequest(request: SipRequest, side: MediaSide, leg: MediaLeg, tx: ServerTransaction): Promise<SipRequest | undefined> {
    const alg = this.alg;
    if (alg === undefined) return request;
    if (request.method === 'BYE') {
      await alg.release(leg, `BYE from ${side}`);
      return request;
    }
    if (isInitialInvite(request)) {
      alg.open(leg);
      this.setup.opened(mediaCallId(leg), tx);
    }
    try {
      return await alg.request(request, side, leg);
    } catch (error) {
      let refusal: SipResponse;
      try {
        refusal = alg.refusal(tx.request, error);
      } catch (unexpected) {
        await alg.settle(request, 500, leg); // the procedure guard answers 500
        throw unexpected;
      }
      await alg.settle(request, refusal.status, leg);
      tx.respond(refusal);
      return undefined;
    }
  }

  /**
   * A response's SDP (`side`: where the response comes from), and for a final response the end
   * of the transaction (`ImsAlg.settle`: a failed attempt frees its leg, a failed re-offer rolls
   * back). Every final response of a forwarded request passes here, whether it came from the
   * peer or was made by the transaction layer (408 timeout, 503 transport error, 487 CANCEL).
   * An SDP the gateway cannot relay rejects (EPC_ERR_MEDIA) after settling the transaction as
   * failed: the response is not relayed at all (RFC 3261 §16.7, issue 11 #9; the forwarder
   * answers 502 and ends what the far side set up).
   */
  async inResponse(request: SipRequest, response: SipResponse, side: MediaSide, leg: MediaLeg): Promise<SipResponse> {
    const alg = this.alg;
    if (alg === undefined) return response;
    let out = response;
    try {
      out = await alg.response(request, response, side, leg);
    } catch (error) {
      this.#ctx.log.error({ err: error, callId: leg.callId, status: response.status }, 'IMS-ALG could not relay the SDP of a response');
      if (response.status >= 200) await alg.settle(request, 502, leg);
      throw new EpcError('EPC_ERR_MEDIA', `the SDP of the ${response.status} could not be relayed`, { cause: error });
    }
    if (response.status >= 200) await alg.settle(request, response.status, leg);
    return out;
  }

  /**
   * An ACK (sent statelessly) may carry the answer to an offer made in a 2xx. Only then is the
   * dialog read (`wicTag` finds it), for the direction that names the media leg. Without a
   * dialog of this flow there is no leg to answer on: the SDP is dropped rather than given a
   * leg nothing owns (a stray or forged ACK must not create media state).
   */
  async inAck(ack: SipRequest, side: MediaSide, flowKey: string, wicTag: string | undefined): Promise<SipRequest> {
    if (this.alg === undefined) return ack;
    if (hasUnlabelledBody(ack)) {
      // RFC 3261 §20.15: an unlabelled body may be an SDP answer; it never crosses past the gateway.
      this.#ctx.log.debug({ callId: callId(ack) }, 'ACK body without Content-Type: relayed without it');
      return withBody(ack, '');
    }
    if (!carriesSdp(ack)) return ack;
    const dialog = wicTag === undefined ? undefined : await this.#ctx.dialogs.get(dialogId(callId(ack), wicTag));
    if (dialog === undefined || dialog.flowKey !== flowKey) {
      this.#ctx.log.debug({ callId: callId(ack) }, 'SDP in an ACK outside any dialog of its flow: relayed without it');
      return removeHeader(withBody(ack, ''), 'Content-Type');
    }
    const leg: MediaLeg = { callId: dialog.callId, flowKey, direction: dialog.direction };
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

  /** Frees the media of every leg of a W2 flow that is gone (never throws). */
  async releaseFlow(flowKey: string, why: string): Promise<void> {
    await this.alg?.releaseFlow(flowKey, why);
  }

  async close(): Promise<void> {
    await this.alg?.close();
  }
}
