/**
 * Writes the gateway's OpenAPI document to docs/openapi.json (checked in; a test fails when it is
 * stale). Builds the app without listening and without background workers.
 *
 *   node services/gateway/dist/openapi-export.js [output path]
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '@dfd/config';
import { buildGateway } from './app.js';
import { loadGatewayConfig } from './config.js';

export const openapiPath = join(repoRoot(), 'docs', 'openapi.json');

/**
 * The document as written to disk: stable key order from the route registration, 2-space JSON.
 * Redis is not needed for the document. Without one (the command line), closing the BullMQ
 * connections cannot finish, so the close is given a short while only and the process exits.
 * With one (the test), the connections are let finish connecting and the close is awaited to the
 * end: closed mid-connect, BullMQ's own set-up commands were rejected after the close
 * ("Stream isn't writeable"), an unhandled rejection that failed the test file now and then.
 */
export async function renderOpenapi(redisUrl?: string): Promise<string> {
  // Fixed settings so that the document does not depend on the caller's environment.
  const cfg = loadGatewayConfig({ LOG_LEVEL: 'silent', REDIS_URL: redisUrl ?? 'redis://127.0.0.1:1', APP_MODE: 'development' });
  const gw = await buildGateway(cfg, { background: false });
  try {
    if (redisUrl) await gw.connected();
    await gw.app.ready();
    return `${JSON.stringify(gw.app.swagger(), null, 2)}\n`;
  } finally {
    const closing = gw.close();
    await (redisUrl ? closing : Promise.race([closing, new Promise((r) => setTimeout(r, 1_000).unref())]));
  }
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const out = resolve(process.argv[2] ?? openapiPath);
  const text = await renderOpenapi();
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
  process.exit(0);
}
