/**
 * Live call quality from RTCPeerConnection.getStats() (W3C webrtc-stats): inbound audio
 * packets, loss, jitter, and the round-trip time of the selected ICE candidate pair (or
 * RTCP's, when the gateway reports it).
 */
export interface CallQuality {
  readonly packetsReceived: number;
  readonly packetsLost: number;
  /** 0..100 */
  readonly lossPercent: number;
  readonly jitterMs: number | undefined;
  readonly rttMs: number | undefined;
}

export async function readCallQuality(pc: RTCPeerConnection): Promise<CallQuality> {
  let packetsReceived = 0;
  let packetsLost = 0;
  let jitter: number | undefined;
  let pairRtt: number | undefined;
  let rtcpRtt: number | undefined;
  const report = await pc.getStats();
  report.forEach((stat: Record<string, unknown>) => {
    if (stat['type'] === 'inbound-rtp' && stat['kind'] === 'audio') {
      packetsReceived += numberOr(stat['packetsReceived'], 0);
      packetsLost += Math.max(0, numberOr(stat['packetsLost'], 0));
      if (typeof stat['jitter'] === 'number') jitter = stat['jitter'];
    } else if (stat['type'] === 'candidate-pair' && stat['nominated'] === true && stat['state'] === 'succeeded' && typeof stat['currentRoundTripTime'] === 'number') {
      pairRtt = stat['currentRoundTripTime'];
    } else if (stat['type'] === 'remote-inbound-rtp' && typeof stat['roundTripTime'] === 'number') {
      rtcpRtt = stat['roundTripTime'];
    }
  });
  const rtt = rtcpRtt ?? pairRtt;
  const expected = packetsReceived + packetsLost;
  return {
    packetsReceived, packetsLost,
    lossPercent: expected === 0 ? 0 : (100 * packetsLost) / expected,
    jitterMs: jitter === undefined ? undefined : jitter * 1000,
    rttMs: rtt === undefined ? undefined : rtt * 1000,
  };
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}
