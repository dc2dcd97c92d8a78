import type { Socket } from 'node:dgram';

/** Datagrams held while a connect(2) is in flight (it completes within one tick). */
const MAX_HELD = 32;

/**
 * A media UDP socket that is connected (connect(2)) to its one far end once that far end is known
 * for sure (a latched IMS source, an ICE-nominated pair) and unconnected otherwise.
 *
 * Why: an unconnected `send(buf, port, address)` in Node goes through an address lookup that
 * defers the send to the next tick, and the kernel routes every datagram afresh; a connected send
 * is one synchronous sendmsg(2) with the route cached (measured: ~0.8 µs less CPU per send, and
 * no per-send closure or tick). The price is the kernel's filter: a connected socket only hears
 * its far end (RFC 4961 symmetric RTP wants exactly that once latched; the owner unpins when it
 * must hear others again: re-latching, an ICE restart) and it reports ICMP errors, which are
 * counted here instead of crashing the process as unhandled 'error' events.
 *
 * The socket must be bound to an explicit port (the port allocator's are): Linux keeps such a
 * port across a disconnect but unbinds an ephemeral one (udp_disconnect, SOCK_BINDPORT_LOCK).
 *
 * Node's connect() completes in the next tick; sends asked for meanwhile are held (copied) and
 * sent when it settles, because a send with an address on a socket that became connected in
 * between would fail with EISCONN.
 */
export class PeerSocket {
  readonly socket: Socket;
  /** ICMP errors (port unreachable...) and failed connects seen on the socket. */
  errors = 0;
  /** Where the socket is connected (port 0: unconnected). */
  #connectedAddress = '';
  #connectedPort = 0;
  /** Where it should be connected (port 0: nowhere). */
  #wantedAddress = '';
  #wantedPort = 0;
  #connecting = false;
  #held: { readonly data: Buffer; readonly port: number; readonly address: string }[] = [];
  #closed = false;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('error', this.#onError);
  }

  /** True while connected to (or connecting to) a far end. */
  get pinned(): boolean {
    return this.#wantedPort !== 0;
  }

  /** True when `port`/`address` is the far end the socket is connected or connecting to. */
  isPinnedTo(port: number, address: string): boolean {
    return this.#wantedPort === port && this.#wantedAddress === address;
  }

  /**
   * Sends `data` to `port`/`address`: without an address when the socket is connected there.
   * False when it cannot go (connected to another far end: the owner unpins before re-targeting).
   */
  send(data: Buffer, port: number, address: string): boolean {
    if (this.#closed) return false;
    if (this.#connecting) {
      if (this.#held.length >= MAX_HELD) return false;
      this.#held.push({ data: Buffer.from(data), port, address });
      return true;
    }
    if (this.#connectedPort === 0) {
      this.socket.send(data, port, address);
      return true;
    }
    if (this.#connectedPort === port && this.#connectedAddress === address) {
      this.socket.send(data);
      return true;
    }
    return false;
  }

  /** Connects the socket to `port`/`address` (re-connects when it pointed elsewhere). Idempotent. */
  pin(port: number, address: string): void {
    if (this.#closed || this.isPinnedTo(port, address)) return;
    this.#wantedPort = port;
    this.#wantedAddress = address;
    this.#settle();
  }

  /** Back to unconnected: the socket hears every source again. */
  unpin(): void {
    if (this.#wantedPort === 0) return;
    this.#wantedPort = 0;
    this.#wantedAddress = '';
    this.#settle();
  }

  close(): void {
    this.#closed = true;
    this.#held = [];
    // The listener stays: an ICMP error may still surface before the close completes.
  }

  /** Brings the socket to the wanted state; re-entered from the connect callback. */
  #settle(): void {
    if (this.#connecting || this.#closed) return;
    if (this.#connectedPort !== 0 && (this.#connectedPort !== this.#wantedPort || this.#connectedAddress !== this.#wantedAddress)) {
      try {
        this.socket.disconnect();
      } catch {
        this.errors++;
      }
      this.#connectedPort = 0;
      this.#connectedAddress = '';
    }
    if (this.#wantedPort === 0 || this.#connectedPort !== 0) {
      this.#flushHeld();
      return;
    }
    const port = this.#wantedPort;
    const address = this.#wantedAddress;
    this.#connecting = true;
    try {
      this.socket.connect(port, address, (error?: Error) => {
        this.#connecting = false;
        if (error !== undefined && error !== null) {
          this.errors++;
          // Stay unconnected: sends keep their address.
          if (this.#wantedPort === port && this.#wantedAddress === address) {
            this.#wantedPort = 0;
            this.#wantedAddress = '';
          }
        } else {
          this.#connectedPort = port;
          this.#connectedAddress = address;
        }
        this.#settle();
      });
    } catch {
      // ERR_SOCKET_DGRAM_NOT_RUNNING (closed under us) or already connected.
      this.#connecting = false;
      this.errors++;
      this.#wantedPort = 0;
      this.#wantedAddress = '';
      this.#flushHeld();
    }
  }

  #flushHeld(): void {
    if (this.#held.length === 0) return;
    const held = this.#held;
    this.#held = [];
    for (const datagram of held) this.send(datagram.data, datagram.port, datagram.address);
  }

  #onError = (): void => {
    this.errors++;
  };
}
