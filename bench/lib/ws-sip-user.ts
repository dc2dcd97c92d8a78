/**
 * A minimal WIC for load generation, speaking SIP over WebSocket itself (RFC 7118) the way a
 * browser client does: REGISTER answered with digest (RFC 3261 §22.2 via answerChallenge),
 * outbound Contact (RFC 5626 reg-id + +sip.instance, `.invalid` host as RFC 7118 §5.2 allows),
 * basic calls as caller (INVITE/ACK/BYE with the route set from Record-Route, RFC 3261 §12.1.2)
 * and as callee (auto-answer 200 with a static SDP, answer BYE), pager-mode MESSAGE (RFC 3428) both ways.
 * Not a UA: no re-INVITE, no forking, no 2xx retransmission (reliable loopback transport).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { answerChallenge, formatAuth, parseAuthValue } from '../../core/sip/index.js';
import {
  allHeaders, composeMessage, firstHeader, splitNameAddrs, tagParam, uriOf, type WireMessage,
} from './sip-wire.js';
import { WsSipConnection } from './ws-sip-connection.js';

export interface BenchUserOptions {
  readonly url: string;
  readonly user: string;
  readonly password: string;
  readonly domain: string;
  /** Seconds asked for in REGISTER (default 3600: idle connections must stay registered). */
  readonly expires?: number;
  readonly timeoutMs?: number;
  /** The client's source IP (another loopback address stands for another host). */
  readonly localAddress?: string;
}

export class SipOutcomeError extends Error {
  constructor(readonly status: number, what: string, reason = '') {
    super(`${what}: unexpected ${status}${reason ? ` ${reason}` : ''}`);
    this.name = 'SipOutcomeError';
  }
}

/** RFC 3261 §17.1.1.1 default timer values. */
const T1_MS = 500;
const T2_MS = 4000;

const token = (bytes = 6): string => randomBytes(bytes).toString('hex');
const branch = (): string => `z9hG4bK${token(8)}`;

/** A tiny audio offer/answer (RFC 4566); no media is ever sent. */
const STATIC_SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
  'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');

export class BenchUser {
  readonly aor: string;
  readonly #options: BenchUserOptions;
  readonly #conn: WsSipConnection;
  readonly #host = `${token()}.invalid`;
  readonly #instance = `<urn:uuid:${randomUUID()}>`;
  readonly #registerCallId = `${token(10)}@${this.#host}`;
  readonly #registerTag = token();
  #registerCseq = 0;
  /** Calls answered as callee (for sanity checks). */
  answered = 0;
  /** Callee: 2xx to INVITE being retransmitted until the ACK comes, by Call-ID. */
  readonly #unacked = new Map<string, ReturnType<typeof setTimeout>>();
  /** Caller: the ACK of each call in progress, by Call-ID, sent again on a retransmitted 2xx. */
  readonly #acks = new Map<string, string>();

