/**
 * The served models' mirror averaging (model.json `mirror_average`), on real ONNX sessions: a
 * small model whose score depends on which side of the picture the red is, so a mirror moves it.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RgbImage } from '@dfd/imaging';
import { ImageClassifierModel } from '@dfd/model-runtime';
import { writeTinyModel } from '@dfd/test-support/tiny-onnx';

/** Red on the left `redLeft` of the width, blue on the rest. */
function split(redShare: number, size = 64, mirrored = false): RgbImage {
  const data = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const left = (mirrored ? size - 1 - x : x) < redShare * size;
      data.set(left ? [220, 40, 40] : [40, 40, 220], (y * size + x) * 3);
    }
  }
  return { width: size, height: size, data };
}

describe('mirror averaging near the threshold', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dfd-mirror-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const load = async (mirrorWithin?: number) =>
    ImageClassifierModel.load(writeTinyModel(join(dir, String(mirrorWithin ?? 0)), { name: 'detector', labels: ['real', 'edited'], positive: 'edited', ramp: true, gain: 0.8, mirrorWithin }), { threads: 1 });

  it('scores a face near the threshold the same whichever way it looks; faces far from it are run once', async () => {
    const plain = await load();
    const steady = await load(0.2);
    const near = [split(0.55), split(0.55, 64, true)];
    const [a, b] = await plain.predict(near);
    assert.ok(Math.abs(a!.score - b!.score) > 0.05, `the model is not mirror-symmetric (${a!.score.toFixed(3)} vs ${b!.score.toFixed(3)})`);
    assert.ok(Math.abs(a!.score - 0.5) <= 0.2 && Math.abs(b!.score - 0.5) <= 0.2, 'both within 0.2 of the threshold');
    const [sa, sb] = await steady.predict(near);
    assert.deepEqual(steady.usage, { inputs: 2, mirrored: 2, secondOpinion: 0 }, 'both paid the mirrored run');
    assert.ok(Math.abs(sa!.score - sb!.score) < 1e-6, `averaged: ${sa!.score} vs ${sb!.score}`);
    // The average of the two logits, i.e. sigmoid of the mean logit difference.
    const z = (p: number) => Math.log(p / (1 - p));
    const expected = 1 / (1 + Math.exp(-(z(a!.score) + z(b!.score)) / 2));
    assert.ok(Math.abs(sa!.score - expected) < 1e-5, `${sa!.score} vs ${expected}`);
    // The averaged map is the mean of the map and the mirrored map flipped back: symmetric in the pair.
    const flip = (v: number[], w: number) => v.map((_, i) => v[Math.floor(i / w) * w + (w - 1 - (i % w))]!);
    assert.deepEqual(sa!.cam!.values.map((v) => v.toFixed(5)), flip(sb!.cam!.values, sb!.cam!.width).map((v) => v.toFixed(5)));

    const far = split(0.05);
    const [p] = await plain.predict([far]);
    const [q] = await steady.predict([far]);
    assert.ok(Math.abs(p!.score - 0.5) > 0.2, `far from the threshold (${p!.score.toFixed(3)})`);
    assert.equal(q!.score, p!.score, 'outside the band the score is the single run');
    assert.deepEqual(steady.usage, { inputs: 3, mirrored: 2, secondOpinion: 0 }, 'the far face was run once');
    assert.equal(plain.usage.mirrored, 0);
    await plain.release();
    await steady.release();
  });

  it('refuses a model.json whose mirror_average is not a share in (0, 1]', async () => {
    await assert.rejects(load(1.5), /mirror_average.within must be a number in \(0, 1\]/);
  });
});
