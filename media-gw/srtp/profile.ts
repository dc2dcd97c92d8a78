/**
 * The SRTP protection profile the gateway supports: SRTP_AES128_CM_HMAC_SHA1_80 (RFC 5764 §4.1.2,
 * profile id 0x0001), which R-ALG-7 makes mandatory and every browser offers.
 */
export const SRTP_AES128_CM_HMAC_SHA1_80 = 0x0001;

/** RFC 3711 §8.2 / RFC 5764 §4.1.2: 128-bit master key, 112-bit master salt, 80-bit tags. */
export const MASTER_KEY_LENGTH = 16;
export const MASTER_SALT_LENGTH = 14;
export const AUTH_KEY_LENGTH = 20;
export const AUTH_TAG_LENGTH = 10;
/** RFC 3711 §3.4: the E flag and 31-bit SRTCP index trail every SRTCP packet. */
export const SRTCP_INDEX_LENGTH = 4;

/** The largest packet the relay handles; larger datagrams are dropped (path MTU is far below). */
export const MAX_PACKET_LENGTH = 2048;

export interface SrtpMasterKeys {
  readonly masterKey: Uint8Array;
  readonly masterSalt: Uint8Array;
}