  private constructor(conn: WsSipConnection, options: BenchUserOptions) {
    this.#conn = conn;
    this.#options = options;
    this.aor = `sip:${options.user}@${options.domain}`;
    conn.onRequest = (request) => this.#answer(request);
    conn.onStrayResponse = (response) => {
      // RFC 3261 §13.2.2.4: every retransmission of the 2xx is answered with the same ACK.
      const ack = this.#acks.get(firstHeader(response, 'call-id') ?? '');
      if (ack !== undefined && response.method === 'INVITE' && response.status < 300 && this.#conn.open) this.#conn.send(ack);
    };
  }

  static async connect(options: BenchUserOptions): Promise<BenchUser> {
    return new BenchUser(await WsSipConnection.open(options.url, options.timeoutMs, options.localAddress), options);
  }

  get connected(): boolean {
    return this.#conn.open;
  }

  /**
   * One REGISTER-with-digest round trip: REGISTER → 401 → REGISTER with Authorization → 200.
   * Each call is challenged afresh (no nonce reuse), which is what the benchmark measures.
   */
  async register(): Promise<void> {
    const first = await this.#sendRegister(undefined);
    if (first.status === 200) return;
    const challengeText = firstHeader(first, 'www-authenticate');
    if (first.status !== 401 || challengeText === undefined) throw new SipOutcomeError(first.status, 'REGISTER', first.reason);
    const uri = `sip:${this.#options.domain}`;
    const credentials = answerChallenge(parseAuthValue(challengeText), {
      method: 'REGISTER', uri, username: this.#options.user, password: this.#options.password,
    });
    const second = await this.#sendRegister(`Authorization: ${formatAuth(credentials)}`);
    if (second.status !== 200) throw new SipOutcomeError(second.status, 'REGISTER with credentials', second.reason);
  }

  /** One basic call to `calleeAor`: INVITE → 200, ACK, BYE → 200. */
  async call(calleeAor: string): Promise<void> {
    const callId = `${token(10)}@${this.#host}`;
    const fromTag = token();
    const from = `<${this.aor}>;tag=${fromTag}`;
    const inviteBranch = branch();
    const invite = composeMessage(`INVITE ${calleeAor} SIP/2.0`, [
      `Via: SIP/2.0/WS ${this.#host};branch=${inviteBranch}`,
      'Max-Forwards: 70',
      `From: ${from}`,
      `To: <${calleeAor}>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:${this.#options.user}@${this.#host};transport=ws;ob>`,
      'Supported: outbound',
      'Content-Type: application/sdp',
    ], STATIC_SDP);
    const ok = await this.#conn.request(invite, inviteBranch, this.#options.timeoutMs);
    if (ok.status !== 200) throw new SipOutcomeError(ok.status, 'INVITE', ok.reason);
    // RFC 3261 §12.1.2: remote target from Contact, route set = Record-Route in reverse order.
    const remoteTarget = uriOf(firstHeader(ok, 'contact') ?? `<${calleeAor}>`);
    const routes = splitNameAddrs(allHeaders(ok, 'record-route')).reverse();
    const toWithTag = firstHeader(ok, 'to') ?? `<${calleeAor}>`;
    const inDialog = (method: string, seq: number, viaBranch: string): string => composeMessage(`${method} ${remoteTarget} SIP/2.0`, [
      `Via: SIP/2.0/WS ${this.#host};branch=${viaBranch}`,
      'Max-Forwards: 70',
      ...routes.map((r) => `Route: ${r}`),
      `From: ${from}`,
      `To: ${toWithTag}`,
      `Call-ID: ${callId}`,
      `CSeq: ${seq} ${method}`,
    ]);
    // RFC 3261 §13.2.2.4: the ACK for a 2xx is its own transaction with a new branch, same CSeq number.
    const ack = inDialog('ACK', 1, branch());
    this.#acks.set(callId, ack);
    this.#conn.send(ack);
    const byeBranch = branch();
    try {
      const byeOk = await this.#conn.request(inDialog('BYE', 2, byeBranch), byeBranch, this.#options.timeoutMs);
      if (byeOk.status !== 200) throw new SipOutcomeError(byeOk.status, 'BYE', byeOk.reason);
    } finally {
      this.#acks.delete(callId);
    }
  }

  /** One MESSAGE (RFC 3428) to `toAor` and its final response; resolves with the status. */
  async message(toAor: string, body: string): Promise<number> {
    const viaBranch = branch();
    const response = await this.#conn.request(this.messageText(toAor, body, viaBranch), viaBranch, this.#options.timeoutMs);
    return response.status;
  }

  /** The text of a MESSAGE with top Via branch `viaBranch` (a flooder sends them without waiting). */
  messageText(toAor: string, body: string, viaBranch = branch()): string {
    return composeMessage(`MESSAGE ${toAor} SIP/2.0`, [
      `Via: SIP/2.0/WS ${this.#host};branch=${viaBranch}`,
      'Max-Forwards: 70',
      `From: <${this.aor}>;tag=${token()}`,
      `To: <${toAor}>`,
      `Call-ID: ${token(10)}@${this.#host}`,
      'CSeq: 1 MESSAGE',
      'Content-Type: text/plain',
    ], body);
  }

  /** The underlying connection (a flooder writes to it directly). */
  get connection(): WsSipConnection {
    return this.#conn;
  }

  close(): void {
    for (const timer of this.#unacked.values()) clearTimeout(timer);
    this.#unacked.clear();
    this.#conn.close();
  }

  #sendRegister(authorization: string | undefined): Promise<WireMessage> {
    const viaBranch = branch();
    const text = composeMessage(`REGISTER sip:${this.#options.domain} SIP/2.0`, [
      `Via: SIP/2.0/WS ${this.#host};branch=${viaBranch}`,
      'Max-Forwards: 70',
      `From: <${this.aor}>;tag=${this.#registerTag}`,
      `To: <${this.aor}>`,
      `Call-ID: ${this.#registerCallId}`,
      `CSeq: ${++this.#registerCseq} REGISTER`,
      `Contact: <sip:${this.#options.user}@${this.#host};transport=ws>;+sip.instance="${this.#instance}";reg-id=1;expires=${this.#options.expires ?? 3600}`,
      'Supported: path, outbound',
      ...(authorization !== undefined ? [authorization] : []),
    ]);
    return this.#conn.request(text, viaBranch, this.#options.timeoutMs);
  }

  /** Callee side: answer INVITE 200 (static SDP), BYE 200; an ACK stops the 2xx retransmissions. */
  #answer(request: WireMessage): void {
    const callId = firstHeader(request, 'call-id') ?? '';
    if (request.method === 'ACK' || request.method === 'BYE') {
      clearTimeout(this.#unacked.get(callId));
      this.#unacked.delete(callId);
      if (request.method === 'ACK') return;
    }
    const isInvite = request.method === 'INVITE';
    const to = firstHeader(request, 'to') ?? '';
    // RFC 3261 §8.2.6.2: copy Via, From, Call-ID, CSeq; add a To tag; §12.1.1: copy Record-Route.
    const headers = [
      ...allHeaders(request, 'via').map((v) => `Via: ${v}`),
      ...(isInvite ? allHeaders(request, 'record-route').map((r) => `Record-Route: ${r}`) : []),
      `From: ${firstHeader(request, 'from') ?? ''}`,
      `To: ${tagParam(to) === undefined ? `${to};tag=${token()}` : to}`,
      `Call-ID: ${firstHeader(request, 'call-id') ?? ''}`,
      `CSeq: ${firstHeader(request, 'cseq') ?? ''}`,
    ];
    if (isInvite) {
      headers.push(`Contact: <sip:${this.#options.user}@${this.#host};transport=ws;ob>`, 'Content-Type: application/sdp');
      this.answered++;
    }
    if (!this.#conn.open) return;
    const response = composeMessage('SIP/2.0 200 OK', headers, isInvite ? STATIC_SDP : '');
    this.#conn.send(response);
    if (isInvite && !this.#unacked.has(callId)) this.#retransmitUntilAcked(callId, response, T1_MS);
  }

  /**
   * RFC 3261 §13.3.1.4: the UAS core retransmits a 2xx to INVITE, T1 doubling up to T2, until
   * the ACK arrives (the path through epcscf has UDP hops where the 2xx or the ACK can drop);
   * it gives up after 64*T1.
   */
  #retransmitUntilAcked(callId: string, response: string, interval: number, elapsed = 0): void {
    if (elapsed >= 64 * T1_MS) { this.#unacked.delete(callId); return; }
    this.#unacked.set(callId, setTimeout(() => {
      if (!this.#conn.open) return;
      this.#conn.send(response);
      this.#retransmitUntilAcked(callId, response, Math.min(interval * 2, T2_MS), elapsed + interval);
    }, interval));
  }
}
