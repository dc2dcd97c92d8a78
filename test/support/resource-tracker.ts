/**
 * Leak checks for the media gateway tests: which UDP sockets and timers were created while the
 * tracker recorded and are still alive (async_hooks; unref'd timers included).
 */
import { createHook } from 'node:async_hooks';

export interface ResourceTracker {
  /** Live resources by async type (UDPWRAP, Timeout). */
  live(): Record<string, number>;
  /** Stop recording new resources (the test's own waits), keep watching the old ones die. */
  freeze(): void;
  stop(): void;
}

export function trackResources(): ResourceTracker {
  const live = new Map<number, string>();
  let recording = true;
  const hook = createHook({
    init(id, type) {
      if (recording && (type === 'UDPWRAP' || type === 'Timeout')) live.set(id, type);
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  return {
    live: () => {
      const counts: Record<string, number> = {};
      for (const type of live.values()) counts[type] = (counts[type] ?? 0) + 1;
      return counts;
    },
    freeze: () => {
      recording = false;
    },
    stop: () => hook.disable(),
  };
}
