import { deriveKeys } from './key-derivation.js';
import type { SrtpMasterKeys } from './profile.js';
import { SrtcpProtector, SrtcpUnprotector } from './srtcp.js';
import { SrtpRtpProtector, SrtpRtpUnprotector, type SrtpStreamOptions } from './srtp-rtp.js';

/** Master keys for both directions, as RFC 5764 §4.2 exports them from the DTLS handshake. */
export interface SrtpSessionKeys {
  readonly local: SrtpMasterKeys;
  readonly remote: SrtpMasterKeys;
}

/**
 * Both directions of one SRTP session: protect what we send with the local keys, unprotect what
 * arrives with the remote ones. All contexts (AES, HMAC keys, IV scratch) are built once here.
 */
export class SrtpSession {
  readonly rtpOut: SrtpRtpProtector;
  readonly rtpIn: SrtpRtpUnprotector;
  readonly rtcpOut: SrtcpProtector;
  readonly rtcpIn: SrtcpUnprotector;

  constructor(keys: SrtpSessionKeys, options: SrtpStreamOptions = {}) {
    const local = deriveKeys(keys.local);
    const remote = deriveKeys(keys.remote);
    this.rtpOut = new SrtpRtpProtector(local.rtp, options);
    this.rtcpOut = new SrtcpProtector(local.rtcp, options);
    this.rtpIn = new SrtpRtpUnprotector(remote.rtp, options);
    this.rtcpIn = new SrtcpUnprotector(remote.rtcp, options);
  }
}
