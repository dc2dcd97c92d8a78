/**
 * A relay worker thread: owns the sockets, ICE-lite, DTLS and SRTP of the calls the gateway
 * thread assigns to it (relay-worker-pool.ts), on its own event loop and core. It runs a
 * RelayFactory over its share of the port ranges and applies the gateway's commands in order;
 * leg events (connected, idle, consent expired, DTLS failed) go back as reports.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EpcError } from '../../core/errors.js';
import type { CallRelay } from './call-relay.js';
import { RelayFactory } from './relay-factory.js';
import type { RelayCommand, RelayReport, RelayWorkerData } from './worker-protocol.js';

const port = parentPort;
if (port === null) throw new EpcError('EPC_ERR_MEDIA', 'relay-worker.ts runs only as a worker thread');
const data = workerData as RelayWorkerData;
const factory = new RelayFactory(data.factory);
const relays = new Map<number, CallRelay>();

function report(message: RelayReport): void {
  port?.postMessage(message);
}

async function allocate(id: number, command: Extract<RelayCommand, { kind: 'allocate' }>): Promise<void> {
  try {
    const relay = await factory.allocate(command.spec);
    relays.set(id, relay);
    relay.delegate = {
      onConnected: () => report({ kind: 'event', id, event: 'connected' }),
      onIdle: () => report({ kind: 'event', id, event: 'idle' }),
      onConsentExpired: () => report({ kind: 'event', id, event: 'consent-expired' }),
      onFailed: (error) => report({ kind: 'event', id, event: 'failed', code: error.code, message: error.message }),
      onDtmf: (index, digit) => report({ kind: 'dtmf', id, index, digit: digit.digit, durationMs: digit.durationMs }),
    };
    report({
      kind: 'allocated', id,
      relay: {
        createdAt: relay.createdAt,
        webrtcAddress: relay.webrtc.localAddress,
        localIce: relay.webrtc.ice.localCredentials,
        ims: relay.imsLegs.map((leg) => ({ localRtp: leg.localRtp, localRtcp: leg.localRtcp, rtcpMuxed: leg.rtcpMuxed })),
        ssrcTowardWebRtc: relay.imsLegs.map((_, index) => relay.ssrcTowardWebRtc(index) ?? 0),
      },
    });
  } catch (error) {
    const code = error instanceof EpcError ? error.code : 'EPC_ERR_MEDIA';
    report({ kind: 'allocate-failed', id, code, message: error instanceof Error ? error.message : String(error) });
  }
}

/**
 * The gateway thread sends a relay's commands only after its `allocated` report, and each applies
 * synchronously, so arrival order is application order and `sync` can answer at once.
 */
function apply(command: RelayCommand): void {
  if (command.kind === 'allocate') {
    void allocate(command.id, command);
    return;
  }
  const relay = relays.get(command.id);
  switch (command.kind) {
    case 'webrtc-remote': {
      if (relay === undefined) return;
      const before = relay.webrtc.ice.localCredentials;
      relay.webrtc.setRemote(command.remote);
      const after = relay.webrtc.ice.localCredentials;
      // R-ICE-4: an ICE restart took new local credentials; the gateway writes them in the next SDP.
      if (after !== before) report({ kind: 'local-ice', id: command.id, localIce: after });
      return;
    }
    case 'arm-consent':
      relay?.webrtc.armConsent();
      return;
    case 'arm-idle':
      relay?.armIdleTimer(command.idleTimeoutMs);
      return;
    case 'ims-remote':
      relay?.imsLegs[command.index]?.setRemote(command.rtp, command.rtcp);
      return;
    case 'configure-stream':
      relay?.configureStream(command.index, command.config);
      return;
    case 'stream-mode':
      relay?.setStreamMode(command.index, command.mode);
      return;
    case 'counters':
      report({ kind: 'counters', request: command.request, counters: relay?.counters() ?? [] });
      return;
    case 'send-dtmf':
      void (relay?.sendDtmf(command.index, command.digit, command.durationMs) ?? Promise.resolve(false)).then(
        (ok) => report({ kind: 'done', request: command.request, ok }),
        () => report({ kind: 'done', request: command.request, ok: false }),
      );
      return;
    case 'sync':
      report({ kind: 'done', request: command.request });
      return;
    case 'close':
      relays.delete(command.id);
      void (relay?.close() ?? Promise.resolve()).then(() => report({ kind: 'done', request: command.request }));
      return;
  }
}

port.on('message', apply);
