/**
 * Ajv checks of method params and results and of notification params against schemas/jsonrpc.
 * Each schema is compiled on first use with the catalogue's `$defs` beside it, so the files can
 * say `{"$ref": "#/$defs/Sdp"}` and stay readable.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import type { JsonSchema } from '../../core/contract/index.js';
import { loadApiCatalogue } from './api-catalogue.js';

/** One schema violation, with the offending field as a dotted path ('candidate.sdpMid', '' = the whole value). */
export interface SchemaViolation {
  readonly field: string;
  readonly message: string;
}

export type SchemaKind = 'params' | 'result' | 'notification';

export class ApiSchemaValidator {
  // allErrors off: the first violation is enough to tell the developer which field is wrong,
  // and it keeps a hostile payload from costing more than one pass.
  // verbose: a failed oneOf carries its branches, so "exactly one of these fields" can be told plainly.
  readonly #ajv = new Ajv2020({ allErrors: false, strict: false, verbose: true });
  readonly #compiled = new Map<string, ValidateFunction>();

  /** Violations of `value` against the schema of `name` (empty when valid; undefined schema = unknown name). */
  check(kind: SchemaKind, name: string, value: unknown): SchemaViolation[] | undefined {
    const validate = this.#validatorFor(kind, name);
    if (validate === undefined) return undefined;
    if (validate(value)) return [];
    const errors = validate.errors ?? [];
    const exclusive = exclusiveFieldsViolation(errors.at(-1));
    return exclusive !== undefined ? [exclusive] : errors.map(toViolation);
  }

  #validatorFor(kind: SchemaKind, name: string): ValidateFunction | undefined {
    const key = `${kind}:${name}`;
    let validate = this.#compiled.get(key);
    if (validate) return validate;
    const schema = schemaOf(kind, name);
    if (schema === undefined) return undefined;
    validate = this.#ajv.compile({ ...schema, $defs: loadApiCatalogue().defs });
    this.#compiled.set(key, validate);
    return validate;
  }
}

function schemaOf(kind: SchemaKind, name: string): JsonSchema | undefined {
  const api = loadApiCatalogue();
  if (kind === 'notification') return Object.hasOwn(api.notifications, name) ? api.notifications[name]?.params : undefined;
  const method = Object.hasOwn(api.methods, name) ? api.methods[name] : undefined;
  return kind === 'params' ? method?.params : method?.result;
}

function toViolation(error: ErrorObject): SchemaViolation {
  const params = error.params as Record<string, unknown>;
  let field = error.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');
  if (error.keyword === 'required') field = joinField(field, String(params['missingProperty']));
  if (error.keyword === 'additionalProperties') field = joinField(field, String(params['additionalProperty']));
  const message = error.keyword === 'additionalProperties' ? 'is not a known parameter'
    : error.keyword === 'required' ? 'is required'
      : (error.message ?? 'is invalid');
  return { field, message };
}

/**
 * `oneOf: [{required: [a]}, {required: [b]}]` says "exactly one of a, b" (session.register:
 * password or token). Ajv reports it as a bare oneOf failure; this names the field instead:
 * both given → the second one, neither → the first one.
 */
function exclusiveFieldsViolation(error: ErrorObject | undefined): SchemaViolation | undefined {
  if (error?.keyword !== 'oneOf' || !Array.isArray(error.schema)) return undefined;
  const names: string[] = [];
  for (const branch of error.schema as unknown[]) {
    const required = typeof branch === 'object' && branch !== null && Object.keys(branch).length === 1 ? (branch as { required?: unknown }).required : undefined;
    if (!Array.isArray(required) || required.length !== 1 || typeof required[0] !== 'string') return undefined;
    names.push(required[0]);
  }
  const path = error.instancePath.split('/').slice(1).join('.');
  const passing = (error.params as { passingSchemas?: unknown }).passingSchemas;
  if (Array.isArray(passing)) {
    const [first, second] = passing as number[];
    return { field: joinField(path, names[second ?? 1] ?? ''), message: `cannot be given together with ${names[first ?? 0] ?? ''}: give exactly one of ${names.join(', ')}` };
  }
  return { field: joinField(path, names[0] ?? ''), message: `is required (or instead ${names.slice(1).join(', ')}): give exactly one of ${names.join(', ')}` };
}

function joinField(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

let shared: ApiSchemaValidator | undefined;

/** The process-wide validator (compiled schemas are immutable and shared by every session). */
export function apiSchemaValidator(): ApiSchemaValidator {
  shared ??= new ApiSchemaValidator();
  return shared;
}
