/**
 * Serves a built web app directory (the WIC) read-only: `/` is index.html, other paths map to
 * files inside the directory and never outside it (no `..`, no NUL, no dot-files).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wav': 'audio/wav',
  '.txt': 'text/plain; charset=utf-8',
};

/** The file under `root` a URL path names, or undefined when it may not be served. */
export function resolveStaticPath(root: string, urlPath: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (path.includes('\0') || path.includes('\\')) return undefined;
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '..' || s.startsWith('.'))) return undefined;
  const base = resolve(root);
  const file = resolve(join(base, ...segments));
  if (file !== base && !file.startsWith(base + sep)) return undefined;
  return path === '' || path.endsWith('/') ? join(file, 'index.html') : file;
}

export function registerStaticFiles(app: FastifyInstance, root: () => string): void {
  app.get('/*', async (request, reply) => {
    const urlPath = (request.params as { '*': string })['*'];
    const file = resolveStaticPath(root(), urlPath);
    const info = file === undefined ? undefined : await stat(file).catch(() => undefined);
    if (file === undefined || info === undefined || !info.isFile()) {
      return reply.code(404).send({ error: `not found: /${urlPath}` });
    }
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    return reply
      .header('content-type', type)
      .header('content-length', info.size)
      // index.html names the current build; the rest may be cached briefly.
      .header('cache-control', type.startsWith('text/html') ? 'no-cache' : 'public, max-age=300')
      .header('x-content-type-options', 'nosniff')
      .send(createReadStream(file));
  });
}
