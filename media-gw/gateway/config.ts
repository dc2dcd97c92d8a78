/**
 * The media gateway's configuration (`media.gateway` in the epcscf config, mirrored in
 * schemas/config.schema.json). One UDP port range and bind address per side: W3 toward WICs,
 * Mb toward the IMS core.
 */
import { isIP } from 'node:net';
import { EpcError } from '../../core/errors.js';
import type { PortRange } from '../rtp/port-allocator.js';

export interface MediaSideConfig {
  /** Address the side's sockets bind to. */
  readonly host: string;
  /** Address written into SDP for this side when it differs from `host` (NAT, 0.0.0.0 binds). */
  readonly advertisedAddress?: string;
  readonly ports: PortRange;
}

export interface MediaGatewayConfig {
  readonly webrtc: MediaSideConfig;
  readonly ims: MediaSideConfig;
  /** Calls beyond this are refused with EPC_ERR_MEDIA. Default 1000. */
  readonly maxCalls?: number;
  /** No media on either leg of an answered call for this long → an `idle` event. Default 60; 0 = off. */
  readonly idleTimeoutSeconds?: number;
  /** RFC 7675 §5.1 consent lifetime on the WebRTC leg. Default 30. */
  readonly consentTimeoutSeconds?: number;
  /**
   * Relay worker threads (media-gw/relay/relay-worker-pool.ts): calls are spread over this many
   * threads, each with an equal slice of both port ranges. Default 0: relays run in the
   * gateway's own thread.
   */
  readonly relayWorkers?: number;
}

/**
 * `media.dtmf`: how DTMF crosses between the browser's RFC 4733 events and SIP INFO toward IMS
 * (README "DTMF"). The gateway's own copy of core/config's DtmfMode (media-gw imports nothing
 * from core but the error table); the compiler checks the two agree where core hands it over.
 */
export type DtmfMode = 'auto' | 'rfc4733' | 'info';

export const DEFAULT_MAX_CALLS = 1000;
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 60;

function invalid(message: string): EpcError {
  return new EpcError('EPC_ERR_CONFIG_INVALID', `media.gateway: ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function portOf(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw invalid(`${where} must be an integer port 1-65535`);
  }
  return value;
}

function sideOf(value: unknown, name: string): MediaSideConfig {
  if (!isRecord(value)) throw invalid(`${name} must be an object { host, advertisedAddress?, ports: { min, max } }`);
  const { host, advertisedAddress, ports } = value;
  if (typeof host !== 'string' || isIP(host) === 0) throw invalid(`${name}.host must be an IP address`);
  if (advertisedAddress !== undefined && (typeof advertisedAddress !== 'string' || isIP(advertisedAddress) === 0)) {
    throw invalid(`${name}.advertisedAddress must be an IP address`);
  }
  // A wildcard bind has no address a peer could send to: the SDP needs a real one.
  if ((host === '0.0.0.0' || host === '::') && advertisedAddress === undefined) {
    throw invalid(`${name}.advertisedAddress is required when ${name}.host is ${host}`);
  }
  if (!isRecord(ports)) throw invalid(`${name}.ports must be { min, max }`);
  const min = portOf(ports['min'], `${name}.ports.min`);
  const max = portOf(ports['max'], `${name}.ports.max`);
  if (min > max) throw invalid(`${name}.ports.min is above ${name}.ports.max`);
  return { host, ...(advertisedAddress !== undefined ? { advertisedAddress } : {}), ports: { min, max } };
}

function optionalNumber(value: unknown, name: string, minimum: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum) throw invalid(`${name} must be a number ≥ ${minimum}`);
  return value;
}

/**
 * Checks an untrusted `media.gateway` object (a config file) and returns it typed; faults are
 * EPC_ERR_CONFIG_INVALID naming the key.
 */
export function parseMediaGatewayConfig(value: unknown): MediaGatewayConfig {
  if (!isRecord(value)) throw invalid('must be an object { webrtc, ims, ... }');
  const maxCalls = optionalNumber(value['maxCalls'], 'maxCalls', 1);
  const idleTimeoutSeconds = optionalNumber(value['idleTimeoutSeconds'], 'idleTimeoutSeconds', 0);
  const consentTimeoutSeconds = optionalNumber(value['consentTimeoutSeconds'], 'consentTimeoutSeconds', 1);
  const relayWorkers = optionalNumber(value['relayWorkers'], 'relayWorkers', 0);
  if (relayWorkers !== undefined && !Number.isInteger(relayWorkers)) throw invalid('relayWorkers must be an integer ≥ 0');
  return {
    webrtc: sideOf(value['webrtc'], 'webrtc'),
    ims: sideOf(value['ims'], 'ims'),
    ...(maxCalls !== undefined ? { maxCalls } : {}),
    ...(idleTimeoutSeconds !== undefined ? { idleTimeoutSeconds } : {}),
    ...(consentTimeoutSeconds !== undefined ? { consentTimeoutSeconds } : {}),
    ...(relayWorkers !== undefined ? { relayWorkers } : {}),
  };
}

/** The address this side writes into SDP. */
export function advertisedAddressOf(side: MediaSideConfig): string {
  return side.advertisedAddress ?? side.host;
}
