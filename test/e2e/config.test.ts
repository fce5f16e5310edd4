import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ConfigError } from '@dfd/config';
import { repoRoot } from '@dfd/test-support/processes';

describe('configuration from the environment', () => {
  it('names every bad variable in one error', async () => {
    const { loadGatewayConfig } = await import('../../services/gateway/src/config.js');
    assert.throws(
      () => loadGatewayConfig({ HTTP_PORT: 'eighty', MAX_UPLOAD_BYTES: '-5', REDIS_URL: 'http://nope', APP_MODE: 'staging' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const text = (err as Error).message;
        for (const name of ['HTTP_PORT', 'MAX_UPLOAD_BYTES', 'REDIS_URL', 'APP_MODE']) assert.match(text, new RegExp(name));
        return true;
      },
    );
    const ok = loadGatewayConfig({});
    assert.equal(ok.httpPort, 8080);
    assert.equal(ok.maxUploadBytes, 20 * 1024 * 1024);
  });

  it('rejects an inverted uncertain band for the detector', async () => {
    const { loadDetectorConfig } = await import('../../services/detector/src/config.js');
    assert.throws(() => loadDetectorConfig({ UNCERTAIN_LOW: '0.8', UNCERTAIN_HIGH: '0.2' }), /UNCERTAIN_LOW must not exceed UNCERTAIN_HIGH/);
    assert.throws(() => loadDetectorConfig({ DETECTOR_CONCURRENCY: '0' }), /DETECTOR_CONCURRENCY must be >= 1/);
  });

  for (const service of ['gateway', 'detector', 'classifier']) {
    it(`${service} refuses to start with a bad variable and says which`, () => {
      const r = spawnSync(process.execPath, [join(repoRoot, 'services', service, 'dist', 'server.js')], {
        env: { ...process.env, HTTP_PORT: '99999', LOG_LEVEL: 'silent' },
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /HTTP_PORT must be <= 65535/);
    });
  }
});
