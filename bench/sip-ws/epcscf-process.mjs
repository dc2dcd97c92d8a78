#!/usr/bin/env node
// The epcscf CLI as the bench runs it, plus one measuring hook: on SIGUSR2 (only when node
// runs with --expose-gc) a full garbage collection, then one stdout line
// `bench-memory {...process.memoryUsage(), heapSpaces: {space: usedKiB/sizeKiB}}`. Measuring RSS
// after a GC keeps garbage that V8 has not yet collected out of the "memory per registered
// connection" figure. BENCH_HEAP_SNAPSHOT_DIR=dir also writes a heap snapshot there on each
// SIGUSR2 (diagnosis only: a snapshot of a large heap takes seconds and memory of its own).
// Nothing else differs from `node core/cli/epcscf.mjs`.
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { join } from 'node:path';

const gc = globalThis.gc;
if (typeof gc === 'function') {
  const snapshotDir = process.env['BENCH_HEAP_SNAPSHOT_DIR'];
  let snapshots = 0;
  process.on('SIGUSR2', () => {
    gc();
    const heapSpaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [
      s.space_name, `${Math.round(s.space_used_size / 1024)}/${Math.round(s.space_size / 1024)}`,
    ]));
    if (snapshotDir !== undefined) writeHeapSnapshot(join(snapshotDir, `epcscf-${process.pid}-${++snapshots}.heapsnapshot`));
    process.stdout.write(`bench-memory ${JSON.stringify({ ...process.memoryUsage(), heapSpaces })}\n`);
  });
}
await import('../../core/cli/epcscf.mjs');
