/**
 * Issue #15: the memory backend keeps the same StateBackend contract as Redis (the shared suite,
 * test/support/state-conformance.ts; state-backend-conformance.test.ts runs it on Redis).
 */
import t from 'tap';
import { MemoryStateBackend } from '../../core/state/memory-state-backend.js';
import { stateBackendConformance } from '../support/state-conformance.js';

t.test('the memory backend keeps the StateBackend contract', async (t) => {
  await stateBackendConformance(t, 'memory', async () => new MemoryStateBackend());
});
