import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';

/** services/gateway/public, from both src/plugins (tsx) and dist/plugins (built). */
export const publicDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'public');

export interface WebOptions {
  /** Folder with index.html, app.js, style.css; defaults to services/gateway/public. */
  root?: string;
}

/**
 * The upload page at `/`: plain static files (no build step, nothing from the internet), kept out
 * of the OpenAPI document. Encapsulated: registers no decorators or hooks outside itself.
 */
async function web(app: FastifyInstance, opts: WebOptions): Promise<void> {
  const root = opts.root ?? publicDir;
  if (!existsSync(join(root, 'index.html'))) {
    app.log.warn({ root }, 'web page files missing; / is not served');
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    index: 'index.html',
    // Only the files present at start-up get routes; unknown paths fall through to the JSON 404.
    wildcard: false,
    decorateReply: false,
    schemaHide: true,
    cacheControl: true,
    maxAge: 60_000,
    etag: true,
  });
}

export const webPlugin = fp(web, { name: 'dfd-web', encapsulate: true });
