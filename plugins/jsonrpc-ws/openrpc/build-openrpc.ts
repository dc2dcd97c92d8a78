/**
 * Builds the OpenRPC 1.3 document (schemas/openrpc.json) from the runtime schemas
 * (schemas/jsonrpc): one source of truth, so rpc.discover describes exactly what the server
 * validates. `write-openrpc.ts` writes the file; a test checks the file equals this output.
 *
 * OpenRPC has no notion of server-to-client notifications; they are listed under the
 * specification extension `x-notifications` in the same shape as methods (OpenRPC 1.3: the
 * root object MAY be extended with `x-` fields).
 */
import type { JsonSchema } from '../../../core/contract/index.js';
import type { ApiCatalogue } from '../api-catalogue.js';

export const OPENRPC_VERSION = '1.3.2';
/** The wire API's own version (bump with any change to schemas/jsonrpc). */
export const API_VERSION = '1.1.0';

interface ContentDescriptor {
  readonly name: string;
  readonly required: boolean;
  readonly schema: JsonSchema;
  readonly description?: string;
}

export function buildOpenRpc(api: ApiCatalogue): Record<string, unknown> {
  const resolve = (schema: JsonSchema): JsonSchema => resolveTopRef(schema, api);
  return {
    openrpc: OPENRPC_VERSION,
    info: {
      title: 'epcscf JSON-RPC API',
      version: API_VERSION,
      description: 'Register, call and message through the epcscf eP-CSCF with JSON-RPC 2.0 over WebSocket (path /jsonrpc, subprotocol epcscf.jsonrpc.v1, text frames). SIP outcomes arrive as notifications (x-notifications); application errors are -32001..-32009 (components.errors).',
      license: { name: 'Apache-2.0' },
    },
    servers: [{
      name: 'epcscf',
      url: 'ws://127.0.0.1:8080/jsonrpc',
      summary: 'WebSocket endpoint; offer Sec-WebSocket-Protocol: epcscf.jsonrpc.v1 (wss:// when TLS is configured)',
    }],
    methods: Object.entries(api.methods).map(([name, method]) => ({
      name,
      summary: method.summary,
      ...(method.description !== undefined ? { description: method.description } : {}),
      paramStructure: 'by-name',
      params: contentDescriptors(resolve(method.params), api),
      result: { name: `${name}.result`, schema: rewriteRefs(method.result) },
      errors: method.errors.map((code) => ({ $ref: `#/components/errors/${errorName(api, code)}` })),
    })),
    components: {
      schemas: Object.fromEntries(Object.entries(api.defs).map(([name, schema]) => [name, rewriteRefs(schema)])),
      errors: Object.fromEntries(Object.entries(api.errors).map(([code, error]) => [error.name, {
        code: Number(code), message: error.message, data: { description: error.description },
      }])),
    },
    'x-notifications': Object.entries(api.notifications).map(([name, notification]) => ({
      name,
      summary: notification.summary,
      ...(notification.description !== undefined ? { description: notification.description } : {}),
      paramStructure: 'by-name',
      params: contentDescriptors(resolve(notification.params), api),
    })),
  };
}

/** By-name params as OpenRPC content descriptors, one per property (a oneOf unites its branches). */
function contentDescriptors(schema: JsonSchema, api: ApiCatalogue): ContentDescriptor[] {
  // A oneOf beside `properties` only says which of them are exclusive (session.register: password
  // or token): the properties are the descriptors, and the exclusive ones are optional.
  const branches = Array.isArray(schema['oneOf']) && schema['properties'] === undefined
    ? (schema['oneOf'] as JsonSchema[]).map((b) => resolveTopRef(b, api)) : [schema];
  const seen = new Map<string, ContentDescriptor>();
  for (const branch of branches) {
    const properties = (branch['properties'] ?? {}) as Record<string, JsonSchema>;
    const required = new Set((branch['required'] ?? []) as string[]);
    for (const [name, property] of Object.entries(properties)) {
      // A name required in every branch is required; one that only some branches have is optional.
      const requiredHere = required.has(name) && branches.every((b) => ((b['required'] ?? []) as string[]).includes(name));
      if (seen.has(name)) continue;
      const { description, ...rest } = property as JsonSchema & { description?: string };
      seen.set(name, {
        name, required: requiredHere, schema: rewriteRefs(rest),
        ...(typeof description === 'string' ? { description } : {}),
      });
    }
  }
  return [...seen.values()];
}

function resolveTopRef(schema: JsonSchema, api: ApiCatalogue): JsonSchema {
  const ref = schema['$ref'];
  if (typeof ref !== 'string') return schema;
  const target = api.defs[ref.replace('#/$defs/', '')];
  if (target === undefined) throw new Error(`unresolved schema reference ${ref}`);
  return resolveTopRef(target, api);
}

/** `#/$defs/X` (runtime files) → `#/components/schemas/X` (OpenRPC). */
function rewriteRefs(schema: JsonSchema): JsonSchema {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema;
}

function errorName(api: ApiCatalogue, code: number): string {
  const error = api.errors[String(code)];
  if (error === undefined) throw new Error(`error code ${code} is not in schemas/jsonrpc/errors.json`);
  return error.name;
}
