/**
 * The soak's media calls: `concurrent` calls at all times, call i on gateway i mod 2, each set up
 * with the IMS-ALG's own ng requests (offerFromWic, answerFromIms through NgMediaControl) by
 * bench/media's LoadCall — a WebRTC endpoint (ICE, DTLS-SRTP) on the WIC side and a plain RTP
 * endpoint on the IMS side — streaming PCMU 50 pps each way for `holdSeconds`, then deleted
 * (ng delete) and replaced by a new one. Loss is counted per call over its whole life (the last
 * 300 ms before the delete are not counted: in flight), one-way latency per sample window.
 */
import { NgMediaControl } from '../../core/pcscf/alg/media-control.js';
import { sharedCertificate } from '../../media-gw/webrtc/certificate.js';
import type { LocalCertificate } from '../../media-gw/webrtc/certificate.js';
import type { GatewayUnderTest } from '../media/gateways.js';
import { LoadCall } from '../media/load-call.js';
import { MediaPacer } from '../media/pacer.js';
import { PortRange } from '../media/port-range.js';
import { LatencySamples, MeasurementWindow, type LatencySummary } from '../media/rtp-stream.js';
import type { OpStats } from './op-stats.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface MediaTotals {
  readonly callsCompleted: number;
  readonly packetsExpected: number;
  readonly packetsReceived: number;
  readonly lossPercent: number;
}

export class MediaLoad {
  readonly #controls: NgMediaControl[];
  readonly #gateways: readonly GatewayUnderTest[];
  readonly #stats: OpStats;
  readonly #window = new MeasurementWindow();
  readonly #webrtcPorts = new PortRange(46000, 46999);
  readonly #imsPorts = new PortRange(47000, 47999);
  readonly #runId = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  #certificate: LocalCertificate | undefined;
  #running = false;
  #lanes: Promise<void>[] = [];
  #index = 0;
  #callsCompleted = 0;
  #expected = 0;
  #received = 0;

  constructor(gateways: readonly GatewayUnderTest[], stats: OpStats) {
    this.#gateways = gateways;
    this.#stats = stats;
    this.#controls = gateways.map((gateway) => new NgMediaControl({ address: '127.0.0.1', port: gateway.ngPort, timeoutMs: 2000, retries: 2 }));
    this.#window.open = true;
    this.#window.samples = new LatencySamples(0);
  }

  /** Starts `concurrent` lanes, each one call after another, held `holdSeconds`. */
  async start(concurrent: number, holdSeconds: number): Promise<void> {
    this.#certificate = await sharedCertificate();
    this.#running = true;
    this.#lanes = Array.from({ length: concurrent }, () => this.#lane(holdSeconds));
  }

  /** One-way latency of the packets received since the last call, both directions. */
  takeWindow(): LatencySummary {
    const summary = this.#window.samples.summary();
    this.#window.samples = new LatencySamples(0);
    return summary;
  }

  /** Stops the lanes: each deletes its call at the gateway before resolving. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#lanes);
    for (const control of this.#controls) await control.close();
  }

  totals(): MediaTotals {
    const lossPercent = this.#expected > 0 ? Math.round(((this.#expected - Math.min(this.#received, this.#expected)) / this.#expected) * 10_000) / 100 : 0;
    return { callsCompleted: this.#callsCompleted, packetsExpected: this.#expected, packetsReceived: this.#received, lossPercent };
  }

  async #lane(holdSeconds: number): Promise<void> {
    while (this.#running) {
      const index = this.#index++;
      const gateway = index % this.#controls.length;
      let call: LoadCall | undefined;
      await this.#stats.time(`media call setup (gateway ${gateway + 1})`, async () => {
        call = await LoadCall.setUp({
          index, runId: this.#runId, control: this.#controls[gateway] as NgMediaControl, interfaces: this.#gateways[gateway]?.interfaces,
          certificate: this.#certificate as LocalCertificate, webrtcPorts: this.#webrtcPorts, imsPorts: this.#imsPorts,
          window: this.#window, connectTimeoutMs: 10_000,
        });
      });
      if (call === undefined) { await sleep(1000); continue; }
      const live: LoadCall = call;
      live.uplink.openWindow();
      live.downlink.openWindow();
      const pacer = new MediaPacer([live.webrtc, live.ims]);
      pacer.start();
      for (const until = Date.now() + holdSeconds * 1000; this.#running && Date.now() < until;) await sleep(200);
      live.uplink.closeWindow();
      live.downlink.closeWindow();
      await sleep(300); // packets in flight arrive
      pacer.stop();
      this.#expected += live.uplink.expected + live.downlink.expected;
      this.#received += live.uplink.received + live.downlink.received;
      await this.#stats.time(`media call delete (gateway ${gateway + 1})`, () => live.close());
      this.#callsCompleted++;
    }
  }
}
