/** Our media gateway (eIMS-AGW) as a MediaGatewayControl: what the ng server or the in-process ALG drives. */
import { RelayFactory, type RelayFactoryOptions } from '../relay/relay-factory.js';
import { RelayWorkerPool } from '../relay/relay-worker-pool.js';
import type { LocalCertificate } from '../webrtc/certificate.js';
import { advertisedAddressOf, DEFAULT_IDLE_TIMEOUT_SECONDS, DEFAULT_MAX_CALLS, type DtmfMode, type MediaGatewayConfig } from './config.js';
import { MediaGateway, type CallEvent, type DtmfEvent } from './media-gateway.js';

export { MediaGateway, offerSideOf, type CallEvent, type CallEventKind, type DtmfEvent, type MediaGatewayOptions } from './media-gateway.js';
export {
  advertisedAddressOf, parseMediaGatewayConfig, DEFAULT_IDLE_TIMEOUT_SECONDS, DEFAULT_MAX_CALLS,
  type DtmfMode, type MediaGatewayConfig, type MediaSideConfig,
} from './config.js';

export interface CreateMediaGatewayOptions {
  readonly onCallEvent?: (event: CallEvent) => void;
  /** DTMF interworking (`media.dtmf`), default auto, and where converted digits go. */
  readonly dtmf?: DtmfMode;
  readonly onDtmf?: (event: DtmfEvent) => void;
  /** Default: one self-signed certificate per process (sharedCertificate). */
  readonly certificate?: LocalCertificate;
}

/** A gateway over the configured port ranges (config as typed; see parseMediaGatewayConfig for untrusted input). */
export function createMediaGateway(config: MediaGatewayConfig, options: CreateMediaGatewayOptions = {}): MediaGateway {
  const relayOptions: RelayFactoryOptions = {
    webrtcPorts: config.webrtc.ports,
    imsPorts: config.ims.ports,
    webrtcHost: config.webrtc.host,
    imsHost: config.ims.host,
    maxCalls: config.maxCalls ?? DEFAULT_MAX_CALLS,
    ...(config.consentTimeoutSeconds !== undefined ? { consentTimeoutMs: config.consentTimeoutSeconds * 1000 } : {}),
    ...(options.certificate ? { certificate: options.certificate } : {}),
  };
  const workers = config.relayWorkers ?? 0;
  const factory = workers > 0 ? new RelayWorkerPool({ ...relayOptions, workers }) : new RelayFactory(relayOptions);
  return new MediaGateway({
    factory,
    addresses: { wic: advertisedAddressOf(config.webrtc), ims: advertisedAddressOf(config.ims) },
    idleTimeoutMs: (config.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS) * 1000,
    ...(options.onCallEvent ? { onCallEvent: options.onCallEvent } : {}),
    ...(options.dtmf ? { dtmf: options.dtmf } : {}),
    ...(options.onDtmf ? { onDtmf: options.onDtmf } : {}),
  });
}
