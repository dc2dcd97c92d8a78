/**
 * The page Chromium loads for media-gw interop: plain browser JavaScript (no DOM types in our
 * tsconfig), exposing two functions the test calls through page.evaluate.
 */
export interface GatewayPageStats {
  readonly packetsReceived: number;
  readonly packetsSent: number;
  readonly dtlsState: string;
  readonly srtpCipher: string;
}

export interface GatewayPageWindow {
  /** getUserMedia (fake device) + one audio m-line offer with rtcp-mux required. */
  gwOffer(): Promise<string>;
  /** Applies our answer and polls getStats until more than `minPackets` arrive or the time is up. */
  gwAnswer(sdp: string, minPackets: number, timeoutMs: number): Promise<GatewayPageStats>;
}

export const GATEWAY_PAGE = `<!doctype html><html><head><title>media-gw</title></head><body><script>
let pc;
window.gwOffer = async () => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  pc = new RTCPeerConnection({ bundlePolicy: 'balanced', rtcpMuxPolicy: 'require' });
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  await pc.setLocalDescription(await pc.createOffer());
  return pc.localDescription.sdp;
};
window.gwAnswer = async (sdp, minPackets, timeoutMs) => {
  await pc.setRemoteDescription({ type: 'answer', sdp });
  const read = async () => {
    const out = { packetsReceived: 0, packetsSent: 0, dtlsState: '', srtpCipher: '' };
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') out.packetsReceived = s.packetsReceived || 0;
      if (s.type === 'outbound-rtp' && s.kind === 'audio') out.packetsSent = s.packetsSent || 0;
      if (s.type === 'transport') { out.dtlsState = s.dtlsState || ''; out.srtpCipher = s.srtpCipher || ''; }
    });
    return out;
  };
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (last.packetsReceived <= minPackets && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    last = await read();
  }
  pc.close();
  return last;
};
</script></body></html>`;
