/**
 * JSON Schemas of the admin API: they validate requests, serialise responses (fields not
 * listed here never leave the server) and become the OpenAPI components at /docs/json.
 * They mirror the types in ./backend.ts.
 */

/** Shared schemas, added with `addSchema` and referenced as `{ $ref: '<id>#' }`. */
export const SCHEMA_IDS = {
  error: 'AdminError',
  registration: 'AdminRegistration',
  call: 'AdminCall',
  session: 'AdminSession',
  readiness: 'AdminReadiness',
} as const;

export const ref = (id: string): { $ref: string } => ({ $ref: `${id}#` });

const isoTime = { type: 'string', format: 'date-time' } as const;

export const errorSchema = {
  $id: SCHEMA_IDS.error,
  type: 'object',
  description: 'The one error shape of the admin API, for every 4xx and 5xx',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'An EPC_ERR_* code', examples: ['EPC_ERR_ADMIN_NOT_FOUND'] },
        message: { type: 'string' },
      },
    },
  },
} as const;

export const registrationSchema = {
  $id: SCHEMA_IDS.registration,
  type: 'object',
  description: 'One registered contact binding (RFC 3261 §10, TS 24.229 5.2.2)',
  required: ['id', 'impu', 'contact', 'expiresAt', 'associatedUris'],
  properties: {
    id: { type: 'string' },
    impu: { type: 'string', description: 'The registered public user identity' },
    contact: { type: 'string' },
    instanceId: { type: 'string', description: 'RFC 5626 +sip.instance' },
    regId: { type: 'integer', description: 'RFC 5626 reg-id' },
    flowId: { type: 'string' },
    connectionId: { type: 'string' },
    plugin: { type: 'string' },
    expiresAt: isoTime,
    associatedUris: { type: 'array', items: { type: 'string' }, description: 'P-Associated-URI set (TS 24.229 5.2.2.1)' },
  },
} as const;

const mediaLegSchema = {
  type: 'object',
  required: ['id', 'media'],
  properties: {
    id: { type: 'string' },
    media: { type: 'string', description: "SDP media type: 'audio', 'video', 'application'" },
    state: { type: 'string' },
    wic: { type: 'string', description: 'WIC-side host:port' },
    ims: { type: 'string', description: 'IMS-side host:port' },
  },
} as const;

export const callSchema = {
  $id: SCHEMA_IDS.call,
  type: 'object',
  description: 'One INVITE dialog through epcscf (RFC 3261 §12)',
  required: ['id', 'callId', 'from', 'to', 'state', 'direction', 'startedAt', 'mediaLegs'],
  properties: {
    id: { type: 'string' },
    callId: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    state: { type: 'string', enum: ['early', 'confirmed', 'terminating'] },
    direction: { type: 'string', enum: ['originating', 'terminating'] },
    startedAt: isoTime,
    connectionId: { type: 'string' },
    plugin: { type: 'string' },
    mediaLegs: { type: 'array', items: mediaLegSchema },
  },
} as const;

export const sessionSchema = {
  $id: SCHEMA_IDS.session,
  type: 'object',
  description: 'One W2 plugin session (a WebSocket client)',
  required: ['connectionId', 'plugin', 'subprotocol', 'path', 'remote', 'openedAt'],
  properties: {
    connectionId: { type: 'string' },
    plugin: { type: 'string' },
    subprotocol: { type: 'string', description: 'RFC 6455 §4.2.2 selected subprotocol' },
    path: { type: 'string' },
    remote: {
      type: 'object',
      required: ['address', 'port'],
      properties: { address: { type: 'string' }, port: { type: 'integer' } },
    },
    origin: { type: 'string' },
    openedAt: isoTime,
    description: { type: 'object', additionalProperties: true, description: "The plugin's describe() snapshot" },
  },
} as const;

export const readinessSchema = {
  $id: SCHEMA_IDS.readiness,
  type: 'object',
  required: ['ready', 'checks'],
  properties: {
    ready: { type: 'boolean' },
    checks: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['ok'],
        properties: { ok: { type: 'boolean' }, detail: { type: 'string' } },
      },
    },
    // Present on 503 only: the one error shape, so a 503 reads like every other failure.
    error: errorSchema.properties.error,
  },
} as const;

export const SHARED_SCHEMAS = [errorSchema, registrationSchema, callSchema, sessionSchema, readinessSchema] as const;

/** `?limit&offset` of every list route. */
export const pageQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'At most this many items' },
    offset: { type: 'integer', minimum: 0, default: 0, description: 'Items to skip' },
  },
} as const;

export function pageSchema(itemId: string, description: string): Record<string, unknown> {
  return {
    type: 'object',
    description,
    required: ['total', 'items'],
    properties: {
      total: { type: 'integer', description: 'How many exist in all (before limit/offset)' },
      items: { type: 'array', items: ref(itemId) },
    },
  };
}

/** Route ids are opaque strings; fastify's router caps a parameter at 100 characters (maxParamLength). */
export const idParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;

export const errorResponses = (statuses: readonly number[]): Record<number, { $ref: string; description: string }> => {
  const descriptions: Record<number, string> = {
    400: 'Invalid parameters',
    401: 'Missing or wrong bearer key (WWW-Authenticate: Bearer, RFC 6750 §3)',
    404: 'No such resource',
    409: 'The resource is in a state that forbids the operation',
    500: 'The operation failed',
    503: 'Not ready',
  };
  return Object.fromEntries(statuses.map((status) => [status, { ...ref(SCHEMA_IDS.error), description: descriptions[status] ?? 'Error' }]));
};
