/**
 * One ajv setup for every JSON Schema epcscf checks (the config file, plugin manifests,
 * plugin options), and one way of turning ajv errors into messages that name the bad key:
 * `mw.listen[0]: expected udp:|tcp:|tls: host:port (got "sctp:1.2.3.4:5")`.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { EpcError } from '../errors.js';
import type { JsonSchema } from '../contract/contract.js';

export interface SchemaCheck {
  /** Validates `data` in place (ajv fills `default`s). Returns readable errors, empty when valid. */
  (data: unknown): string[];
}

/**
 * Compiles a schema. `root` prefixes every reported path (e.g. 'options' gives
 * `options.greeting: must be string`); empty for the config file itself.
 */
export function compileSchema(schema: JsonSchema, root = ''): SchemaCheck {
  // allErrors so one run reports every bad key; verbose so messages can quote the bad value
  // and the schema's own description; strict off so third-party option schemas with extra
  // annotation keywords still compile.
  const ajv = new Ajv2020({ allErrors: true, useDefaults: true, verbose: true, strict: false });
  const validate: ValidateFunction = ajv.compile(withoutMetaSchema(schema));
  return (data) => (validate(data) ? [] : formatSchemaErrors(validate.errors ?? [], root));
}

/** Reads one of the repository's `schemas/*.schema.json`, from the source tree or from dist/. */
export function readRepositorySchema(fileName: string): JsonSchema {
  // core/config/x.ts → ../../schemas; dist/core/config/x.js → ../../../schemas.
  for (const up of ['../../schemas/', '../../../schemas/']) {
    try {
      return JSON.parse(readFileSync(new URL(up + fileName, import.meta.url), 'utf8')) as JsonSchema;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  throw new EpcError('EPC_ERR_INSTALLATION', `schemas/${fileName} not found`);
}

export function formatSchemaErrors(errors: readonly ErrorObject[], root: string): string[] {
  const messages = errors.map((e) => formatOne(e, root));
  return [...new Set(messages)];
}

function formatOne(error: ErrorObject, root: string): string {
  const at = jsonPointerToPath(error.instancePath, root);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${joinKey(at, String(params['additionalProperty']))}: unknown key`;
    case 'required':
      return `${joinKey(at, String(params['missingProperty']))}: is required`;
    default: {
      const description = (error.parentSchema as { description?: unknown } | undefined)?.description;
      const what = error.keyword === 'pattern' && typeof description === 'string'
        ? `expected ${description}`
        : (error.message ?? 'is invalid');
      // A password's value never reaches an error message (it is logged and printed).
      const got = /password$/i.test(at) ? 'a value not shown: it is a password' : quote(error.data);
      return `${at || '(root)'}: ${what} (got ${got})`;
    }
  }
}

/** '/mw/listen/0' → 'mw.listen[0]' */
function jsonPointerToPath(pointer: string, root: string): string {
  let path = root;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path = /^\d+$/.test(segment) ? `${path}[${segment}]` : joinKey(path, segment);
  }
  return path;
}

function joinKey(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Ajv2020 knows its own meta-schema only; plugin schemas may declare draft-07 and still work. */
function withoutMetaSchema(schema: JsonSchema): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = schema as Record<string, unknown>;
  return rest;
}
