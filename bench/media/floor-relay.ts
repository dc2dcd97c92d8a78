// The Node.js UDP floor for bench/media/floor.ts: a relay that does what any media relay on Node's
// dgram must do and nothing more. Per call two sockets, as the gateway has (one per side); each
// latches the first source it hears (RFC 4961 symmetric RTP), connects to it (the cheapest send
// Node has, as media-gw/rtp/peer-socket.ts does) and forwards every datagram unchanged out of the
// other side's socket. No SRTP, no header rewrite, no counters, no ICE or DTLS: whatever CPU this
// costs per packet, no relay written on Node's dgram can cost less on the same machine.
//
// Usage (the runner starts it): node --import tsx bench/media/floor-relay.ts FIRST_PORT CALLS
// Ports FIRST_PORT + 2i (side A) and FIRST_PORT + 2i + 1 (side B) for call i, on 127.0.0.1.
import { createSocket, type Socket } from 'node:dgram';

const [firstPort, calls] = process.argv.slice(2).map(Number) as [number, number];
if (!Number.isInteger(firstPort) || !Number.isInteger(calls) || calls < 1) {
  process.stderr.write('usage: floor-relay.ts FIRST_PORT CALLS\n');
  process.exit(2);
}

class RelaySide {
  readonly socket: Socket = createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
  other: RelaySide | undefined;
  #latching = false;
  #connected = false;

  bind(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind({ port, address: '127.0.0.1', exclusive: true }, () => {
        this.socket.off('error', reject);
        this.socket.on('error', () => undefined); // ICMP unreachable after the far end closed
        this.socket.on('message', this.#onMessage);
        resolve();
      });
    });
  }

  #onMessage = (data: Buffer, from: { readonly address: string; readonly port: number }): void => {
    if (!this.#latching) {
      this.#latching = true;
      this.socket.connect(from.port, from.address, () => { this.#connected = true; });
    }
    const other = this.other;
    if (other !== undefined && other.#connected) other.socket.send(data);
  };
}

const sides: RelaySide[] = [];
for (let call = 0; call < calls; call++) {
  const a = new RelaySide();
  const b = new RelaySide();
  a.other = b;
  b.other = a;
  await a.bind(firstPort + 2 * call);
  await b.bind(firstPort + 2 * call + 1);
  sides.push(a, b);
}
process.stdout.write(`floor-relay ready: ${calls} calls on 127.0.0.1:${firstPort}-${firstPort + 2 * calls - 1}\n`);
process.on('SIGTERM', () => {
  for (const side of sides) side.socket.close();
  process.exit(0);
});
