/**
 * The two media gateways the IMS-ALG is proven with (issue #4: "the same IMS-ALG code drives
 * either our media-gw ... or a real rtpengine"): ours in this process (the default deployment)
 * and Debian's rtpengine in userspace mode over the ng protocol. Each exposes the MediaControl
 * to hand to the P-CSCF and an ng `query` to read its per-party packet counters.
 */
import { InProcessMediaControl, NgMediaControl, type MediaControl } from '../../core/pcscf/alg/media-control.js';
import { createMediaGateway } from '../../media-gw/gateway/index.js';
import type { NgQueryResult } from '../../media-gw/ng/control.js';
import { allocatePort, releasePort } from './peers/ports.js';
import { startRtpengine } from './peers/rtpengine.js';

export type GatewayKind = 'media-gw' | 'rtpengine';

export interface GatewayUnderTest {
  readonly kind: GatewayKind;
  /** Give to the P-CSCF; it closes it on shutdown. */
  readonly control: MediaControl;
  query(ngCallId: string): Promise<NgQueryResult>;
  /** Log tail (rtpengine) for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Media port block of the in-process gateway in these tests (39000-39999 belongs to them). */
let nextBlock = 39000;

export async function startGateway(kind: GatewayKind): Promise<GatewayUnderTest> {
  if (kind === 'media-gw') {
    const base = nextBlock;
    nextBlock = nextBlock + 200 >= 40000 ? 39000 : nextBlock + 200;
    const gateway = createMediaGateway({
      webrtc: { host: '127.0.0.1', ports: { min: base, max: base + 99 } },
      ims: { host: '127.0.0.1', ports: { min: base + 100, max: base + 199 } },
    });
    const control = new InProcessMediaControl(gateway, { owned: true });
    return { kind, control, query: (callId) => gateway.query({ callId }), output: () => '', stop: () => control.close() };
  }
  const ngPort = await allocatePort();
  const rtpengine = await startRtpengine({ ngPort, mediaPorts: 60 }).catch((error: unknown) => { releasePort(ngPort); throw error; });
  const control = new NgMediaControl({ address: '127.0.0.1', port: ngPort });
  const queries = new NgMediaControl({ address: '127.0.0.1', port: ngPort });
  return {
    kind, control,
    query: (callId) => queries.query({ callId }),
    output: () => rtpengine.output(),
    async stop() {
      await queries.close();
      await control.close();
      await rtpengine.stop();
      releasePort(ngPort);
    },
  };
}
