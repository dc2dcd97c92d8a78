/**
 * The wire API of this plugin as data: schemas/jsonrpc/{definitions.schema.json, methods.json,
 * notifications.json, errors.json}. The runtime validates against it (schema-validator.ts) and
 * the OpenRPC document is built from it (openrpc/build-openrpc.ts), so the two cannot drift.
 */
import { readFileSync } from 'node:fs';
import { EpcError } from '../../core/contract/index.js';
import type { JsonSchema } from '../../core/contract/index.js';

export interface MethodSpec {
  readonly summary: string;
  readonly description?: string;
  readonly params: JsonSchema;
  readonly result: JsonSchema;
  /** Application error codes (errors.json) the method may answer with. */
  readonly errors: readonly number[];
}

export interface NotificationSpec {
  readonly summary: string;
  readonly description?: string;
  readonly params: JsonSchema;
}

export interface ErrorSpec {
  readonly name: string;
  readonly message: string;
  readonly description: string;
}

export interface ApiCatalogue {
  readonly methods: Readonly<Record<string, MethodSpec>>;
  readonly notifications: Readonly<Record<string, NotificationSpec>>;
  readonly errors: Readonly<Record<string, ErrorSpec>>;
  /** Every named schema a `#/$defs/<Name>` reference may point at (shared + method-local). */
  readonly defs: Readonly<Record<string, JsonSchema>>;
}

/** Reads schemas/<relative>, from the source tree (plugins/jsonrpc-ws) or from dist/. */
export function readRepositoryJson(relative: string): Record<string, unknown> {
  for (const up of ['../../schemas/', '../../../schemas/']) {
    try {
      return JSON.parse(readFileSync(new URL(up + relative, import.meta.url), 'utf8')) as Record<string, unknown>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  throw new EpcError('EPC_ERR_INSTALLATION', `schemas/${relative} not found`);
}

let catalogue: ApiCatalogue | undefined;

export function loadApiCatalogue(): ApiCatalogue {
  if (catalogue) return catalogue;
  const definitions = readRepositoryJson('jsonrpc/definitions.schema.json');
  const methods = readRepositoryJson('jsonrpc/methods.json');
  const notifications = readRepositoryJson('jsonrpc/notifications.json');
  const errors = readRepositoryJson('jsonrpc/errors.json');
  catalogue = {
    methods: methods['methods'] as Record<string, MethodSpec>,
    notifications: notifications['notifications'] as Record<string, NotificationSpec>,
    errors: errors['errors'] as Record<string, ErrorSpec>,
    defs: {
      ...(definitions['$defs'] as Record<string, JsonSchema>),
      ...(methods['$defs'] as Record<string, JsonSchema>),
    },
  };
  return catalogue;
}
