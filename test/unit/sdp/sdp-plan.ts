/** Shared plan and fixture helpers for the IMS-ALG SDP rule tests (not a test file itself). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MediaLinePlan, MediaPlan } from '../../../media-gw/sdp/index.js';

const fixtureDir = fileURLToPath(new URL('../../fixtures/sdp/', import.meta.url));

export function fixture(name: string): string {
  return readFileSync(fixtureDir + name, 'utf8');
}

/** SDP text -> its lines (CRLF separated, the trailing empty line dropped). */
export function sdpLines(sdp: string): string[] {
  return sdp.split('\r\n').filter((line) => line !== '');
}

/** Lines of one m-section (0-based), from its m= line up to the next one. */
export function sectionLines(sdp: string, index: number): string[] {
  const lines = sdpLines(sdp);
  const starts = lines.flatMap((line, at) => (line.startsWith('m=') ? [at] : []));
  const start = starts[index];
  if (start === undefined) return [];
  return lines.slice(start, starts[index + 1] ?? lines.length);
}

export const GW_FINGERPRINT = 'D1:2C:3B:4A:59:68:77:86:95:A4:B3:C2:D1:E0:FF:0E:1D:2C:3B:4A:59:68:77:86:95:A4:B3:C2:D1:E0:FF:0E';

export function linePlan(index: number, overrides: Partial<MediaLinePlan> = {}): MediaLinePlan {
  return {
    imsPort: 30000 + index * 2,
    wicPort: 40000 + index * 2,
    wicIceUfrag: `gw${index}Uf`,
    wicIcePwd: `gwIcePassword${index}abcdefghij`,
    wicFingerprint: { algorithm: 'sha-256', value: GW_FINGERPRINT },
    wicCandidates: [
      { foundation: `gw${index}`, component: 1, transport: 'udp', priority: 2130706431, address: '198.51.100.1', port: 40000 + index * 2, type: 'host' },
    ],
    ...overrides,
  };
}

export function plan(lineCount: number, overrides: Partial<MediaPlan> = {}): MediaPlan {
  return {
    imsAddress: '192.0.2.1',
    wicAddress: '198.51.100.1',
    sessionId: '4242',
    sessionVersion: 1,
    lines: Array.from({ length: lineCount }, (_, index) => linePlan(index)),
    ...overrides,
  };
}

/** Builds an SDP from lines (CRLF line ends, as on the wire). */
export function sdp(...lines: string[]): string {
  return lines.join('\r\n') + '\r\n';
}

/** Attribute names WebRTC uses that must never reach IMS (R-ALG-9). */
export const WEBRTC_ONLY_ATTRIBUTES = [
  'a=ice-ufrag', 'a=ice-pwd', 'a=ice-options', 'a=ice-lite', 'a=candidate', 'a=end-of-candidates', 'a=fingerprint',
  'a=setup', 'a=tls-id', 'a=group', 'a=msid', 'a=ssrc', 'a=extmap', 'a=rtcp-fb', 'a=rtcp-rsize', 'a=mid', 'a=crypto',
  'a=rtcp-mux', 'a=sctp', 'a=max-message-size',
];

/** What a call throws (undefined when it returns), for t.match on coded errors. */
export function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
}
