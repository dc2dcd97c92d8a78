import t from 'tap';
import type { Test } from 'tap';
import { AUTH, adminApp } from './admin-helpers.js';

interface Operation { security?: Array<Record<string, string[]>>; tags?: string[]; responses: Record<string, unknown>; parameters?: Array<{ name: string; in: string; required?: boolean }> }
interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
}

const GUARDED = [
  ['get', '/metrics'],
  ['get', '/admin/registrations'], ['get', '/admin/registrations/{id}'], ['delete', '/admin/registrations/{id}'],
  ['get', '/admin/calls'], ['get', '/admin/calls/{id}'], ['delete', '/admin/calls/{id}'],
  ['get', '/admin/sessions'], ['get', '/admin/sessions/{id}'], ['delete', '/admin/sessions/{id}'],
] as const;
const PUBLIC = [['get', '/health'], ['get', '/ready'], ['get', '/openrpc.json']] as const;

async function openApi(t: Test): Promise<OpenApiDocument> {
  const { app } = await adminApp(t, { openrpcDocument: { openrpc: '1.3.2', methods: [] } });
  const res = await app.inject('/docs/json');
  t.equal(res.statusCode, 200, '/docs/json is public');
  return res.json() as OpenApiDocument;
}

t.test('OpenAPI 3.1 at /docs/json lists every admin route with the bearer security scheme (RFC 6750)', async (t) => {
  const doc = await openApi(t);
  t.equal(doc.openapi, '3.1.0');
  t.match(doc.info, { title: 'epcscf admin API', version: '9.8.7' }, 'the info carries the epcscf version');
  t.same(doc.components.securitySchemes['bearerAuth'], { type: 'http', scheme: 'bearer', description: 'The admin key from the epcscf configuration' });
  for (const [method, path] of GUARDED) {
    const operation = doc.paths[path]?.[method];
    t.ok(operation, `${method.toUpperCase()} ${path} is documented`);
    t.same(operation?.security, [{ bearerAuth: [] }], `${method.toUpperCase()} ${path} requires the bearer key`);
    t.ok(operation?.responses['401'], `${method.toUpperCase()} ${path} documents its 401`);
    t.ok(operation?.tags?.length, 'tagged');
  }
  for (const [method, path] of PUBLIC) {
    t.same(doc.paths[path]?.[method]?.security, [], `${method.toUpperCase()} ${path} is public`);
  }
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)).sort();
  t.same(documented, [...GUARDED, ...PUBLIC].map(([m, p]) => `${m} ${p}`).sort(), 'nothing else (swagger-ui assets are hidden)');
});

t.test('OpenAPI: parameters and responses come from the route schemas, errors share one component', async (t) => {
  const doc = await openApi(t);
  for (const name of ['AdminError', 'AdminRegistration', 'AdminCall', 'AdminSession', 'AdminReadiness']) t.ok(doc.components.schemas[name], `component ${name}`);
  t.match(doc.paths['/admin/calls/{id}']?.['delete']?.parameters, [{ name: 'reason', in: 'query' }, { name: 'id', in: 'path', required: true }]);
  t.match(doc.paths['/admin/sessions']?.['get']?.parameters, [{ name: 'limit', in: 'query' }, { name: 'offset', in: 'query' }]);
  t.same(Object.keys(doc.paths['/admin/registrations/{id}']?.['get']?.responses ?? {}).sort(), ['200', '400', '401', '404', '500']);
  t.match(doc.paths['/admin/calls/{id}']?.['get']?.responses['404'], { content: { 'application/json': { schema: { $ref: '#/components/schemas/AdminError' } } } });
  t.match(doc.paths['/ready']?.['get']?.responses, { 200: {}, 503: {} });
  t.match(doc.paths['/metrics']?.['get']?.responses['200'], { content: { 'text/plain': { schema: { type: 'string' } } } });
});

t.test('/docs serves the swagger-ui page and its assets without a key', async (t) => {
  const { app } = await adminApp(t);
  const page = await app.inject('/docs/');
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /^text\/html/);
  t.match(page.body, /swagger-ui/);
  const initializer = await app.inject('/docs/static/swagger-initializer.js');
  t.equal(initializer.statusCode, 200);
  t.match(initializer.body, /json/, 'the UI points at the OpenAPI document');
  const redirect = await app.inject('/docs');
  t.ok([200, 302].includes(redirect.statusCode));
  t.equal((await app.inject({ url: '/docs/json', headers: AUTH })).statusCode, 200, 'a key does no harm');
});
