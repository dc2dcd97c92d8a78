/**
 * The media gateway a configuration asks for (`media` in the config): our media-gw in this
 * process (the default), a gateway over the ng protocol (our `epcscf-media-gw` or rtpengine), or
 * none (`off`: SDP crosses untouched).
 */
import type { Logger } from 'pino';
import type { MediaConfig } from '../../config/config-types.js';
import { EpcError } from '../../errors.js';
import { InProcessMediaControl, NgMediaControl, type MediaControl } from './media-control.js';

export interface ConfiguredMedia {
  readonly control: MediaControl;
  /** Where media goes, for the start-up banner and logs. */
  readonly description: string;
}

/** A gateway event for the ALG (our in-process gateway raises them; over ng there are none). */
export type MediaEventListener = (ngCallId: string, kind: 'idle' | 'consent-expired' | 'dtls-failed') => void;

/** A DTMF digit the browser sent that must reach IMS as SIP INFO (`media.dtmf`, in-process gateway only). */
export type MediaDtmfListener = (ngCallId: string, digit: string, durationMs: number) => void;

export async function mediaFromConfig(config: MediaConfig, log: Logger, onEvent?: MediaEventListener, onDtmf?: MediaDtmfListener): Promise<ConfiguredMedia | undefined> {
  switch (config.mode) {
    case 'off':
      return undefined;
    case 'ng': {
      const ng = config.ng;
      if (ng === undefined) throw new EpcError('EPC_ERR_CONFIG_INVALID', 'media.ng: is required when media.mode is ng'); // the config check already refuses this
      return {
        control: new NgMediaControl({ address: ng.address.host, port: ng.address.port, timeoutMs: ng.timeoutMs, retries: ng.retries }),
        description: `ng udp:${ng.address.host}:${ng.address.port}`,
      };
    }
    case 'in-process': {
      // Loaded only when used: a signalling-only or ng deployment never loads werift.
      const { createMediaGateway } = await import('../../../media-gw/gateway/index.js');
      const gatewayLog = log.child({ component: 'media-gw' });
      const gateway = createMediaGateway(config.gateway, {
        onCallEvent: (event) => {
          gatewayLog.warn({ ngCallId: event.callId, event: event.kind }, 'media event');
          onEvent?.(event.callId, event.kind);
        },
        dtmf: config.dtmf,
        onDtmf: (event) => onDtmf?.(event.callId, event.digit, event.durationMs),
      });
      const { webrtc, ims } = config.gateway;
      return {
        control: new InProcessMediaControl(gateway, { owned: true }),
        description: `in-process (WebRTC ${webrtc.host}:${webrtc.ports.min}-${webrtc.ports.max}, IMS ${ims.host}:${ims.ports.min}-${ims.ports.max})`,
      };
    }
  }
}
