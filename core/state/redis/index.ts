export { RedisStateBackend, type RedisStateBackendOptions } from './redis-state-backend.js';
export { RedisKeys } from './redis-keys.js';
