import type { SrvRecord } from './dns-lookup.js';

/**
 * RFC 2782 "Usage rules": lowest priority first; within one priority, a weighted random
 * permutation (weight 0 records first in the running sum, so they are picked rarely but
 * still picked). `random` returns [0, 1) and is injectable for tests.
 * Records whose target is `.` (service decidedly not available) are removed.
 */
export function orderSrvRecords(records: readonly SrvRecord[], random: () => number = Math.random): SrvRecord[] {
  const usable = records.filter((r) => r.name !== '.' && r.name !== '');
  const priorities = [...new Set(usable.map((r) => r.priority))].sort((a, b) => a - b);
  const ordered: SrvRecord[] = [];
  for (const priority of priorities) {
    const pool = usable.filter((r) => r.priority === priority)
      .sort((a, b) => (a.weight === 0 ? 0 : 1) - (b.weight === 0 ? 0 : 1));
    while (pool.length > 0) {
      const total = pool.reduce((sum, r) => sum + r.weight, 0);
      // RFC 2782: pick a number in [0, total] and take the first record whose running sum reaches it.
      const pick = Math.floor(random() * (total + 1));
      let running = 0;
      let index = pool.length - 1;
      for (let i = 0; i < pool.length; i++) {
        running += pool[i]!.weight;
        if (running >= pick) { index = i; break; }
      }
      ordered.push(pool.splice(index, 1)[0]!);
    }
  }
  return ordered;
}
