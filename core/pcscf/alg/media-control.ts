/**
 * The seam between the IMS-ALG and a media gateway. The ALG asks for the same five things
 * whoever relays the media; two implementations answer:
 *  - `NgMediaControl`: the rtpengine "ng" protocol over UDP (media-gw/ng/ng-client.ts), toward our media-gw
 *    running as its own process or toward a real rtpengine;
 *  - `InProcessMediaControl`: direct calls into a MediaGatewayControl in this process (the
 *    default deployment), with no UDP and no encoding.
 * Both fail the same way, with EpcError('EPC_ERR_MEDIA'), so the ALG cannot tell them apart.
 */
import { EpcError } from '../../errors.js';
import {
  NgClient,
  type MediaGatewayControl, type NgAnswerRequest, type NgClientOptions, type NgDeleteRequest, type NgOfferRequest, type NgQueryRequest,
  type NgQueryResult, type NgSdpResult,
} from '../../../media-gw/ng/index.js';
import type { ParsedSdp } from '../../../media-gw/sdp/index.js';

export interface MediaControl extends MediaGatewayControl {
  /** Is the gateway there? Rejects with EPC_ERR_MEDIA when not. */
  ping(): Promise<void>;
  /** Releases what this control holds (a socket); the gateway itself keeps running. Idempotent. */
  close(): Promise<void>;
  /**
   * Plays a DTMF digit toward the browser of an ng call as RFC 4733 events (`media.dtmf:
   * rfc4733`); false when the browser negotiated no telephone-event. Only our in-process
   * gateway can (the ng protocol has no such command).
   */
  sendDtmf?(callId: string, digit: string, durationMs: number): Promise<boolean>;
  /**
   * A pool of gateways (media-pool.ts) says which one carries an ng call (`ng:host:port`), for
   * the cluster's MediaLegDirectory; undefined: the call is unknown (or this is no pool).
   */
  gatewayOf?(ngCallId: string): string | undefined;
  /** A pool frees a call on the named gateway (a dead node's leg, found in the MediaLegDirectory). */
  deleteOn?(gateway: string, request: NgDeleteRequest): Promise<void>;
  /** A pool's gateways, up or out, with their load (/ready, /metrics). */
  gateways?(): readonly MediaGatewayState[];
}

/** One gateway of a pool as /ready and /metrics see it. */
export interface MediaGatewayState {
  /** `ng:host:port`. */
  readonly name: string;
  readonly weight: number;
  readonly up: boolean;
  /** Live ng calls this node placed on it. */
  readonly calls: number;
}

/** A gateway that can play DTMF toward the browser (our MediaGateway). */
interface DtmfPlayingGateway extends MediaGatewayControl {
  sendDtmf(callId: string, digit: string, durationMs: number): Promise<boolean>;
}

/** Drives a gateway over the ng protocol. */
export class NgMediaControl implements MediaControl {
  readonly #client: NgClient;
  readonly #pingRetries: number | undefined;

  /** `pingRetries`: retransmissions of a ping (a pool's health check uses 0); default: `retries`. */
  constructor(options: NgClientOptions & { readonly pingRetries?: number }) {
    this.#client = new NgClient(options);
    this.#pingRetries = options.pingRetries;
  }

  ping(): Promise<void> { return this.#client.ping(this.#pingRetries === undefined ? {} : { retries: this.#pingRetries }); }
  /** The text goes on the wire (a parse cannot cross a socket): the gateway parses it there. */
  offer(request: NgOfferRequest): Promise<NgSdpResult> { return this.#client.offer(request); }
  answer(request: NgAnswerRequest): Promise<NgSdpResult> { return this.#client.answer(request); }
  delete(request: NgDeleteRequest): Promise<void> { return this.#client.delete(request); }
  query(request: NgQueryRequest): Promise<NgQueryResult> { return this.#client.query(request); }
  close(): Promise<void> { return this.#client.close(); }
}

/**
 * Any fault from an in-process gateway reaches the ALG as EPC_ERR_MEDIA, just as it would
 * through the ng protocol (where it would arrive as an `error-reason`) — except an SdpError,
 * which says the SDP itself cannot be relayed and is answered 488/400.
 */
function asMediaError(command: string, error: unknown): EpcError {
  // SdpError keeps its code and status: the ALG answers it with 488/400, not 503.
  if (error instanceof EpcError && (error.code === 'EPC_ERR_MEDIA' || error.code === 'EPC_ERR_SDP_NOT_ACCEPTABLE')) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new EpcError('EPC_ERR_MEDIA', `media gateway ${command} failed: ${reason}`, { cause: error });
}

/** A gateway whose life this control owns (closeAll releases every call, on shutdown). */
export interface OwnedMediaGateway extends MediaGatewayControl {
  closeAll(): Promise<void>;
}

/** Drives a gateway in this process; closing the control closes an owned gateway too. */
export class InProcessMediaControl implements MediaControl {
  readonly #gateway: MediaGatewayControl;
  readonly #owned: OwnedMediaGateway | undefined;
  #closed = false;

  constructor(gateway: MediaGatewayControl, options: { readonly owned?: boolean } = {}) {
    this.#gateway = gateway;
    this.#owned = options.owned && 'closeAll' in gateway ? (gateway as OwnedMediaGateway) : undefined;
  }

  async ping(): Promise<void> {
    this.#assertOpen('ping');
  }

  /** The ALG's parse of the offer goes along: the gateway does not parse it again. */
  offer(request: NgOfferRequest, parsed?: ParsedSdp): Promise<NgSdpResult> {
    return this.#call('offer', () => this.#gateway.offer(request, parsed));
  }

  answer(request: NgAnswerRequest): Promise<NgSdpResult> {
    return this.#call('answer', () => this.#gateway.answer(request));
  }

  delete(request: NgDeleteRequest): Promise<void> {
    return this.#call('delete', () => this.#gateway.delete(request));
  }

  query(request: NgQueryRequest): Promise<NgQueryResult> {
    return this.#call('query', () => this.#gateway.query(request));
  }

  async sendDtmf(callId: string, digit: string, durationMs: number): Promise<boolean> {
    const gateway = this.#gateway;
    if (!('sendDtmf' in gateway)) return false;
    return this.#call('sendDtmf', () => (gateway as DtmfPlayingGateway).sendDtmf(callId, digit, durationMs));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#owned?.closeAll();
  }

  #assertOpen(command: string): void {
    if (this.#closed) throw new EpcError('EPC_ERR_MEDIA', `media control closed (${command})`);
  }

  async #call<T>(command: string, run: () => Promise<T>): Promise<T> {
    this.#assertOpen(command);
    try {
      return await run();
    } catch (error) {
      throw asMediaError(command, error);
    }
  }
}

export type MediaControlConfig =
  | { readonly kind: 'in-process'; readonly gateway: MediaGatewayControl }
  | ({ readonly kind: 'ng' } & NgClientOptions);

/** The MediaControl a configuration asks for. */
export function createMediaControl(config: MediaControlConfig): MediaControl {
  return config.kind === 'in-process' ? new InProcessMediaControl(config.gateway) : new NgMediaControl(config);
}
