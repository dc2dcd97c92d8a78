/**
 * An in-memory stand-in for the IMS side in P-CSCF unit/integration tests (the real proof uses
 * Kamailio): a UDP socket that records every SIP message it receives and lets the test answer
 * or send requests. It speaks real SIP on the wire, through our parser and serializer.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createResponse, parseMessage, serializeMessage, type SipMessage, type SipRequest, type SipResponse, type ResponseInit } from '../../core/sip/index.js';

export class FakeImsCore {
  readonly received: SipMessage[] = [];
  /** Datagrams our parser refused (a header injection upstream shows up here), as text. */
  readonly unparsable: string[] = [];
  readonly #socket: Socket;
  readonly #waiters: { match: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }[] = [];
  #peer: { host: string; port: number } | undefined;
  #answeringByes = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('message', (data, rinfo) => {
      let msg: SipMessage;
      try {
        msg = parseMessage(data, { datagram: true });
      } catch {
        this.unparsable.push(data.toString('utf8'));
        return;
      }
      this.#peer = { host: rinfo.address, port: rinfo.port };
      if (this.#answeringByes && msg.kind === 'request' && msg.method === 'BYE') {
        this.answer(msg, 200);
        return;
      }
      this.received.push(msg);
      const i = this.#waiters.findIndex((w) => w.match(msg));
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(msg);
    });
  }

  static async start(): Promise<FakeImsCore> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new FakeImsCore(socket);
  }

  get port(): number {
    return this.#socket.address().port;
  }

  /** The next message (already received or future) that matches. */
  next<M extends SipMessage = SipMessage>(match: (m: SipMessage) => boolean, timeoutMs = 3000): Promise<M> {
    const seen = this.received.find(match);
    if (seen) {
      this.received.splice(this.received.indexOf(seen), 1);
      return Promise.resolve(seen as M);
    }
    return new Promise<M>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('fake IMS core: timed out waiting for a message')), timeoutMs);
      this.#waiters.push({ match, resolve: (m) => { clearTimeout(timer); this.received.splice(this.received.indexOf(m), 1); resolve(m as M); } });
    });
  }

  request(method: string): Promise<SipRequest> {
    return this.next<SipRequest>((m) => m.kind === 'request' && m.method === method);
  }

  response(status: number, method?: string): Promise<SipResponse> {
    return this.next<SipResponse>((m) => m.kind === 'response' && m.status === status && (method === undefined || m.headers.some((h) => h.name === 'CSeq' && h.value.endsWith(method))));
  }

  answer(request: SipRequest, status: number, init: ResponseInit & { reason?: string } = {}): void {
    this.send(createResponse(request, status, init.reason, init));
  }

  send(message: SipMessage, to?: { host: string; port: number }): void {
    const target = to ?? this.#peer;
    if (!target) throw new Error('fake IMS core: no peer yet');
    this.#socket.send(serializeMessage(message), target.port, target.host);
  }

  /**
   * From now on every BYE is answered 200 at once (and not recorded): for teardown, where the
   * P-CSCF ends the calls still up and would otherwise wait for the answers (RFC 3261 §15.1.1).
   */
  answerByes(): void {
    this.#answeringByes = true;
  }

  close(): void {
    this.#socket.close();
  }
}
