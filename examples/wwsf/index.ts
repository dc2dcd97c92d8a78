/** The demo WWSF/WAF (TS 24.371 scenarios 2 and 3) that `npm start` runs beside epcscf. */
export { startWwsf, JWKS_PATH, DEFAULT_TOKEN_TTL_SECONDS, DEFAULT_LOGIN_RATE_LIMIT } from './wwsf.js';
export type { Wwsf, WwsfOptions, WicClientConfig } from './wwsf.js';
export { GUEST_LOGIN } from './login-route.js';
export type { LoginRequestBody, LoginResponseBody } from './login-route.js';
export { DEFAULT_WWSF_USERS_FILE, UserBook } from './user-book.js';
export type { WwsfUser, WwsfUsersFile } from './user-book.js';
export type { LoginRateLimitOptions } from './login-rate-limit.js';
