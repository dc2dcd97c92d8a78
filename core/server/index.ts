export { createEpcscfServer } from './epcscf-server.js';
export type { EpcscfServer, EpcscfServerOptions } from './epcscf-server.js';
export { createW2Server } from './w2-server.js';
export type { W2Server, W2ServerOptions, W2ServerStats, W2SessionInfo } from './w2-server.js';
export { isOriginAllowed, normaliseOrigin } from './origin-policy.js';
export { chooseRoute, offeredSubprotocols } from './subprotocol.js';
