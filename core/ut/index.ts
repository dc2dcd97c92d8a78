export { UtService, type UtIdentities, type UtServiceOptions } from './ut-service.js';
export { registerUtRoutes, type UtRestOptions } from './ut-rest-route.js';
export { SIMSERVS_AUID, SIMSERVS_DOCUMENT, checkNodeSelector, parseSimservsPath, xcapPathOf, type UtPathOutcome, type UtTarget } from './simservs-path.js';
export { xmlProblem } from './xml-check.js';
export type { UtMethod, UtRequest, UtResponse } from './ut-types.js';
