/** Options of the jsonrpc-ws plugin (config `plugins: [{ name: jsonrpc-ws, options: {...} }]`). */
import type { JsonSchema } from '../../core/contract/index.js';

export interface JsonRpcWsOptions {
  /** Largest batch (JSON array) accepted; a longer one is answered with one -32600. */
  readonly maxBatch: number;
  /** Requests (with id) one connection may have unanswered at once; beyond it -32006. */
  readonly maxInFlight: number;
  /** Token bucket per connection: requests per second on average ... */
  readonly floodRatePerSecond: number;
  /** ... and at once; a request beyond the bucket is answered -32006. */
  readonly floodBurst: number;
  /** Requests refused by the bucket, without the client slowing down, before the connection is closed with 1008 (a sustained flood). */
  readonly floodCloseAfter: number;
  /** Calls (incoming + outgoing) one client may have at once. */
  readonly maxCallsPerClient: number;
  /** Seconds a dropped client's registration may be resumed on a new connection; 0 = de-register at once. */
  readonly resumeGraceSeconds: number;
  /** Subscriptions one client may hold. */
  readonly maxSubscriptions: number;
}

export const DEFAULT_JSONRPC_WS_OPTIONS: JsonRpcWsOptions = {
  maxBatch: 32,
  maxInFlight: 64,
  floodRatePerSecond: 20,
  floodBurst: 60,
  floodCloseAfter: 100,
  maxCallsPerClient: 4,
  resumeGraceSeconds: 120,
  maxSubscriptions: 8,
};

const D = DEFAULT_JSONRPC_WS_OPTIONS;

export const JSONRPC_WS_OPTIONS_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    maxBatch: { type: 'integer', minimum: 1, maximum: 1000, default: D.maxBatch, description: 'largest JSON-RPC batch; a longer one is answered with one -32600' },
    maxInFlight: { type: 'integer', minimum: 1, maximum: 10_000, default: D.maxInFlight, description: 'unanswered requests one connection may have; beyond it -32006' },
    floodRatePerSecond: { type: 'number', exclusiveMinimum: 0, default: D.floodRatePerSecond, description: 'requests per second a client may send on average' },
    floodBurst: { type: 'integer', minimum: 1, default: D.floodBurst, description: 'requests a client may send at once; beyond the bucket each is answered -32006' },
    floodCloseAfter: { type: 'integer', minimum: 1, default: D.floodCloseAfter, description: 'requests refused for rate, without the client slowing down (its bucket refilling to half), before the connection is closed with 1008 "flood"' },
    maxCallsPerClient: { type: 'integer', minimum: 1, maximum: 100, default: D.maxCallsPerClient, description: 'concurrent calls per client' },
    resumeGraceSeconds: { type: 'integer', minimum: 0, maximum: 86_400, default: D.resumeGraceSeconds, description: 'seconds a dropped client may resume its registration with session.resume; 0 de-registers at once' },
    maxSubscriptions: { type: 'integer', minimum: 0, maximum: 100, default: D.maxSubscriptions, description: 'subscriptions per client' },
  },
};
