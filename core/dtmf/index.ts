/**
 * DTMF in signalling: the SIP INFO application/dtmf-relay body. The RTP form (RFC 4733
 * telephone-events) is the media gateway's: media-gw/dtmf.
 */
export * from './dtmf-relay.js';
