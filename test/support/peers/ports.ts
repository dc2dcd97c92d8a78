/**
 * Free loopback ports for real peers. tap runs test files in parallel processes, and a peer
 * (kamailio, sipp) binds its port itself some time after we pick it, so "bind 0 and
 * release" alone can hand the same port to two processes. Instead each port is claimed with
 * an exclusive lock file shared by all test processes on the machine, in a range below the
 * Linux ephemeral range (32768+) so outgoing sockets do not take it either; a lock whose
 * owner process is gone is reclaimed. Every candidate is also checked bindable on UDP and
 * TCP (SIP peers listen on both).
 */
import { createSocket } from 'node:dgram';
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RANGE_START = 20000;
const RANGE_END = 32000;
const LOCK_DIR = join(tmpdir(), 'epcscf-test-ports');
const held = new Set<number>();

process.once('exit', () => {
  for (const port of held) tryUnlink(lockPath(port));
});

function lockPath(port: number): string {
  return join(LOCK_DIR, String(port));
}

function tryUnlink(path: string): void {
  try { unlinkSync(path); } catch { /* already gone */ }
}

function ownerAlive(path: string): boolean {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but is not ours; anything else (ESRCH, unreadable): stale.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates the lock file for `port`; false when another live process holds it. */
function claim(port: number): boolean {
  const path = lockPath(port);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (ownerAlive(path)) return false;
      tryUnlink(path); // stale lock from a crashed run: take it over
    }
  }
  return false;
}

function canBindTcp(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function canBindUdp(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => { socket.close(); resolve(false); });
    socket.bind({ port, address: host, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

/**
 * Claims one port free on 127.0.0.1 for both UDP and TCP. It stays reserved for this
 * process until `releasePort` or process exit.
 */
export async function allocatePort(host = '127.0.0.1'): Promise<number> {
  mkdirSync(LOCK_DIR, { recursive: true });
  const span = RANGE_END - RANGE_START;
  const start = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = RANGE_START + ((start + i) % span);
    if (held.has(port) || !claim(port)) continue;
    if (await canBindTcp(port, host) && await canBindUdp(port, host)) {
      held.add(port);
      return port;
    }
    tryUnlink(lockPath(port));
  }
  throw new Error(`no free port in ${RANGE_START}-${RANGE_END}`);
}

/** Claims `count` distinct ports. */
export async function allocatePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await allocatePort(host));
  return ports;
}

/** Gives a port back (call after the peer using it is stopped). */
export function releasePort(port: number): void {
  if (!held.delete(port)) return;
  tryUnlink(lockPath(port));
}
