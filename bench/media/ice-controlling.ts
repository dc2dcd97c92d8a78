/**
 * The browser's half of ICE for one load-client call, reduced to what a single host candidate
 * on loopback needs: it is the controlling agent (it made the offer, RFC 8445 §6.1.1) with
 * aggressive nomination, so every check it sends carries USE-CANDIDATE, and it answers the
 * checks a full-ICE gateway (rtpengine) sends back, which an ICE-lite gateway (ours) never does.
 * The answering side is our media-gw's own IceLiteAgent with the client's credentials: a
 * controlled/lite responder is exactly what a controlling agent needs to answer checks.
 */
import { randomBytes } from 'node:crypto';
import { candidatePriority, classes, Message, methods, parseMessage } from 'werift';
import { generateIceCredentials, IceLiteAgent, type IceCredentials, type StunVerdict, type TransportAddress } from '../../media-gw/webrtc/ice-lite-agent.js';

/** RFC 8445 §7.2.5.2.1: a success response we can match to the check we sent. */
export type CheckOutcome = 'succeeded' | 'unrelated';

export class ControllingIce {
  readonly local: IceCredentials = generateIceCredentials();
  #remote: IceCredentials | undefined;
  #remoteKey: Buffer | undefined;
  #responder: IceLiteAgent | undefined;
  /** RFC 8445 §7.3.1.1: the tie-breaker is a random 64-bit number, fixed for the session. */
  readonly #tieBreaker = randomBytes(8).readBigUInt64BE(0);
  readonly #outstanding = new Set<string>();
  #succeeded = false;
  #answeredChecks = 0;

  /** The gateway's ufrag and pwd, from its SDP answer (our credentials went in the offer first). */
  setRemoteCredentials(remote: IceCredentials): void {
    this.#remote = remote;
    this.#remoteKey = Buffer.from(remote.pwd, 'utf8');
    this.#responder = new IceLiteAgent({ local: this.local, remote });
  }

  /** A check toward the gateway has been answered with an authenticated success. */
  get succeeded(): boolean {
    return this.#succeeded;
  }

  /** How many of the gateway's own checks we answered (a full-ICE gateway sends them). */
  get answeredChecks(): number {
    return this.#answeredChecks;
  }

  /**
   * A Binding request (RFC 8445 §7.2.2): USERNAME `<their ufrag>:<our ufrag>`, PRIORITY,
   * ICE-CONTROLLING, USE-CANDIDATE (aggressive nomination), MESSAGE-INTEGRITY keyed with their
   * pwd, FINGERPRINT. Also used later as the RFC 7675 consent refresh.
   */
  bindingRequest(): Buffer {
    if (this.#remote === undefined || this.#remoteKey === undefined) throw new Error('ICE: no remote credentials yet');
    const request = new Message(methods.BINDING, classes.REQUEST)
      .setAttribute('USERNAME', `${this.#remote.ufrag}:${this.local.ufrag}`)
      .setAttribute('PRIORITY', candidatePriority('host'))
      .setAttribute('ICE-CONTROLLING', this.#tieBreaker)
      .setAttribute('USE-CANDIDATE', null)
      .addMessageIntegrity(this.#remoteKey)
      .addFingerprint();
    this.#outstanding.add(request.transactionIdHex);
    if (this.#outstanding.size > 64) this.#outstanding.delete(this.#outstanding.values().next().value as string);
    return request.bytes;
  }

  /**
   * One STUN datagram from the gateway: a response to one of our checks (verified with their
   * pwd), or a check of theirs (answered by the responder; the bytes to send back are returned).
   */
  handleStun(data: Buffer, from: TransportAddress): Buffer | undefined {
    if (this.#responder === undefined || this.#remoteKey === undefined) return undefined;
    // RFC 5389 §6: the class bits C1 (0x0100) and C0 (0x0010) of the message type; werift's
    // `classes` enum holds them in place.
    if (data.length < 20) return undefined;
    if ((data.readUInt16BE(0) & 0x0110) === classes.REQUEST) {
      const verdict: StunVerdict = this.#responder.handleStun(data, from);
      if (verdict.kind !== 'response') return undefined;
      this.#answeredChecks++;
      return verdict.bytes;
    }
    const response = parseMessage(data, this.#remoteKey);
    if (response === undefined || response.messageClass !== classes.RESPONSE) return undefined;
    if (!this.#outstanding.delete(response.transactionIdHex)) return undefined;
    this.#succeeded = true;
    return undefined;
  }
}
