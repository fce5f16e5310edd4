/**
 * An answer's `confidence` is read from the detector's calibration map (model.json `confidence`,
 * fitted on validation by training/models/train.py fit_confidence), not from the raw score: the
 * fit, the map's validation, and the shipped detector answering through the real analyser.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analysisInput, createAnalyser, decide } from '@dfd/analysis';
import { normaliseUpload } from '@dfd/imaging';
import { editedProbability, readModelSpec, resolveModelDir, type ConfidenceMap } from '@dfd/model-runtime';
import { repoRoot, trainingPython } from '@dfd/test-support/processes';

const modelsDir = join(repoRoot, 'models');

describe('confidence from the calibration map', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dfd-confidence-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('reads P(edited) off the knots: straight lines between them, flat beyond the ends', () => {
    const map: ConfidenceMap = { prior_edited: 0.5, knots: [[0.2, 0.1], [0.6, 0.5], [0.9, 0.8]] };
    assert.equal(editedProbability(map, 0.05), 0.1);
    assert.ok(Math.abs(editedProbability(map, 0.4) - 0.3) < 1e-12);
    assert.ok(Math.abs(editedProbability(map, 0.75) - 0.65) < 1e-12);
    assert.equal(editedProbability(map, 0.99), 0.8);
    const rule = { threshold: 0.5, band: [0.35, 0.65] as [number, number], confidence: map };
    assert.equal(decide(0.1, rule).verdict, 'real');
    assert.ok(Math.abs(decide(0.1, rule).confidence - 0.9) < 1e-12);
    assert.ok(Math.abs(decide(0.3, { ...rule, band: [0.32, 0.65] }).confidence - 0.8) < 1e-12, 'real at 0.3: 1 - P(edited) = 0.8, not 0.7');
    assert.ok(Math.abs(decide(0.95, rule).confidence - 0.8) < 1e-12, 'edited at 0.95: P(edited) = 0.8, not 0.95');
    assert.ok(Math.abs(decide(0.4, rule).confidence - 0.7) < 1e-12, 'uncertain: the likelier side, P(real) = 0.7');
  });

  it('refuses a map that is not monotone or not in [0, 1]', () => {
    const spec = JSON.parse(readFileSync(join(resolveModelDir(modelsDir, 'detector'), 'model.json'), 'utf8'));
    const cases: Array<[unknown, RegExp]> = [
      [{ prior_edited: 0.5, knots: [] }, /non-empty list/],
      [{ prior_edited: 0.5, knots: [[0.2, 0.5], [0.6, 0.4]] }, /non-decreasing probabilities/],
      [{ prior_edited: 0.5, knots: [[0.6, 0.1], [0.6, 0.4]] }, /increasing scores/],
      [{ prior_edited: 0.5, knots: [[0.2, 1.5]] }, /both in \[0, 1\]/],
      [{ prior_edited: 1, knots: [[0.2, 0.5]] }, /prior_edited/],
    ];
    for (const [i, [confidence, why]] of cases.entries()) {
      const dir = join(tmp, `bad-${i}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...spec, confidence }));
      assert.throws(() => readModelSpec(dir), why);
    }
  });

  it('fits P(edited | score) non-decreasing, even odds at the threshold, whatever the split\'s mix of classes', () => {
    // 2,000 reals scoring uniformly in [0, 0.6], 200 edited faces in [0.4, 1]: on [0.4, 0.6] a
    // face is edited 9 % of the time in this mix; the likelihood ratio there is 1:1.
    const py = `
import json, sys
import numpy as np
sys.path.insert(0, "training/models")
from train import fit_confidence
rng = np.random.default_rng(3)
s = np.concatenate([rng.uniform(0, 0.6, 2000), rng.uniform(0.4, 1, 200)])
y = np.concatenate([np.zeros(2000), np.ones(200)])
print(json.dumps(fit_confidence(y, s, 0.5)))
print(json.dumps(fit_confidence(y, s, 0.8)))
print(json.dumps(fit_confidence(np.zeros(10), np.linspace(0, 1, 10), 0.5)))`;
    const r = spawnSync(trainingPython, ['-c', py], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const [atHalf, atHigh, oneClass] = r.stdout.trim().split('\n').map((l) => JSON.parse(l)) as [ConfidenceMap, ConfidenceMap, null];
    assert.equal(oneClass, null, 'no map without both classes');
    for (const [fit, threshold] of [[atHalf, 0.5], [atHigh, 0.8]] as const) {
      const k = fit.knots;
      for (let i = 1; i < k.length; i++) assert.ok(k[i]![0] > k[i - 1]![0] && k[i]![1] >= k[i - 1]![1], `knots ${JSON.stringify(k)}`);
      assert.equal(editedProbability(fit, threshold), 0.5, 'the threshold is the even-odds point');
      assert.ok(editedProbability(fit, 0.2) < 0.1, `well below the overlap: ${editedProbability(fit, 0.2)}`);
    }
    // At 0.5 (inside the overlap, likelihood ratio 1) the base rate is about even, not the split's 9 %.
    assert.ok(atHalf.prior_edited > 0.3 && atHalf.prior_edited < 0.7, `prior ${atHalf.prior_edited}`);
    assert.ok(editedProbability(atHalf, 0.9) > 0.9, `well above the overlap: ${editedProbability(atHalf, 0.9)}`);
    // At 0.8 (only edited faces score there) even odds need a base rate of edited photos far below one half.
    assert.ok(atHigh.prior_edited < atHalf.prior_edited / 3, `prior ${atHigh.prior_edited} vs ${atHalf.prior_edited}`);
  });

  it('the shipped detector carries a valid map, and the analyser answers with it', async () => {
    const spec = readModelSpec(resolveModelDir(modelsDir, 'detector'));
    assert.ok(spec.confidence, 'the shipped detector has a confidence map');
    assert.equal(editedProbability(spec.confidence, spec.threshold), 0.5, 'even odds at the shipped threshold');
    const loaded = await createAnalyser(modelsDir, { threads: 1, classify: 'local' });
    try {
      const rule = { threshold: spec.threshold, band: spec.uncertain_band };
      for (const file of ['loadtest/samples/portrait-720x960.jpg', 'loadtest/samples/photo-1280x960.jpg']) {
        const upload = await normaliseUpload(readFileSync(join(repoRoot, file)));
        const result = await loaded.analyser.analyse(upload.image, analysisInput(upload, { crop_faces: true }, file), 0);
        const p = editedProbability(spec.confidence, result.scores.edited);
        const expected = result.verdict === 'edited' ? p : result.verdict === 'real' ? 1 - p : Math.max(p, 1 - p);
        assert.ok(Math.abs(result.confidence - expected) < 1e-9, `${file}: confidence ${result.confidence}, map says ${expected} at score ${result.scores.edited}`);
        // The map changes the confidence, never the verdict.
        assert.equal(decide(result.scores.edited, rule).verdict, result.verdict);
      }
    } finally {
      await loaded.close();
    }
  });
});
