import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { openapiPath, renderOpenapi } from '../src/openapi-export.js';
import { startRedis, type RedisServer } from './helpers.js';

const HOW = 'docs/openapi.json is out of date: rebuild and run `node services/gateway/dist/openapi-export.js` (or `npx tsx services/gateway/src/openapi-export.ts`), then commit the file.';

describe('OpenAPI document', () => {
  let redis: RedisServer;
  let text: string;
  before(async () => {
    redis = await startRedis();
    text = await renderOpenapi(redis.url);
  });
  after(async () => {
    await redis?.stop('SIGKILL');
  });

  it('the checked-in docs/openapi.json matches the routes', () => {
    assert.ok(existsSync(openapiPath), HOW);
    assert.ok(readFileSync(openapiPath, 'utf8') === text, HOW);
  });

  it('every operation has a success response schema, every /v1 operation declares bearer auth and 401/429', () => {
    const doc = JSON.parse(text);
    const ops = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) => Object.entries(methods).map(([m, op]) => ({ path, m, op })));
    assert.ok(ops.length >= 4);
    for (const { path, m, op } of ops) {
      const ok = Object.entries(op.responses ?? {}).find(([code]) => code.startsWith('2')) as [string, any] | undefined;
      assert.ok(ok?.[1]?.content?.['application/json']?.schema, `${m.toUpperCase()} ${path} has no 2xx JSON schema`);
      if (path.startsWith('/v1/')) {
        assert.deepEqual(op.security, [{ bearer: [] }], `${m.toUpperCase()} ${path} security`);
        assert.ok(op.responses['401'] && op.responses['429'], `${m.toUpperCase()} ${path} documents 401 and 429`);
      }
    }
    for (const p of ['/v1/analyses', '/v1/analyses/{id}', '/v1/batches', '/v1/batches/{id}']) assert.ok(doc.paths[p], p);
  });
});
