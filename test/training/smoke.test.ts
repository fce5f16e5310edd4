import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageClassifierModel, resolveModelDir } from '@dfd/model-runtime';
import { repoRoot, trainingPython } from '@dfd/test-support/processes';
import { BLUE, RED, colourImage } from '@dfd/test-support/images';
import { decodeToRgb } from '@dfd/imaging';
import { checkParity } from '@dfd/test-support/parity';

// The training pipeline must not rot: a handful of images, one epoch, a real ONNX export that
// the serving runtime loads and runs. Needs Debian's python3-torch (installed by .ci/run).
describe('smoke training run', () => {
  it('trains both models briefly and exports ONNX that onnxruntime-node serves', { timeout: 600_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'dfd-smoke-models-'));
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts/train.mjs'), '--smoke', out], { cwd: repoRoot, encoding: 'utf8', timeout: 590_000 });
    assert.equal(r.status, 0, `training failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    for (const name of ['detector', 'classifier']) {
      const model = await ImageClassifierModel.load(resolveModelDir(out, name), { threads: 1 });
      const imgs = await Promise.all([colourImage('jpeg', RED, 64, 1), colourImage('png', BLUE, 80, 2)].map(async (b) => decodeToRgb(await b)));
      const preds = await model.predict(imgs);
      assert.equal(preds.length, 2);
      for (const p of preds) {
        assert.ok(Math.abs(p.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5);
        assert.ok(p.cam && p.cam.values.length === p.cam.width * p.cam.height, 'the CAM output is exported');
      }
      await model.release();
      await checkParity(resolveModelDir(out, name));
    }

    // The int8 step promote.py --int8 runs (training/models/quantize.py), on a copy of the smoke detector.
    const floatDir = resolveModelDir(out, 'detector');
    const int8Dir = join(mkdtempSync(join(tmpdir(), 'dfd-smoke-int8-')), 'detector');
    cpSync(floatDir, int8Dir, { recursive: true });
    const q = spawnSync(trainingPython, [join(repoRoot, 'training/models/quantize.py'), '--model-dir', int8Dir, '--landmarks', join(out, 'landmarks.jsonl'),
      '--calib-n', '16', '--check-n', '24', '--max-auc-drop', '1', '--threads', '1'], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
    assert.equal(q.status, 0, `quantize.py failed:\n${q.stdout.slice(-2000)}\n${q.stderr.slice(-3000)}`);
    const spec = JSON.parse(readFileSync(join(int8Dir, 'model.json'), 'utf8'));
    const floatSpec = JSON.parse(readFileSync(join(floatDir, 'model.json'), 'utf8'));
    assert.equal(spec.quantization.float_sha256, floatSpec.sha256);
    assert.notEqual(spec.sha256, floatSpec.sha256);
    assert.equal(spec.quantization.check.validation_crops > 0, true, JSON.stringify(spec.quantization.check));
    const graph = readFileSync(join(int8Dir, spec.file)).toString('latin1');
    assert.ok(graph.includes('QuantizeLinear') && graph.includes('DequantizeLinear'), 'the network is in QDQ form');
    // Serving loads it (checksum included) and reproduces the int8 outputs recorded at quantisation.
    await checkParity(int8Dir);
    // On the same pictures the int8 network's scores stay near the float network's.
    const imgs = await Promise.all([colourImage('jpeg', RED, 64, 1), colourImage('png', BLUE, 80, 2)].map(async (b) => decodeToRgb(await b)));
    const [f32, i8] = await Promise.all([floatDir, int8Dir].map((d) => ImageClassifierModel.load(d, { threads: 1 })));
    const [pf, pq] = await Promise.all([f32!.predict(imgs), i8!.predict(imgs)]);
    for (let k = 0; k < imgs.length; k++) assert.ok(Math.abs(pf[k]!.probabilities[1]! - pq[k]!.probabilities[1]!) < 0.1, `image ${k}: float ${pf[k]!.probabilities[1]} int8 ${pq[k]!.probabilities[1]}`);
    await Promise.all([f32!.release(), i8!.release()]);

    // A cascade (model.json second_opinion): quantize.py turns its second network to int8 as well,
    // with the same check and its own parity block, which serving must reproduce.
    const cascadeDir = join(mkdtempSync(join(tmpdir(), 'dfd-smoke-int8-cascade-')), 'detector');
    cpSync(floatDir, cascadeDir, { recursive: true });
    cpSync(join(floatDir, floatSpec.file), join(cascadeDir, 'second.onnx'));
    const { batch: _batch, ...secondParity } = floatSpec.parity;
    writeFileSync(join(cascadeDir, 'model.json'), JSON.stringify({ ...floatSpec, second_opinion: { file: 'second.onnx', sha256: floatSpec.sha256, weight: 0.5, within: 1, parity: secondParity } }));
    const qc = spawnSync(trainingPython, [join(repoRoot, 'training/models/quantize.py'), '--model-dir', cascadeDir, '--landmarks', join(out, 'landmarks.jsonl'),
      '--calib-n', '16', '--check-n', '24', '--max-auc-drop', '1', '--threads', '1'], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
    assert.equal(qc.status, 0, `quantize.py (cascade) failed:\n${qc.stdout.slice(-2000)}\n${qc.stderr.slice(-3000)}`);
    const cspec = JSON.parse(readFileSync(join(cascadeDir, 'model.json'), 'utf8'));
    assert.equal(cspec.second_opinion.quantization.float_sha256, floatSpec.sha256);
    assert.notEqual(cspec.second_opinion.sha256, floatSpec.sha256);
    assert.ok(cspec.second_opinion.parity.reference, 'the second network\'s parity is onnxruntime\'s int8 outputs');
    assert.ok(readFileSync(join(cascadeDir, 'second.onnx')).toString('latin1').includes('DequantizeLinear'), 'the second network is in QDQ form');
    await checkParity(cascadeDir);

    // A shipped version's mirror window changed and nothing else (promote.py --from-version
    // --mirror-within): the served share and the confidence map come from an eval of the validation
    // split made with the new window, and an eval made with another window is refused.
    const shipped = mkdtempSync(join(tmpdir(), 'dfd-smoke-window-'));
    const withWindow = mkdtempSync(join(tmpdir(), 'dfd-smoke-window-eval-'));
    for (const name of ['detector', 'classifier']) {
      cpSync(resolveModelDir(out, name), join(shipped, name, '0.0.0-smoke'), { recursive: true });
      cpSync(resolveModelDir(out, name), join(withWindow, name, '0.0.0-smoke'), { recursive: true });
    }
    const evalSpec = join(withWindow, 'detector', '0.0.0-smoke', 'model.json');
    writeFileSync(evalSpec, JSON.stringify({ ...JSON.parse(readFileSync(evalSpec, 'utf8')), mirror_average: { within: 1 } }));
    const data = mkdtempSync(join(tmpdir(), 'dfd-smoke-window-data-'));
    const splitRows = ['file,split'];
    for (const [label, rgb] of [['real', BLUE], ['deepfake', RED]] as const) {
      mkdirSync(join(data, label, 'src'), { recursive: true });
      for (let i = 0; i < 3; i++) {
        writeFileSync(join(data, label, 'src', `${i}.png`), await colourImage('png', rgb, 64, i));
        splitRows.push(`${label}/src/${i}.png,val`);
      }
    }
    writeFileSync(join(data, 'split.csv'), splitRows.join('\n') + '\n');
    const prefix = join(data, 'val');
    const ev = spawnSync(process.execPath, [join(repoRoot, 'tools/eval/dist/main.js'), '--data', data, '--split-file', join(data, 'split.csv'), '--split', 'val',
      '--out', prefix, '--models', withWindow, '--no-crop', '--threads', '1'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(ev.status, 0, ev.stderr);
    const promote = (version: string, within: string) => spawnSync(trainingPython, [join(repoRoot, 'training/models/promote.py'), '--models', shipped,
      '--from-version', '0.0.0-smoke', '--version', version, '--mirror-within', within, '--confidence-from', prefix], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    const ok = promote('0.0.1-smoke', '1');
    assert.equal(ok.status, 0, `promote.py --mirror-within failed:\n${ok.stdout.slice(-2000)}\n${ok.stderr.slice(-3000)}`);
    const before = JSON.parse(readFileSync(join(shipped, 'detector', '0.0.0-smoke', 'model.json'), 'utf8'));
    const after = JSON.parse(readFileSync(join(shipped, 'detector', '0.0.1-smoke', 'model.json'), 'utf8'));
    assert.deepEqual(after.mirror_average, { within: 1 });
    assert.equal(after.calibration.val_share_mirrored, 1, 'every validation input took the mirrored run');
    assert.deepEqual([after.threshold, after.uncertain_band, after.sha256], [before.threshold, before.uncertain_band, before.sha256]);
    assert.equal(after.confidence.n, 6);
    await checkParity(join(shipped, 'detector', '0.0.1-smoke'));
    const refused = promote('0.0.2-smoke', '0.5');
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /not an eval made with mirror window 0\.5 \(it says 1\)/);
    assert.ok(!existsSync(join(shipped, 'detector', '0.0.2-smoke')), 'a refusal leaves no half-made version');

    // The paired synthetic test set without a run (paired_set.py): each test real beside its own
    // self-blend and retouch, with their masks, in a manifest the eval reads.
    const paired = join(mkdtempSync(join(tmpdir(), 'dfd-smoke-paired-')), 'set');
    const ps = spawnSync(trainingPython, [join(repoRoot, 'training/models/paired_set.py'), '--landmarks', join(out, 'landmarks.jsonl'), '--out', paired, '--n', '3'],
      { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
    assert.equal(ps.status, 0, `paired_set.py failed:\n${ps.stdout.slice(-2000)}\n${ps.stderr.slice(-3000)}`);
    const rows = readFileSync(join(paired, 'manifest.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    assert.ok(rows.length >= 3 && rows.length % 3 === 0, `${rows.length} rows`);
    const sources = rows.map((r) => r[2]);
    for (const kind of ['paired-real', 'paired-self-blend', 'paired-retouch']) assert.equal(sources.filter((x) => x === kind).length, rows.length / 3, kind);
    for (const r of rows) {
      assert.ok(existsSync(join(paired, r[0]!)), r[0]);
      if (r[2] !== 'paired-real') assert.ok(existsSync(join(paired, r[4]!)), `the edit's mask ${r[4]}`);
    }
  });
});
