/**
 * The kernel's UDP counters (Linux /proc/net/snmp, whole machine): where datagrams were dropped
 * on receive. RcvbufErrors counts datagrams dropped because a socket's receive buffer was full
 * (the reader fell behind); NoPorts those sent to a port nobody listens on. Machine-wide, so
 * other work on the machine shows up too: read them as a hint of where a bench loses packets.
 */
import { readFileSync } from 'node:fs';

export interface UdpCounters {
  readonly inDatagrams: number;
  readonly noPorts: number;
  readonly inErrors: number;
  readonly rcvbufErrors: number;
  readonly sndbufErrors: number;
}

export function readUdpCounters(): UdpCounters {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((line) => line.startsWith('Udp:'));
  const names = (lines[0] ?? '').split(/\s+/).slice(1);
  const values = (lines[1] ?? '').split(/\s+/).slice(1).map(Number);
  const field = (name: string): number => values[names.indexOf(name)] ?? 0;
  return {
    inDatagrams: field('InDatagrams'), noPorts: field('NoPorts'), inErrors: field('InErrors'),
    rcvbufErrors: field('RcvbufErrors'), sndbufErrors: field('SndbufErrors'),
  };
}

/** `after - before`, field by field. */
export function udpCountersDelta(before: UdpCounters, after: UdpCounters): UdpCounters {
  return {
    inDatagrams: after.inDatagrams - before.inDatagrams, noPorts: after.noPorts - before.noPorts,
    inErrors: after.inErrors - before.inErrors, rcvbufErrors: after.rcvbufErrors - before.rcvbufErrors,
    sndbufErrors: after.sndbufErrors - before.sndbufErrors,
  };
}
