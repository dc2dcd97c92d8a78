export * from './profile.js';
export { AesCmKeystream } from './aes-cm-keystream.js';
export { deriveKeys, deriveSessionKey, KeyLabel, type DerivedKeys, type SessionKeys } from './key-derivation.js';
export { ReplayWindow } from './replay-window.js';
export { OutputRing, sharedOutputRing } from './output-ring.js';
export { SrtpRtpProtector, SrtpRtpUnprotector, type SrtpDropCounters, type SrtpStreamOptions } from './srtp-rtp.js';
export { SrtcpProtector, SrtcpUnprotector } from './srtcp.js';
export { SrtpSession, type SrtpSessionKeys } from './srtp-session.js';
