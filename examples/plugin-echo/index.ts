// A complete third-party W2 plugin: echoes every frame back. Load it with
// `plugins: [{ name: ./examples/plugin-echo/index.js }]` (a path relative to the config file).
// A published plugin would import from the epcscf package instead of this relative path.
import { W2_CONTRACT_VERSION, defineW2Plugin } from '../../core/contract/contract.js';

export default defineW2Plugin({
  meta: { name: 'echo', version: '0.1.0', contract: W2_CONTRACT_VERSION },
  bindings: [{ path: '/echo', subprotocols: ['echo'] }],
  openSession: (conn) => ({ onFrame: (frame) => conn.send(frame), onClose: () => {} }),
});
