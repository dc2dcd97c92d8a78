import { AesCmKeystream } from './aes-cm-keystream.js';
import { AUTH_KEY_LENGTH, MASTER_KEY_LENGTH, MASTER_SALT_LENGTH, type SrtpMasterKeys } from './profile.js';
import { EpcError } from '../../core/errors.js';

/** RFC 3711 §4.3.2: the labels that select which session key the PRF derives. */
export const KeyLabel = {
  rtpEncryption: 0x00,
  rtpAuthentication: 0x01,
  rtpSalt: 0x02,
  rtcpEncryption: 0x03,
  rtcpAuthentication: 0x04,
  rtcpSalt: 0x05,
} as const;

export interface SessionKeys {
  readonly cipherKey: Buffer;
  readonly cipherSalt: Buffer;
  readonly authKey: Buffer;
}

export interface DerivedKeys {
  readonly rtp: SessionKeys;
  readonly rtcp: SessionKeys;
}

/**
 * RFC 3711 §4.3.1 with key_derivation_rate 0 (the DTLS-SRTP default, RFC 5764 §4.1.2): r = 0, so
 * key_id = label || 0^48; x = key_id XOR master_salt; the session key is the AES-CM keystream of
 * the master key under IV = x * 2^16 (§4.3.3).
 */
export function deriveSessionKey(master: SrtpMasterKeys, label: number, length: number): Buffer {
  if (master.masterKey.length !== MASTER_KEY_LENGTH || master.masterSalt.length !== MASTER_SALT_LENGTH) {
    throw new EpcError('EPC_ERR_MEDIA', `SRTP master key/salt must be ${MASTER_KEY_LENGTH}/${MASTER_SALT_LENGTH} bytes`);
  }
  const iv = Buffer.alloc(16);
  iv.set(master.masterSalt, 0);
  // key_id is 56 bits (label byte + 48-bit r) aligned right in the 112-bit salt: label at byte 7.
  iv[7] = (iv[7] as number) ^ label;
  return new AesCmKeystream(master.masterKey).keystream(iv, length);
}

export function deriveKeys(master: SrtpMasterKeys): DerivedKeys {
  return {
    rtp: {
      cipherKey: deriveSessionKey(master, KeyLabel.rtpEncryption, MASTER_KEY_LENGTH),
      authKey: deriveSessionKey(master, KeyLabel.rtpAuthentication, AUTH_KEY_LENGTH),
      cipherSalt: deriveSessionKey(master, KeyLabel.rtpSalt, MASTER_SALT_LENGTH),
    },
    rtcp: {
      cipherKey: deriveSessionKey(master, KeyLabel.rtcpEncryption, MASTER_KEY_LENGTH),
      authKey: deriveSessionKey(master, KeyLabel.rtcpAuthentication, AUTH_KEY_LENGTH),
      cipherSalt: deriveSessionKey(master, KeyLabel.rtcpSalt, MASTER_SALT_LENGTH),
    },
  };
}
