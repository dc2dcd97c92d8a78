// Diagnosis of the memory per idle logged-in XMPP session (not part of the bench run): starts the
// three-plugin epcscf, logs in 200 sessions and closes them (warm-up), takes a heap snapshot,
// logs in --sessions N and idles, takes another, and prints which objects the N sessions added
// (V8 heap snapshot nodes by constructor / type: count and self size per session).
// Usage: node --import tsx bench/xmpp/memory-probe.ts [--sessions 1000] [--idle 5] [--top 30]
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocatePorts } from '../../test/support/peers/ports.js';
import { option, sleep } from '../lib/bench-runner.js';
import { startThreePluginTarget } from './epcscf-target.js';
import { loginUsers } from './load-point.js';

const COUNT = Number(option('sessions') ?? 1000);
const IDLE = Number(option('idle') ?? 5);
const TOP = Number(option('top') ?? 30);
const dir = mkdtempSync(join(tmpdir(), 'epcscf-xmpp-heap-'));
process.env['BENCH_HEAP_SNAPSHOT_DIR'] = dir; // read by bench/sip-ws/epcscf-process.mjs

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Count and self size by "<type> <name>" over every node of a .heapsnapshot file. */
function census(file: string): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + typeAt] as number] ?? '?';
    const name = type === 'object' || type === 'closure' || type === 'native' ? (snap.strings[snap.nodes[i + nameAt] as number] ?? '?') : '';
    const key = `${type} ${name.slice(0, 60)}`;
    const entry = out.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snap.nodes[i + sizeAt] as number;
    out.set(key, entry);
  }
  return out;
}

/** Waits for snapshot number `n` to be written completely. */
async function snapshotFile(n: number): Promise<string> {
  for (;;) {
    const files = readdirSync(dir).filter((f) => f.endsWith(`-${n}.heapsnapshot`));
    const file = files[0] === undefined ? undefined : join(dir, files[0]);
    if (file !== undefined && existsSync(file)) {
      const size = statSync(file).size;
      await sleep(1000);
      if (size > 0 && statSync(file).size === size) return file;
    } else {
      await sleep(500);
    }
  }
}

const [w2Port, mwPort, corePort] = await allocatePorts(3) as [number, number, number];
const target = await startThreePluginTarget({ w2Port, mwPort, corePort });
try {
  const base = { url: target.urls.xmpp, domain: 'ims.test', password: 'secret', timeoutMs: 30_000 };
  for (const u of await loginUsers({ ...base, userPrefix: 'warm' }, 200, 100)) u.close();
  await sleep(2000);
  void target.gcAndMemory();
  const before = census(await snapshotFile(1));
  const users = await loginUsers({ ...base, userPrefix: 'idle' }, COUNT, 100);
  await sleep(IDLE * 1000);
  void target.gcAndMemory();
  const after = census(await snapshotFile(2));
  const rows = [...after].map(([key, a]) => {
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    return { key, count: (a.count - b.count) / COUNT, bytes: (a.bytes - b.bytes) / COUNT };
  }).sort((x, y) => y.bytes - x.bytes);
  const total = rows.reduce((sum, r) => sum + r.bytes, 0);
  console.log(`${COUNT} idle sessions: ${(total / 1024).toFixed(2)} KiB of V8 heap (self sizes) per session; top ${TOP}:`);
  for (const r of rows.slice(0, TOP)) console.log(`${r.bytes.toFixed(0).padStart(7)} B  ${r.count.toFixed(2).padStart(7)} ×  ${r.key}`);
  for (const u of users) u.close();
} finally {
  await target.stop();
  rmSync(dir, { recursive: true, force: true });
}
