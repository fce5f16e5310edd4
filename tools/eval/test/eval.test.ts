import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { binaryMetrics, reliability, rocAuc } from '../src/metrics.js';
import { repoRoot } from '@dfd/test-support/processes';
import { writeTinyModel, writeTinyModelSet } from '@dfd/test-support/tiny-onnx';
import { BLUE, RED, colourImage } from '@dfd/test-support/images';

describe('evaluation metrics', () => {
  it('computes ROC AUC with ties and degenerate cases', () => {
    assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
    assert.equal(rocAuc([0.5, 0.5], [0, 1]), 0.5);
    assert.equal(rocAuc([0.2, 0.3], [1, 1]), null);
  });
  it('counts the confusion matrix and the uncertain band', () => {
    const m = binaryMetrics([0.9, 0.2, 0.55, 0.45], [1, 0, 0, 1], 0.5, [0.4, 0.6]);
    assert.deepEqual(m.confusion, { tp: 1, fp: 1, tn: 1, fn: 1 });
    assert.equal(m.uncertain, 2);
    assert.equal(m.accuracy_decided, 1);
  });
  it('says whether stated confidence matches how often the verdict was right, at the stated base rate', () => {
    // 4 reals, 2 edited; weighted to a base rate of 1/3 every image weighs the same here.
    const rows = [
      { verdict: 'real' as const, confidence: 0.9, edited: 0 as const },
      { verdict: 'real' as const, confidence: 0.9, edited: 0 as const },
      { verdict: 'real' as const, confidence: 0.9, edited: 1 as const },
      { verdict: 'edited' as const, confidence: 0.7, edited: 1 as const },
      { verdict: 'uncertain' as const, confidence: 0.6, edited: 0 as const },
      { verdict: 'real' as const, confidence: 0.7, edited: 0 as const },
    ];
    const r = reliability(rows, 1 / 3);
    assert.equal(r.per_verdict.real.n, 4);
    assert.ok(Math.abs(r.per_verdict.real.stated! - 0.85) < 1e-9);
    assert.ok(Math.abs(r.per_verdict.real.observed! - 0.75) < 1e-9);
    assert.equal(r.per_verdict.edited.observed, 1);
    assert.equal(r.per_verdict.uncertain.observed, null);
    // Bins: 0.9 (3 answers, stated 0.9, right 2/3) and 0.7 (2 answers, stated 0.7, both right).
    assert.ok(Math.abs(r.ece_decided! - ((3 / 5) * Math.abs(0.9 - 2 / 3) + (2 / 5) * 0.3)) < 1e-9);
    // At an even base rate the one edited face among the `real` answers weighs twice as much.
    assert.ok(Math.abs(reliability(rows, 0.5).per_verdict.real.observed! - 0.6) < 1e-9);
  });
});

