export { Pcscf, type PcscfOptions, type PcscfEvents, type RelayGuard } from './pcscf.js';
export { FlowTokenCodec, type FlowRef } from './flow-token.js';
export type { OwnAddress } from './own-uris.js';
