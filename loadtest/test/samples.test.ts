import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { normaliseUpload } from '@dfd/imaging';
import { analysisId } from '@dfd/jobs';
import { variant, capacity, type SampleMeta } from '../k6/variants.js';
import { samplesDir } from '../src/samples.js';

const manifest = JSON.parse(readFileSync(join(samplesDir, 'manifest.json'), 'utf8')) as SampleMeta[];

test('the committed samples are of several formats and sizes, each of realistic upload size (50-500 KB, long side >= 640 px)', async () => {
  assert.ok(manifest.length >= 4);
  assert.ok(new Set(manifest.map((m) => m.format)).size >= 4);
  assert.ok(new Set(manifest.map((m) => `${m.width}x${m.height}`)).size >= 4);
  for (const m of manifest) {
    const buf = readFileSync(join(samplesDir, m.file));
    assert.equal(buf.length, m.bytes, m.file);
    assert.ok(buf.length >= 50 * 1024 && buf.length <= 500 * 1024, `${m.file} is ${buf.length} bytes`);
    const info = await sharp(buf).metadata();
    assert.equal(`${info.width}x${info.height}`, `${m.width}x${m.height}`, m.file);
    assert.ok(Math.max(m.width, m.height) >= 640, `${m.file} is ${m.width}x${m.height}`);
    assert.ok(capacity(m) >= 2 ** 24, `${m.file} has ${capacity(m)} variants`);
  }
});

test('every variant decodes, and distinct variants are distinct analyses', async () => {
  for (const m of manifest) {
    const template = new Uint8Array(readFileSync(join(samplesDir, m.file)));
    const ids = new Set<string>();
    // Neighbours (differ in the lowest digit only), far-apart values and the wrap-around.
    const ns = [0, 1, 2, 3, 15, 16, 17, 255, 256, 4096, 65_535, 65_536, 1_000_003, 2 ** 24 - 1, 123_456_789];
    for (const n of ns) {
      const buf = Buffer.from(variant(template, m, n));
      const up = await normaliseUpload(buf);
      assert.equal(up.format, m.format);
      ids.add(analysisId(up.image.data, up.image.width, up.image.height, { crop_faces: true }));
    }
    assert.equal(ids.size, ns.length, `${m.file}: ${ids.size} distinct of ${ns.length}`);
  }
});
