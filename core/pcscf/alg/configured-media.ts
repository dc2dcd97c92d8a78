/**
 * The media gateway a configuration asks for (`media` in the config): our media-gw in this
 * process (the default), a gateway over the ng protocol (our `epcscf-media-gw` or rtpengine), or
 * none (`off`: SDP crosses untouched).
 */
import type { Logger } from 'pino';
import type { MediaConfig, NgMediaConfig } from '../../config/config-types.js';
import { EpcError } from '../../errors.js';
import { InProcessMediaControl, NgMediaControl, type MediaControl } from './media-control.js';
import { MediaPool, ngGatewayName } from './media-pool.js';

export interface ConfiguredMedia {
  readonly control: MediaControl;
  /** Where media goes, for the start-up banner and logs. */
  readonly description: string;
}

/** A gateway event for the ALG (our in-process gateway raises them; over ng there are none). */
export type MediaEventListener = (ngCallId: string, kind: 'idle' | 'consent-expired' | 'dtls-failed' | 'gateway-down') => void;

/** A DTMF digit the browser sent that must reach IMS as SIP INFO (`media.dtmf`, in-process gateway only). */
export type MediaDtmfListener = (ngCallId: string, digit: string, durationMs: number) => void;

export async function mediaFromConfig(config: MediaConfig, log: Logger, onEvent?: MediaEventListener, onDtmf?: MediaDtmfListener): Promise<ConfiguredMedia | undefined> {
  switch (config.mode) {
    case 'off':
      return undefined;
    case 'ng': {
      const ng = config.ng;
      if (ng === undefined) throw new EpcError('EPC_ERR_CONFIG_INVALID', 'media.ng: is required when media.mode is ng'); // the config check already refuses this
      if (ng.gateways.length > 1) return mediaPoolFromConfig(ng, log, onEvent);
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

/**
 * Several ng gateways as one pool (issue #15): a dead gateway's calls are released like any call
 * whose media failed (R-AGW-4: BYE toward both sides), through the same media-event path.
 */
function mediaPoolFromConfig(ng: NgMediaConfig, log: Logger, onEvent: MediaEventListener | undefined): ConfiguredMedia {
  const members = ng.gateways.map((gateway) => ({
    name: ngGatewayName(gateway.address.host, gateway.address.port), weight: gateway.weight,
    control: new NgMediaControl({ address: gateway.address.host, port: gateway.address.port, timeoutMs: ng.timeoutMs, retries: ng.retries, pingRetries: 0 }),
  }));
  const pool = new MediaPool({
    members, log: log.child({ component: 'media-pool' }),
    health: { intervalMs: ng.health.intervalSeconds * 1000, downAfterFailures: ng.health.downAfterFailures, upAfterSuccesses: ng.health.upAfterSuccesses },
    onGatewayDown: (_gateway, ngCallIds) => { for (const ngCallId of ngCallIds) onEvent?.(ngCallId, 'gateway-down'); },
  });
  return { control: pool, description: `ng pool ${members.map((m) => `udp:${m.name.slice(3)}${m.weight === 1 ? '' : ` (weight ${m.weight})`}`).join(', ')}` };
}
