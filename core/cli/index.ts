/** The `epcscf` command, and its runtime for embedders (start everything from a config). */
export { main } from './main.js';
export { startRuntime } from './runtime.js';
export type { EpcscfRuntime, RuntimeOptions } from './runtime.js';
export { readyBanner } from './banner.js';