describe('npm run eval on a labelled folder', () => {
  it('writes JSON, Markdown and a ROC PNG with per-source figures', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfd-eval-'));
    const models = join(dir, 'models');
    writeTinyModelSet(models);
    const data = join(dir, 'data');
    const put = async (label: string, source: string, rgb: [number, number, number], n: number, fmt: 'jpeg' | 'png') => {
      mkdirSync(join(data, label, source), { recursive: true });
      for (let i = 0; i < n; i++) writeFileSync(join(data, label, source, `${i}.${fmt === 'jpeg' ? 'jpg' : 'png'}`), await colourImage(fmt, rgb, 48, i + label.length * 100));
    };
    await put('real', 'cam', BLUE, 4, 'jpeg');
    await put('deepfake', 'gan', RED, 3, 'png');
    await put('retouched', 'ps', RED, 2, 'jpeg');
    writeFileSync(join(data, 'real', 'cam', 'broken.jpg'), 'not an image');
    const out = join(dir, 'out', 'report');
    const r = spawnSync(process.execPath, [join(repoRoot, 'tools/eval/dist/main.js'), '--data', data, '--out', out, '--models', models, '--no-crop', '--threads', '1'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
    assert.equal(report.images, 9);
    assert.equal(report.failed.length, 1);
    assert.equal(report.detector.overall.roc_auc, 1);
    assert.equal(report.detector.overall.accuracy, 1);
    assert.equal(report.detector.per_source.gan.auc_vs_real, 1);
    // Perfectly separated on every resample; without a manifest each image is its own group.
    assert.deepEqual(report.detector.auc_intervals.overall, [1, 1]);
    assert.equal(report.detector.auc_intervals.unit, 'images');
    assert.equal(report.detector.auc_intervals.groups, 9);
    assert.equal(report.detector.per_source.cam.label, 'real');
    // The fixture classifier calls every red image retouched: right on ps, wrong on gan.
    assert.equal(report.classifier.per_source.ps.accuracy, 1);
    assert.equal(report.classifier.per_source.gan.accuracy, 0);
    assert.match(readFileSync(`${out}.md`, 'utf8'), /\| gan \| deepfake \| 3 \|/);
    // The fixture detector has no mirror averaging: one run per image.
    assert.deepEqual(report.serving, { mirror_within: null, detector_inputs: 9, mirrored_share: 0, second_opinion_share: 0 });
    assert.ok(existsSync(`${out}-roc.png`));
    assert.deepEqual([...readFileSync(`${out}-roc.png`).subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
    // Every judged image's served score, one line each (the unreadable file is not among them).
    const lines = readFileSync(`${out}-scores.csv`, 'utf8').trim().split('\n');
    assert.equal(lines[0], 'file,label,source,group,edited,verdict,confidence');
    assert.equal(lines.length, 1 + 9);
    for (const l of lines.slice(1)) {
      const [file, label, source, group, edited, verdict, confidence] = l.split(',');
      assert.equal(group, '', 'a folder dataset names no groups');
      // The fixture detector has no confidence map: the score itself, for the verdict's side.
      assert.ok(Math.abs(Number(confidence) - (verdict === 'edited' ? Number(edited) : 1 - Number(edited))) < 1e-5, l);
      assert.ok(!file!.includes('broken'));
      assert.equal(Number(edited) >= report.threshold, label !== 'real', l);
      assert.equal(verdict, label === 'real' ? 'real' : 'edited', l);
      assert.ok(['cam', 'gan', 'ps'].includes(source!));
    }
  });
  it('reports each edited source against its own domain\'s reals beside all reals (--domains)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfd-eval-domains-'));
    const models = join(dir, 'models');
    writeTinyModelSet(models);
    const data = join(dir, 'data');
    const put = async (label: string, source: string, rgb: [number, number, number], n: number) => {
      mkdirSync(join(data, label, source), { recursive: true });
      for (let i = 0; i < n; i++) writeFileSync(join(data, label, source, `${i}.png`), await colourImage('png', rgb, 48, i + source.length * 100));
    };
    // The fixture detector scores red high and blue low: a red real source scores like the fakes.
    await put('real', 'cam', BLUE, 2);
    await put('real', 'redcam', RED, 2);
    await put('deepfake', 'gan', RED, 2);
    const domains = join(dir, 'domains.json');
    writeFileSync(domains, JSON.stringify({ domains: { gan: ['cam'], other: ['redcam'] } }));
    const out = join(dir, 'out', 'report');
    const r = spawnSync(process.execPath, [join(repoRoot, 'tools/eval/dist/main.js'), '--data', data, '--out', out, '--models', models, '--no-crop', '--threads', '1', '--domains', domains], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const gan = JSON.parse(readFileSync(`${out}.json`, 'utf8')).detector.per_source.gan;
    assert.ok(gan.auc_vs_real <= 0.75, `against all reals the red reals score like the fakes (${gan.auc_vs_real})`);
    assert.equal(gan.auc_vs_domain_real, 1);
    assert.deepEqual(gan.domain_reals, ['cam']);
    const missing = spawnSync(process.execPath, [join(repoRoot, 'tools/eval/dist/main.js'), '--data', data, '--models', models, '--domains', join(dir, 'nope.json')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--domains .*nope\.json: no such file/);
  });
  it('reports how many of the scored faces paid the mirrored run (what a face costs as served)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfd-eval-mirror-'));
    const models = join(dir, 'models');
    writeTinyModel(models, { name: 'detector', labels: ['real', 'edited'], positive: 'edited', mirrorWithin: 1 });
    writeTinyModel(models, { name: 'classifier', labels: ['deepfake', 'retouched'], positive: 'retouched' });
    const data = join(dir, 'data');
    for (const [label, rgb] of [['real', BLUE], ['deepfake', RED]] as const) {
      mkdirSync(join(data, label, 'src'), { recursive: true });
      for (let i = 0; i < 2; i++) writeFileSync(join(data, label, 'src', `${i}.png`), await colourImage('png', rgb, 48, i));
    }
    const out = join(dir, 'out', 'report');
    const r = spawnSync(process.execPath, [join(repoRoot, 'tools/eval/dist/main.js'), '--data', data, '--out', out, '--models', models, '--no-crop', '--threads', '1'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    // A window of 1 takes every face: each was run twice.
    assert.deepEqual(JSON.parse(readFileSync(`${out}.json`, 'utf8')).serving, { mirror_within: 1, detector_inputs: 4, mirrored_share: 1, second_opinion_share: 0 });
    assert.match(readFileSync(`${out}.md`, 'utf8'), /100\.0 % of them were run again mirrored \(model\.json mirror window 1\): 2\.00 runs/);
  });
});
