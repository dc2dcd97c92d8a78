import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * RFC 5626 §5.2 flow tokens: the user part of our Path and Record-Route URIs names the W2
 * connection (the flow) a request must go back on. The token is integrity-protected (HMAC) so
 * a forged one in a Route header is detected (R-OB-3; RFC 5626 §5.3: a tampered token gets 403).
 *
 * Layout (base64url): nodeId (1 byte length + bytes) | flow number (6 bytes) | HMAC-SHA-256 (10 bytes).
 * The node id lets a cluster route a terminating request to the node that holds the WebSocket.
 */
export interface FlowRef {
  /** The epcscf node that holds the connection. */
  readonly nodeId: string;
  /** The flow's number on that node (monotonic, never reused while the node runs). */
  readonly flow: number;
}

const MAC_BYTES = 10;

export class FlowTokenCodec {
  readonly #key: Buffer;
  /** Verified tokens (every in-dialog request from Mw carries one): saves an HMAC per message. */
  readonly #verified = new Map<string, FlowRef>();

  /** All nodes of a cluster share `secret` so any node can verify any token. */
  constructor(secret?: string | Buffer) {
    this.#key = secret === undefined ? randomBytes(32) : Buffer.from(secret);
  }

  encode(ref: FlowRef): string {
    const node = Buffer.from(ref.nodeId, 'utf8');
    if (node.length > 255) throw new RangeError('node id longer than 255 bytes');
    const body = Buffer.alloc(1 + node.length + 6);
    body[0] = node.length;
    node.copy(body, 1);
    body.writeUIntBE(ref.flow, 1 + node.length, 6);
    return Buffer.concat([body, this.#mac(body)]).toString('base64url');
  }

  /** The flow a token names, or `undefined` when it is malformed or its MAC does not verify. */
  decode(token: string): FlowRef | undefined {
    const known = this.#verified.get(token);
    if (known !== undefined) return known;
    const ref = this.#verify(token);
    if (ref !== undefined) {
      if (this.#verified.size >= 10_000) this.#verified.clear();
      this.#verified.set(token, ref);
    }
    return ref;
  }

  #verify(token: string): FlowRef | undefined {
    let raw: Buffer;
    try {
      raw = Buffer.from(token, 'base64url');
    } catch {
      return undefined;
    }
    if (raw.length < 1 + 6 + MAC_BYTES) return undefined;
    const nodeLength = raw[0] as number;
    if (raw.length !== 1 + nodeLength + 6 + MAC_BYTES) return undefined;
    const body = raw.subarray(0, 1 + nodeLength + 6);
    const mac = raw.subarray(body.length);
    if (!timingSafeEqual(mac, this.#mac(body))) return undefined;
    return { nodeId: body.toString('utf8', 1, 1 + nodeLength), flow: body.readUIntBE(1 + nodeLength, 6) };
  }

  #mac(body: Buffer): Buffer {
    return createHmac('sha256', this.#key).update(body).digest().subarray(0, MAC_BYTES);
  }
}
