// Prints the top functions of a V8 CPU profile (node --cpu-prof) by self time, and by total time
// (self + callees). Usage: node --import tsx bench/lib/cpu-profile-top.ts FILE.cpuprofile [N]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface HotSpot {
  readonly name: string;
  readonly selfMs: number;
  readonly selfPercent: number;
  readonly totalMs: number;
  readonly totalPercent: number;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
  return `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
}

export function hotSpots(profile: CpuProfile): HotSpot[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    totalUs += dt;
  });
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    self.set(label(node), (self.get(label(node)) ?? 0) + us);
    // Each distinct function on the stack gets the sample once (recursion counted once).
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (n === undefined) break;
      const l = label(n);
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + us);
    }
  }
  const pct = (us: number): number => Math.round((us / Math.max(1, totalUs)) * 1000) / 10;
  return [...total.keys()].map((name) => ({
    name, selfMs: Math.round((self.get(name) ?? 0) / 1000), selfPercent: pct(self.get(name) ?? 0),
    totalMs: Math.round((total.get(name) ?? 0) / 1000), totalPercent: pct(total.get(name) ?? 0),
  }));
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: cpu-profile-top.ts FILE.cpuprofile [N]');
  const n = Number(process.argv[3] ?? 25);
  const spots = hotSpots(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  process.stdout.write('--- by self time ---\n');
  for (const s of [...spots].sort((a, b) => b.selfMs - a.selfMs).slice(0, n)) process.stdout.write(`${String(s.selfPercent).padStart(5)}%  ${String(s.selfMs).padStart(6)} ms  ${s.name}\n`);
  process.stdout.write('--- by total time (self + callees) ---\n');
  for (const s of [...spots].sort((a, b) => b.totalMs - a.totalMs).slice(0, n)) process.stdout.write(`${String(s.totalPercent).padStart(5)}%  ${String(s.totalMs).padStart(6)} ms  ${s.name}\n`);
}
