/**
 * rtpengine's "ng" control protocol, both ends: the typed commands a media gateway answers
 * (`MediaGatewayControl`), the client the IMS-ALG drives a gateway with over UDP (`NgClient`),
 * and the server our gateway listens with (`NgServer`). The IMS-ALG (core/pcscf/alg) reaches
 * this folder only through this file (test/contract/media-wing-boundary.test.ts).
 */
export type {
  DtlsMode, IceMode, MediaGatewayControl, NgAnswerRequest, NgDeleteRequest, NgMediaOptions, NgOfferRequest,
  NgQueryRequest, NgQueryResult, NgSdpResult, RtcpMuxFlag,
} from './control.js';
export { NgClient, NgNoReplyError, type NgClientOptions } from './ng-client.js';
export { NgServer, type NgServerOptions } from './ng-server.js';
