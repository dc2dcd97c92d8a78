/**
 * The little SDP work the UE itself does (the IMS-ALG does the rest): read and set the media
 * direction (RFC 3264 §5.1, §8.4 hold), bump the o= version when the description changes
 * (RFC 3264 §8), and answer a remote re-offer from the last local description (§6).
 */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const DIRECTIONS: readonly Direction[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

function lines(sdp: string): string[] {
  return sdp.split(/\r?\n/).filter((l, i, all) => l.length > 0 || i < all.length - 1);
}

function join(out: string[]): string {
  return out.filter((l) => l.length > 0).join('\r\n') + '\r\n';
}

function isDirection(line: string): Direction | undefined {
  const value = line.startsWith('a=') ? line.slice(2).trim() : '';
  return (DIRECTIONS as readonly string[]).includes(value) ? (value as Direction) : undefined;
}

/**
 * The direction of the first audio/video stream: its own attribute, else the session-level one,
 * else sendrecv (RFC 3264 §5.1 default).
 */
export function directionOf(sdp: string): Direction {
  let session: Direction | undefined;
  let inMedia = false;
  let mediaIsAv = false;
  for (const line of lines(sdp)) {
    if (line.startsWith('m=')) {
      if (inMedia && mediaIsAv) break;
      inMedia = true;
      mediaIsAv = line.startsWith('m=audio') || line.startsWith('m=video');
      continue;
    }
    const d = isDirection(line);
    if (d === undefined) continue;
    if (!inMedia) session = d;
    else if (mediaIsAv) return d;
  }
  return session ?? 'sendrecv';
}

/**
 * Sets `direction` on every audio/video stream (data channels have none, RFC 8841) and drops
 * the session-level attribute so it cannot contradict the media ones; bumps the version.
 */
export function withDirection(sdp: string, direction: Direction): string {
  const out: string[] = [];
  let mediaIsAv = false;
  let placed = true;
  for (const line of lines(sdp)) {
    if (line.startsWith('m=')) {
      if (!placed) out.push(`a=${direction}`);
      mediaIsAv = line.startsWith('m=audio') || line.startsWith('m=video');
      placed = !mediaIsAv;
      out.push(line);
      continue;
    }
    if (isDirection(line) !== undefined) {
      if (mediaIsAv && !placed) { out.push(`a=${direction}`); placed = true; }
      continue;
    }
    out.push(line);
  }
  if (!placed) out.push(`a=${direction}`);
  return bumpVersion(join(out));
}

/** RFC 3264 §8: a changed description increments the o= sess-version. */
export function bumpVersion(sdp: string): string {
  return join(lines(sdp).map((line) => {
    if (!line.startsWith('o=')) return line;
    const parts = line.split(' ');
    const version = parts[2];
    if (version === undefined || !/^\d+$/.test(version)) return line;
    parts[2] = (BigInt(version) + 1n).toString();
    return parts.join(' ');
  }));
}

/** What we may do given what the other side offers (RFC 3264 §6.1 direction table). */
export function answerDirection(offered: Direction, ours: Direction): Direction {
  const theySend = offered === 'sendrecv' || offered === 'sendonly';
  const theyReceive = offered === 'sendrecv' || offered === 'recvonly';
  const weSend = (ours === 'sendrecv' || ours === 'sendonly') && theyReceive;
  const weReceive = (ours === 'sendrecv' || ours === 'recvonly') && theySend;
  if (weSend && weReceive) return 'sendrecv';
  if (weSend) return 'sendonly';
  if (weReceive) return 'recvonly';
  return 'inactive';
}

/** Number of m= lines (an answer has exactly as many as the offer, RFC 3264 §6). */
export function mediaCount(sdp: string): number {
  return lines(sdp).filter((l) => l.startsWith('m=')).length;
}

/**
 * Our last description made fit to be an answer (RFC 5763 §5, RFC 4145 §4.1): a=setup:actpass
 * is an offer's word. When the UE offered first, its description still says actpass; answering
 * a re-offer with it leaves the DTLS role open, which an IMS-ALG refuses. The role the first
 * exchange gave us is kept (the remote answered active → we are passive, else active, the
 * answerer's default). Unchanged (same string) when nothing says actpass.
 */
export function withAnswerSetup(local: string, remote: string | undefined): string {
  if (!/^a=setup:actpass\s*$/m.test(local)) return local;
  const theirs = remote === undefined ? undefined : /^a=setup:(\S+)/m.exec(remote)?.[1];
  const ours = theirs === 'active' ? 'passive' : 'active';
  return local.replace(/^a=setup:actpass(?=\s*$)/gm, `a=setup:${ours}`);
}
