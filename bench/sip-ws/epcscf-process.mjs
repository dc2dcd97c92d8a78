#!/usr/bin/env node
// The epcscf CLI as the bench runs it, plus one measuring hook: on SIGUSR2 (only when node
// runs with --expose-gc) a full garbage collection, then one stdout line
// `bench-memory {...process.memoryUsage()}`. Measuring RSS after a GC keeps garbage that V8 has
// not yet collected out of the "memory per registered connection" figure. Nothing else differs
// from `node core/cli/epcscf.mjs`.
const gc = globalThis.gc;
if (typeof gc === 'function') {
  process.on('SIGUSR2', () => {
    gc();
    process.stdout.write(`bench-memory ${JSON.stringify(process.memoryUsage())}\n`);
  });
}
await import('../../core/cli/epcscf.mjs');
