import type { RtpStreamRewriter } from './stream-rewriter.js';

/** RFC 3550 §12.1 / RFC 4585 §6.1 / RFC 3611 packet types. */
export const RtcpType = { sr: 200, rr: 201, sdes: 202, bye: 203, app: 204, rtpfb: 205, psfb: 206, xr: 207 } as const;

const REPORT_BLOCK_LENGTH = 24;

export interface RtcpTranslation {
  /** The reporter's own media toward the far side (its SSRC becomes our output SSRC there). */
  readonly sent: RtpStreamRewriter;
  /** The media the reporter receives from us (report blocks name our output SSRC toward it). */
  readonly received: RtpStreamRewriter;
  /**
   * R-SDP-7: feedback (NACK/PLI/FIR/REMB/transport-cc), XR and APP are terminated here when the
   * far side is RTP/AVP; only SR, RR and SDES cross.
   */
  readonly dropFeedback: boolean;
}

/**
 * Translates a compound RTCP packet in place for the other leg (RFC 3550 §7.2, a translator that
 * changes SSRCs): the sender SSRC of SR/RR/SDES becomes the SSRC we use toward the far side; a
 * report block about our stream toward the reporter is turned back into one about the far side's
 * original SSRC with its sequence numbering; the SR's RTP timestamp and counts follow what we
 * actually forwarded. Returns the new length (packets may be removed), 0 when nothing is left.
 */
export function translateRtcp(packet: Buffer, length: number, translation: RtcpTranslation): number {
  let read = 0;
  let write = 0;
  while (read + 4 <= length) {
    const first = packet[read] as number;
    if (first >> 6 !== 2) return 0;
    const packetLength = (packet.readUInt16BE(read + 2) + 1) * 4;
    if (read + packetLength > length) return 0;
    const type = packet[read + 1] as number;
    const count = first & 0x1f;
    let keep = true;
    switch (type) {
      case RtcpType.sr:
        if (packetLength < 28) return 0;
        rewriteSender(packet, read, translation.sent);
        packet.writeUInt32BE((packet.readUInt32BE(read + 16) + translation.sent.timestampOffset) >>> 0, read + 16);
        packet.writeUInt32BE(translation.sent.packets >>> 0, read + 20);
        packet.writeUInt32BE(translation.sent.octets >>> 0, read + 24);
        rewriteReportBlocks(packet, read + 28, count, read + packetLength, translation.received);
        break;
      case RtcpType.rr:
        if (packetLength < 8) return 0;
        rewriteSender(packet, read, translation.sent);
        rewriteReportBlocks(packet, read + 8, count, read + packetLength, translation.received);
        break;
      case RtcpType.sdes:
        rewriteSdesChunks(packet, read + 4, count, read + packetLength, translation.sent.outputSsrc);
        break;
      case RtcpType.bye:
        // Our output stream toward the far side outlives any one source SSRC (the rewriter keeps
        // it continuous), so a source's BYE is not forwarded; the call's end is signalled in SIP.
        keep = false;
        break;
      default:
        keep = !translation.dropFeedback;
    }
    if (keep) {
      if (write !== read) packet.copyWithin(write, read, read + packetLength);
      write += packetLength;
    }
    read += packetLength;
  }
  return write;
}

function rewriteSender(packet: Buffer, at: number, sent: RtpStreamRewriter): void {
  packet.writeUInt32BE(sent.outputSsrc, at + 4);
}

function rewriteReportBlocks(packet: Buffer, at: number, count: number, end: number, received: RtpStreamRewriter): void {
  for (let block = 0; block < count && at + REPORT_BLOCK_LENGTH <= end; block++, at += REPORT_BLOCK_LENGTH) {
    if (packet.readUInt32BE(at) !== received.outputSsrc || received.inputSsrc < 0) continue;
    packet.writeUInt32BE(received.inputSsrc >>> 0, at);
    // Extended highest sequence number (RFC 3550 §6.4.1): undo our sequence offset.
    const extended = packet.readUInt32BE(at + 8);
    const seq = ((extended & 0xffff) - received.seqOffset) & 0xffff;
    packet.writeUInt32BE(((extended & 0xffff0000) | seq) >>> 0, at + 8);
  }
}

function rewriteSdesChunks(packet: Buffer, at: number, count: number, end: number, ssrc: number): void {
  for (let chunk = 0; chunk < count && at + 4 <= end; chunk++) {
    packet.writeUInt32BE(ssrc, at);
    let item = at + 4;
    // RFC 3550 §6.5: items until a zero type octet, then padding to the next 32-bit boundary.
    while (item < end && packet[item] !== 0) item += 2 + (packet[item + 1] ?? 0);
    at = (item + 4) & ~3;
  }
}
