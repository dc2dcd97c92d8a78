// Diagnosis of the memory per idle registered WebSocket (not part of the bench run): starts the
// epcscf target, registers --connections N users, idles, then prints process.memoryUsage(), V8
// heap spaces and where VmRSS lies by mapping kind (/proc/PID/smaps). Optional heap snapshots.
// Usage: node --import tsx bench/sip-ws/memory-probe.ts [--connections 10000] [--idle 15] [--snapshots DIR]
import { readFileSync } from 'node:fs';
import { allocatePorts } from '../../test/support/peers/ports.js';
import { option, sleep } from '../lib/bench-runner.js';
import { registerUsers } from '../lib/load-point.js';
import { vmRssKb } from '../lib/proc-stats.js';
import { startEpcscfTarget } from './targets.js';

const COUNT = Number(option('connections') ?? 10_000);
const IDLE = Number(option('idle') ?? 15);
const SNAPSHOTS = option('snapshots');
if (SNAPSHOTS !== undefined) process.env['BENCH_HEAP_SNAPSHOT_DIR'] = SNAPSHOTS;

/** RSS by mapping kind: V8 heap pages are anonymous 256 KiB-aligned mmaps; [heap] is glibc's brk heap. */
function smapsSummary(pid: number): Record<string, number> {
  const lines = readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n');
  const out: Record<string, number> = {};
  let name = '';
  let size = 0;
  for (const line of lines) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) { name = header[1] ?? ''; continue; }
    const s = /^Size:\s+(\d+) kB/.exec(line);
    if (s) { size = Number(s[1]); continue; }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) {
      const kind = name === '' ? (size >= 60_000 && size <= 65_536 ? 'anon 64MB (malloc arena?)' : `anon ${size <= 256 ? '<=256K' : size <= 1024 ? '<=1M' : size <= 32768 ? '<=32M' : '>32M'}`) : name.startsWith('/') ? 'files' : name;
      out[kind] = (out[kind] ?? 0) + Number(rss[1]);
    }
  }
  return out;
}

const [w2Port, mwPort, corePort] = await allocatePorts(3);
const target = await startEpcscfTarget({ w2Port: w2Port!, mwPort: mwPort!, corePort: corePort!, floodRatePerSecond: 1e6, floodBurst: 1e6 });
try {
  const base = { url: target.url, domain: 'ims.test', password: 'secret', timeoutMs: 30_000 };
  for (const u of await registerUsers({ ...base, userPrefix: 'warm' }, 200, 200)) u.close();
  await sleep(2000);
  const before = await target.gcAndMemory?.();
  const rssBefore = vmRssKb(target.measuredPid);
  const smapsBefore = smapsSummary(target.measuredPid);
  const started = Date.now();
  const users = await registerUsers({ ...base, userPrefix: 'idle' }, COUNT, 200);
  const registerSeconds = (Date.now() - started) / 1000;
  await sleep(IDLE * 1000);
  const first = await target.gcAndMemory?.();
  console.log(`first gc: VmRSS ${vmRssKb(target.measuredPid)} heapTotal ${Math.round((first?.heapTotal ?? 0) / 1024)} arrayBuffers ${Math.round((first?.arrayBuffers ?? 0) / 1024)}`);
  await sleep(3000);
  const after = await target.gcAndMemory?.();
  const rssAfter = vmRssKb(target.measuredPid);
  const smapsAfter = smapsSummary(target.measuredPid);
  const perConn = (a: number, b: number): string => `${(((a - b) * 1024) / COUNT / 1024).toFixed(2)} KiB/conn`;
  console.log(`registered ${COUNT} in ${registerSeconds}s; VmRSS ${rssBefore} → ${rssAfter} KiB: ${perConn(rssAfter, rssBefore)}`);
  for (const key of ['heapTotal', 'heapUsed', 'external', 'arrayBuffers'] as const) {
    console.log(`${key}: ${Math.round((before?.[key] ?? 0) / 1024)} → ${Math.round((after?.[key] ?? 0) / 1024)} KiB: ${perConn((after?.[key] ?? 0) / 1024, (before?.[key] ?? 0) / 1024)}`);
  }
  console.log('heap spaces before', JSON.stringify((before as unknown as { heapSpaces: unknown })?.heapSpaces));
  console.log('heap spaces after ', JSON.stringify((after as unknown as { heapSpaces: unknown })?.heapSpaces));
  for (const kind of new Set([...Object.keys(smapsBefore), ...Object.keys(smapsAfter)])) {
    const b = smapsBefore[kind] ?? 0;
    const a = smapsAfter[kind] ?? 0;
    if (Math.abs(a - b) > 1024) console.log(`smaps ${kind}: ${b} → ${a} KiB: ${perConn(a, b)}`);
  }
  for (const u of users) u.close();
} finally {
  await target.stop();
}
