/**
 * What one process holds, read from Linux /proc: resident memory, open file descriptors, and its
 * sockets split by kind. A socket fd links to `socket:[INODE]`; the inode is matched against
 * /proc/net/{tcp,tcp6,udp,udp6} (the kernel's socket tables) to tell TCP from UDP and to read the
 * local port of each bound UDP socket. A socket that is neither (a Unix socket, netlink) counts as
 * `otherSockets`.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { vmRssKb } from '../lib/proc-stats.js';

export interface ProcessHoldings {
  readonly rssKb: number;
  readonly fds: number;
  readonly tcpSockets: number;
  readonly udpSockets: number;
  readonly otherSockets: number;
  /** Local ports of the process's UDP sockets, sorted (the media-gw's relay ports show here). */
  readonly udpPorts: readonly number[];
}

interface SocketEntry {
  readonly protocol: 'tcp' | 'udp';
  readonly localPort: number;
}

/** inode → protocol and local port, for every TCP and UDP socket of the machine (v4 and v6). */
export function socketTable(): Map<string, SocketEntry> {
  const table = new Map<string, SocketEntry>();
  for (const [file, protocol] of [['tcp', 'tcp'], ['tcp6', 'tcp'], ['udp', 'udp'], ['udp6', 'udp']] as const) {
    let text: string;
    try {
      text = readFileSync(`/proc/net/${file}`, 'utf8');
    } catch {
      continue; // no IPv6 on this kernel
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      const inode = fields[9];
      if (local === undefined || inode === undefined || inode === '0') continue;
      table.set(inode, { protocol, localPort: parseInt(local.slice(local.lastIndexOf(':') + 1), 16) });
    }
  }
  return table;
}

/** undefined when the process is gone. */
export function processHoldings(pid: number, table: Map<string, SocketEntry> = socketTable()): ProcessHoldings | undefined {
  let entries: string[];
  let rssKb: number;
  try {
    entries = readdirSync(`/proc/${pid}/fd`);
    rssKb = vmRssKb(pid);
  } catch {
    return undefined;
  }
  let tcpSockets = 0;
  let udpSockets = 0;
  let otherSockets = 0;
  const udpPorts: number[] = [];
  for (const fd of entries) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed between the listing and the read
    }
    if (!target.startsWith('socket:[')) continue;
    const socket = table.get(target.slice(8, -1));
    if (socket === undefined) otherSockets++;
    else if (socket.protocol === 'tcp') tcpSockets++;
    else {
      udpSockets++;
      udpPorts.push(socket.localPort);
    }
  }
  return { rssKb, fds: entries.length, tcpSockets, udpSockets, otherSockets, udpPorts: udpPorts.sort((a, b) => a - b) };
}
