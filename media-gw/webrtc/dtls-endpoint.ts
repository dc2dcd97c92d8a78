import type { AddressInfo } from 'node:net';
import { DtlsClient, DtlsServer, type Address, type DtlsSocket, type Transport } from 'werift';
import { EpcError } from '../../core/errors.js';
import { MASTER_KEY_LENGTH, MASTER_SALT_LENGTH, SRTP_AES128_CM_HMAC_SHA1_80 } from '../srtp/profile.js';
import type { SrtpSessionKeys } from '../srtp/srtp-session.js';
import { certificateMatches, type DtlsFingerprint, type LocalCertificate } from './certificate.js';

/** RFC 5763 §5: `a=setup:active` makes us the DTLS server, `passive` the client (R-ALG-1). */
export type DtlsRole = 'client' | 'server';

export interface DtlsEndpointOptions {
  readonly role: DtlsRole;
  readonly certificate: LocalCertificate;
  readonly remoteFingerprints: readonly DtlsFingerprint[];
  /** Sends one DTLS record datagram to the peer (the leg picks the ICE-selected address). */
  readonly send: (datagram: Buffer) => void;
  readonly handshakeTimeoutMs?: number;
}

/**
 * werift's DTLS transport speaks through this adapter instead of owning a socket: the leg
 * demultiplexes DTLS records (RFC 7983) from its one UDP socket and feeds them in.
 */
class DemuxedTransport implements Transport {
  readonly type = 'udp';
  closed = false;
  onData: (data: Buffer, addr: Address) => void = () => {};

  constructor(readonly sendDatagram: (datagram: Buffer) => void) {}

  get address(): AddressInfo {
    return { address: '0.0.0.0', family: 'IPv4', port: 0 };
  }

  send = async (data: Buffer): Promise<void> => {
    // werift keeps retransmitting a flight for a while after close; those sends go nowhere.
    if (!this.closed) this.sendDatagram(data);
  };

  close = async (): Promise<void> => {
    this.closed = true;
  };
}

/**
 * One DTLS association with use_srtp (RFC 5764) on werift's DTLS client/server. start() resolves
 * with the SRTP master keys once the handshake completes and the peer's certificate matches its
 * SDP fingerprint; a mismatch rejects and closes the association (R-SDP-3).
 */
export class DtlsEndpoint {
  readonly #transport: DemuxedTransport;
  readonly #socket: DtlsSocket;
  readonly #options: DtlsEndpointOptions;
  #started: Promise<SrtpSessionKeys> | undefined;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #abortHandshake: ((error: EpcError) => void) | undefined;
  #closed = false;

  constructor(options: DtlsEndpointOptions) {
    this.#options = options;
    this.#transport = new DemuxedTransport(options.send);
    const socketOptions = {
      transport: this.#transport,
      cert: options.certificate.certPem,
      key: options.certificate.keyPem,
      signatureHash: options.certificate.signatureHash,
      srtpProfiles: [SRTP_AES128_CM_HMAC_SHA1_80 as 1],
      extendedMasterSecret: true,
    };
    // RFC 5763 §5: the DTLS server asks for the client certificate (certificate_request), since
    // both sides authenticate by fingerprint.
    this.#socket = options.role === 'server'
      ? new DtlsServer({ ...socketOptions, certificateRequest: true })
      : new DtlsClient(socketOptions);
  }

  get role(): DtlsRole {
    return this.#options.role;
  }

  /** Feeds one DTLS datagram (first byte 20–63, RFC 7983) from the selected peer. */
  handleDatagram(datagram: Buffer): void {
    if (!this.#closed) this.#transport.onData(datagram, ['', 0]);
  }

  start(): Promise<SrtpSessionKeys> {
    this.#started ??= this.#handshake();
    return this.#started;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#handshakeTimer);
    this.#abortHandshake?.(new EpcError('EPC_ERR_MEDIA', 'DTLS association closed'));
    this.#abortHandshake = undefined;
    this.#socket.onConnect.allUnsubscribe();
    this.#socket.onError.allUnsubscribe();
    this.#socket.onData.allUnsubscribe();
    this.#socket.onClose.allUnsubscribe();
    this.#socket.close();
  }

  #handshake(): Promise<SrtpSessionKeys> {
    return new Promise<void>((resolve, reject) => {
      const fail = (error: EpcError): void => {
        clearTimeout(this.#handshakeTimer);
        this.#abortHandshake = undefined;
        reject(error);
      };
      this.#abortHandshake = fail;
      this.#handshakeTimer = setTimeout(
        () => fail(new EpcError('EPC_ERR_MEDIA', 'DTLS handshake timed out')),
        this.#options.handshakeTimeoutMs ?? 10_000,
      );
      this.#handshakeTimer.unref();
      this.#socket.onConnect.once(() => {
        clearTimeout(this.#handshakeTimer);
        this.#abortHandshake = undefined;
        resolve();
      });
      const onError = (error: unknown): void =>
        fail(new EpcError('EPC_ERR_MEDIA', `DTLS handshake failed: ${String(error)}`, { cause: error }));
      this.#socket.onError.once(onError);
      if (this.#socket instanceof DtlsClient) this.#socket.connect().catch(onError);
    }).then(() => this.#keys());
  }

  #keys(): SrtpSessionKeys {
    if (this.#closed) throw new EpcError('EPC_ERR_MEDIA', 'DTLS association closed during the handshake');
    const remoteCertificate = this.#socket.remoteCertificate;
    if (!remoteCertificate || !certificateMatches(remoteCertificate, this.#options.remoteFingerprints)) {
      this.close();
      throw new EpcError('EPC_ERR_MEDIA', 'DTLS peer certificate does not match the SDP fingerprint');
    }
    if (this.#socket.srtp.srtpProfile !== SRTP_AES128_CM_HMAC_SHA1_80) {
      this.close();
      throw new EpcError('EPC_ERR_MEDIA', 'DTLS peer did not negotiate SRTP_AES128_CM_HMAC_SHA1_80');
    }
    // RFC 5764 §4.2: the exporter yields client key, server key, client salt, server salt.
    const keys = this.#socket.extractSessionKeys(MASTER_KEY_LENGTH, MASTER_SALT_LENGTH);
    return {
      local: { masterKey: keys.localKey as Buffer, masterSalt: keys.localSalt as Buffer },
      remote: { masterKey: keys.remoteKey as Buffer, masterSalt: keys.remoteSalt as Buffer },
    };
  }
}
