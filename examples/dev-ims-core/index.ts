/** The embedded dev IMS core (registrar + Path-routing proxy) behind `npm start`. */
export { DevImsCore, DEFAULT_USERS_FILE } from './dev-ims-core.js';
export type { DevImsCoreOptions } from './dev-ims-core.js';
export { UserDirectory } from './user-directory.js';
export type { DevUser, DevUsersFile } from './user-directory.js';
export { TrustedNodes } from './trusted-nodes.js';
export type { TrustedNodeAddress } from './trusted-nodes.js';
