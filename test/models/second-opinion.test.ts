/**
 * The served models' second opinion (model.json `second_opinion`), on real ONNX sessions: a
 * colour-balance detector whose near-threshold answers are blended with a second network that
 * reads the picture differently (a left-to-right ramp), and nothing else is.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RgbImage } from '@dfd/imaging';
import { ImageClassifierModel, ortUsage } from '@dfd/model-runtime';
import { writeTinyModel } from '@dfd/test-support/tiny-onnx';

/** Red on the left `redShare` of the width, blue on the rest. */
function split(redShare: number, size = 64): RgbImage {
  const data = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) data.set(x < redShare * size ? [220, 40, 40] : [40, 40, 220], (y * size + x) * 3);
  }
  return { width: size, height: size, data };
}

/** The image mirrored left to right. */
function mirror(image: RgbImage): RgbImage {
  const { width, height, data } = image;
  const out = Buffer.alloc(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.copy(out, (y * width + width - 1 - x) * 3, (y * width + x) * 3, (y * width + x) * 3 + 3);
  }
  return { width, height, data: out };
}

const z = (p: number) => Math.log(p / (1 - p));
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

describe('second opinion near the threshold', () => {
  const root = mkdtempSync(join(tmpdir(), 'dfd-second-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const first = writeTinyModel(join(root, 'first'), { name: 'detector', labels: ['real', 'edited'], positive: 'edited', gain: 0.8 });
  const secondDir = writeTinyModel(join(root, 'second'), { name: 'detector', labels: ['real', 'edited'], positive: 'edited', gain: 3, ramp: true });

  /** The first model's folder with the second network beside it and `second_opinion` in its model.json. */
  const cascade = (tag: string, opinion: Record<string, unknown>, sha?: string): string => {
    const dir = writeTinyModel(join(root, tag), { name: 'detector', labels: ['real', 'edited'], positive: 'edited', gain: 0.8 });
    copyFileSync(join(secondDir, 'model.onnx'), join(dir, 'second.onnx'));
    const spec = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const secondSpec = JSON.parse(readFileSync(join(secondDir, 'model.json'), 'utf8'));
    spec.second_opinion = { file: 'second.onnx', sha256: sha ?? secondSpec.sha256, ...opinion };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(spec));
    return dir;
  };

  it('blends the two networks by weight where the first scores near the threshold, and runs the second on those inputs only', async () => {
    const plain = await ImageClassifierModel.load(first, { threads: 1 });
    const other = await ImageClassifierModel.load(secondDir, { threads: 1 });
    const served = await ImageClassifierModel.load(cascade('blend', { weight: 0.4, within: 0.2 }), { threads: 1 });
    const near = split(0.55);
    const far = split(0.02);
    const [a, fa] = await plain.predict([near, far]);
    const [b] = await other.predict([near]);
    assert.ok(Math.abs(a!.score - 0.5) <= 0.2, `near the threshold (${a!.score.toFixed(3)})`);
    assert.ok(Math.abs(fa!.score - 0.5) > 0.2, `far from it (${fa!.score.toFixed(3)})`);
    assert.ok(Math.abs(z(b!.score) - z(a!.score)) > 0.5, `the second network reads the picture differently (${a!.score.toFixed(3)} vs ${b!.score.toFixed(3)})`);

    const secondRuns = () => [...(ortUsage().get('detector@0.0.1-test/second.onnx')?.runs.values() ?? [])].reduce((x, y) => x + y, 0);
    const before = secondRuns();
    const [s, fs] = await served.predict([near, far]);
    assert.equal(secondRuns() - before, 1, 'one run of the second network, for one input of the batch');
    // Logits blend linearly, so the served logit difference is the weighted mean of the two.
    const expected = sigmoid(0.6 * z(a!.score) + 0.4 * z(b!.score));
    assert.ok(Math.abs(s!.score - expected) < 1e-5, `${s!.score} vs ${expected}`);
    assert.equal(fs!.score, fa!.score, 'outside the window the score is the first network alone');
    assert.notDeepEqual(s!.cam!.values, a!.cam!.values, 'the map is blended too');
    await Promise.all([plain.release(), other.release(), served.release()]);
  });

  it('with mirror_average, judges the near-threshold input through the second network plain and mirrored and blends their mean', async () => {
    const plain = await ImageClassifierModel.load(first, { threads: 1 });
    const other = await ImageClassifierModel.load(secondDir, { threads: 1 });
    const served = await ImageClassifierModel.load(cascade('blend-mirrored', { weight: 0.4, within: 0.2, mirror_average: true }), { threads: 1 });
    const near = split(0.55);
    const [a] = await plain.predict([near]);
    const [b, bm] = await other.predict([near, mirror(near)]);
    assert.ok(Math.abs(z(b!.score) - z(bm!.score)) > 0.5, `the second network reads the mirror image differently (${b!.score.toFixed(3)} vs ${bm!.score.toFixed(3)})`);

    const secondRuns = () => [...(ortUsage().get('detector@0.0.1-test/second.onnx')?.runs.values() ?? [])].reduce((x, y) => x + y, 0);
    const before = secondRuns();
    const [s] = await served.predict([near]);
    assert.equal(secondRuns() - before, 2, 'the second network runs on the input and on its mirror image');
    const expected = sigmoid(0.6 * z(a!.score) + 0.4 * (z(b!.score) + z(bm!.score)) / 2);
    assert.ok(Math.abs(s!.score - expected) < 1e-5, `${s!.score} vs ${expected}`);
    // Mirroring the upload gives the same verdict: the first network's score is the same for a
    // colour balance, and the second's is the same pair of runs in the other order.
    const [sm] = await served.predict([mirror(near)]);
    assert.ok(Math.abs(sm!.score - s!.score) < 1e-5, `mirrored upload ${sm!.score} vs ${s!.score}`);
    await Promise.all([plain.release(), other.release(), served.release()]);
  });

  it('with mirror_average, decides the window on the score after the first model\'s own mirror step', async () => {
    // A first model that reads the picture through a left-to-right ramp, mirror-averaged on every
    // input: half red, half blue scores far from the threshold plain, and exactly on it averaged
    // (the ramp and its mirror image sum to a constant).
    const rampFirst = (tag: string, secondMirror: boolean): string => {
      const dir = writeTinyModel(join(root, tag), { name: 'detector', labels: ['real', 'edited'], positive: 'edited', gain: 3, ramp: true });
      copyFileSync(join(first, 'model.onnx'), join(dir, 'second.onnx'));
      const spec = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      const firstSpec = JSON.parse(readFileSync(join(first, 'model.json'), 'utf8'));
      spec.mirror_average = { within: 1 };
      spec.second_opinion = { file: 'second.onnx', sha256: firstSpec.sha256, weight: 0.4, within: 0.1, ...(secondMirror ? { mirror_average: true } : {}) };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(spec));
      return dir;
    };
    const half = split(0.5);
    const ramp = await ImageClassifierModel.load(writeTinyModel(join(root, 'ramp-alone'), { name: 'detector', labels: ['real', 'edited'], positive: 'edited', gain: 3, ramp: true }), { threads: 1 });
    const [r] = await ramp.predict([half]);
    assert.ok(Math.abs(r!.score - 0.5) > 0.1, `plain score far from the threshold (${r!.score.toFixed(3)})`);
    const runsOf = (label: string) => () => [...(ortUsage().get(label)?.runs.values() ?? [])].reduce((x, y) => x + y, 0);
    for (const [tag, secondMirror, expectedRuns] of [['ramp-plain-window', false, 0], ['ramp-mirrored-window', true, 2]] as const) {
      const model = await ImageClassifierModel.load(rampFirst(tag, secondMirror), { threads: 1 });
      const secondRuns = runsOf(`detector@0.0.1-test/second.onnx`);
      const before = secondRuns();
      const [p] = await model.predict([half]);
      assert.ok(Math.abs(p!.score - 0.5) < 0.05, `served score near the threshold (${p!.score.toFixed(3)})`);
      assert.equal(secondRuns() - before, expectedRuns, `${tag}: second network runs`);
      await model.release();
    }
    await ramp.release();
  });

  it('refuses a second network whose checksum or settings do not match model.json', async () => {
    await assert.rejects(ImageClassifierModel.load(cascade('bad-sha', { weight: 0.4, within: 0.2 }, 'a'.repeat(64)), { threads: 1 }), /second\.onnx: sha256 [0-9a-f]+ does not match model\.json second_opinion/);
    await assert.rejects(ImageClassifierModel.load(cascade('bad-weight', { weight: 1.2, within: 0.2 }), { threads: 1 }), /second_opinion\.weight must be a number in \(0, 1\)/);
    await assert.rejects(ImageClassifierModel.load(cascade('bad-within', { weight: 0.4, within: 0 }), { threads: 1 }), /second_opinion\.within must be a number in \(0, 1\]/);
    await assert.rejects(ImageClassifierModel.load(cascade('bad-mirror', { weight: 0.4, within: 0.2, mirror_average: 'yes' }), { threads: 1 }), /second_opinion\.mirror_average must be true or false/);
  });
});
