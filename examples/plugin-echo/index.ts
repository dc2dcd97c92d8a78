// A complete third-party W2 plugin: echoes every frame back. Load it with
// `plugins: [{ name: ./examples/plugin-echo/index.js }]` (a path relative to the config file).
// A published plugin imports the same names from 'epcscf/plugin' instead of this relative path.
import { W2_CONTRACT_VERSION, defineW2Plugin } from '../../core/contract/index.js';

export default defineW2Plugin({
  meta: { name: 'echo', version: '0.1.0', contract: W2_CONTRACT_VERSION },
  bindings: [{ path: '/echo', subprotocols: ['echo'] }],
  init: () => ({ openSession: (conn) => ({ onFrame: (frame) => conn.send(frame), onClose: () => {} }) }),
});
