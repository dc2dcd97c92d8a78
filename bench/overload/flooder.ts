/**
 * The flooding client of bench/overload, in a process of its own (so its busy loop does not slow
 * the measuring clients' event loop): `lanes` connections from another source IP (a loopback
 * address such as 127.0.0.2: another host), each registers (REGISTER + digest, like a real
 * client) and then writes MESSAGEs toward an unregistered AOR as fast as its socket drains. A
 * connection the server cuts off (sip-ws flood guard: 1008) is replaced at once, so the attack
 * goes on for the whole run: new connections, new REGISTERs, more frames. Once every lane's
 * socket has been full (its queue and the kernel's buffers behind it) it prints `flooder
 * saturated`: the flood's steady state, the bench measures from there. On SIGTERM it prints
 * one `flooder {...}` JSON line with what it did and exits.
 *
 *   node --import tsx bench/overload/flooder.ts <ws url> <source ip> <lanes>
 */
import { BenchUser } from '../lib/ws-sip-user.js';

const [url = '', localAddress = '127.0.0.2', lanesText = '4'] = process.argv.slice(2);
const lanes = Number(lanesText);
const stats = {
  framesSent: 0, bytesSent: 0, connections: 0, connectFailures: 0, registered: 0, registerFailures: 0,
  closesByCode: {} as Record<string, number>, responsesByStatus: {} as Record<string, number>,
};
let stopping = false;
const PAD = 'x'.repeat(200);
/** Bytes a lane keeps queued in its socket: it writes whenever the server reads. */
const QUEUE_BYTES = 256 * 1024;
/** Frames written per turn of the event loop. */
const BATCH = 64;
const SINK = 'sip:sink@ims.test';
const MARK = '\u0000';

/**
 * MESSAGEs toward the sink, each with a branch, From tag and Call-ID of its own (the P-CSCF
 * must treat each as a new request, not a retransmission), made from one composed text and a
 * counter: three randomBytes per frame made the flooder spend more CPU building frames than
 * the server spends refusing them, on the one machine the bench shares with epcscf and the
 * measured clients (a real flooder sits on another host).
 */
let framesMade = 0;
function frameMaker(user: BenchUser): () => string {
  const text = user.messageText(SINK, PAD, `z9hG4bK${MARK}`);
  const tag = /;tag=([0-9a-f]+)/.exec(text)?.[1] ?? '';
  const callId = /Call-ID: ([0-9a-f]+)/.exec(text)?.[1] ?? '';
  const [a = '', b = '', c = '', d = ''] = text.replace(`;tag=${tag}`, `;tag=${MARK}`).replace(`Call-ID: ${callId}`, `Call-ID: ${MARK}`).split(MARK);
  return () => {
    const id = `f${process.pid}x${(++framesMade).toString(36)}`;
    return a + id + b + id + c + id + d;
  };
}

/** Lanes whose socket has been full once (its kernel buffers too): the flood is in its steady state. */
const saturated = new Set<number>();

async function lane(index: number): Promise<void> {
  while (!stopping) {
    let user: BenchUser;
    try {
      user = await BenchUser.connect({ url, user: `flood${index}`, password: 'secret', domain: 'ims.test', localAddress, timeoutMs: 5_000 });
    } catch {
      stats.connectFailures++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }
    stats.connections++;
    const conn = user.connection;
    const closed = conn.closed().then((code) => { stats.closesByCode[code] = (stats.closesByCode[code] ?? 0) + 1; });
    try {
      await user.register();
      stats.registered++;
    } catch {
      stats.registerFailures++;
    }
    conn.onStrayResponse = (response) => { stats.responsesByStatus[response.status] = (stats.responsesByStatus[response.status] ?? 0) + 1; };
    const nextFrame = frameMaker(user);
    while (conn.open && !stopping) {
      // At most a batch per turn of the event loop: the answers must be read and SIGTERM heard
      // (a socket the server drains fast would otherwise keep this loop synchronous for ever).
      for (let batch = 0; batch < BATCH && conn.open && conn.bufferedAmount < QUEUE_BYTES; batch++) {
        const text = nextFrame();
        conn.send(text);
        stats.framesSent++;
        stats.bytesSent += text.length;
      }
      // A full socket (the server stopped reading): wait a little rather than spin on a core
      // the measured clients need (a real flooder sits on another machine). 20 ms: the queue
      // (QUEUE_BYTES here and the kernel's buffers behind it) outlasts that at any rate the
      // server reads.
      if (conn.bufferedAmount >= QUEUE_BYTES) {
        if (!saturated.has(index) && saturated.add(index).size === lanes) process.stdout.write('flooder saturated\n');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      else await new Promise((resolve) => setImmediate(resolve));
    }
    user.close();
    await closed;
  }
}

process.on('SIGTERM', () => {
  stopping = true;
  process.stdout.write(`flooder ${JSON.stringify(stats)}\n`, () => process.exit(0));
});
// The bench that started us is gone (killed): stop too rather than flood an orphan port.
process.on('disconnect', () => process.exit(0));
setInterval(() => { if (process.ppid === 1) process.exit(0); }, 1_000).unref();
for (let i = 0; i < lanes; i++) void lane(i);
