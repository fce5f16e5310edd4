// Measures where faces sit in faces-v1 images (256x256 centre crops): detector box, the five
// alignment points (eye centres, nose tip, mouth corners), inter-ocular distance and roll, per
// source. The pooled per-source-median of the five points is the canonical template of
// packages/face/src/template.ts, so an aligned crop of a face in a larger photo is framed like a
// faces-v1 image.
//
//   node training/faceport/measure-framing.mjs [--per-source 60] [--out .cache/faceport/framing.json]
// Needs `node node_modules/typescript/bin/tsc -b packages/face` first.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { manifestRecords } from '../../tools/eval/dist/dataset.js';

const root = resolve(import.meta.dirname, '../..');
const { decodeToRgb } = await import(resolve(root, 'packages/imaging/dist/index.js'));
const { FaceStage, fivePoints } = await import(resolve(root, 'packages/face/dist/index.js'));
const { values: args } = parseArgs({
  options: {
    'per-source': { type: 'string', default: '60' },
    out: { type: 'string', default: resolve(root, '.cache/faceport/framing.json') },
    dataset: { type: 'string', default: resolve(root, '../shared/datasets/faces-v1') },
  },
});

const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const r3 = (v) => Math.round(v * 1000) / 1000;

const bySource = new Map();
for (const { file, source } of manifestRecords(resolve(args.dataset))) { (bySource.get(source) ?? bySource.set(source, []).get(source)).push(file); }
const per = Number(args['per-source']);
const stage = await FaceStage.load(resolve(root, 'models'), { threads: 1 });
const result = { perSource: {}, template: null };
const templates = [];
for (const [source, files] of [...bySource].sort()) {
  const step = Math.max(1, Math.floor(files.length / per));
  const rows = [];
  for (const file of files.filter((_, i) => i % step === 0).slice(0, per)) {
    const img = await decodeToRgb(resolve(args.dataset, file));
    const faces = await stage.detect(img);
    if (!faces.length) continue;
    const f = faces[0];
    const W = img.width;
    const pts = fivePoints(f.landmarks).map(([x, y]) => [x / W, y / W]);
    const [le, re] = pts;
    rows.push({
      pts,
      boxW: f.box.width / W, boxH: f.box.height / W, boxCx: (f.box.x + f.box.width / 2) / W, boxCy: (f.box.y + f.box.height / 2) / W,
      iod: Math.hypot(re[0] - le[0], re[1] - le[1]),
      roll: (Math.atan2(re[1] - le[1], re[0] - le[0]) * 180) / Math.PI,
      eyeMidX: (le[0] + re[0]) / 2, eyeMidY: (le[1] + re[1]) / 2,
      eyeMouth: Math.hypot((pts[3][0] + pts[4][0]) / 2 - (le[0] + re[0]) / 2, (pts[3][1] + pts[4][1]) / 2 - (le[1] + re[1]) / 2),
    });
  }
  const m = (k) => r3(median(rows.map((r) => r[k])));
  const tpl = [0, 1, 2, 3, 4].map((i) => [r3(median(rows.map((r) => r.pts[i][0]))), r3(median(rows.map((r) => r.pts[i][1])))]);
  templates.push(tpl);
  result.perSource[source] = {
    n: rows.length, boxW: m('boxW'), boxH: m('boxH'), boxCx: m('boxCx'), boxCy: m('boxCy'), iod: m('iod'),
    eyeMidX: m('eyeMidX'), eyeMidY: m('eyeMidY'), eyeMouth: m('eyeMouth'), rollAbsDeg: r3(median(rows.map((r) => Math.abs(r.roll)))), template: tpl,
  };
  console.log(source.padEnd(20), JSON.stringify(result.perSource[source]));
}
// pooled: median over sources (each source weighted equally), then made left/right symmetric
const pooled = [0, 1, 2, 3, 4].map((i) => [0, 1].map((c) => median(templates.map((t) => t[i][c]))));
const sym = (a, b) => { const cx = 0.5; const dx = ((cx - a[0]) + (b[0] - cx)) / 2; const y = (a[1] + b[1]) / 2; return [[r3(cx - dx), r3(y)], [r3(cx + dx), r3(y)]]; };
const [le, re] = sym(pooled[0], pooled[1]);
const [ml, mr] = sym(pooled[3], pooled[4]);
result.template = [le, re, [0.5, r3(pooled[2][1])], ml, mr];
result.templateIod = r3(re[0] - le[0]);
console.log('TEMPLATE', JSON.stringify(result.template), 'iod', result.templateIod);
mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(args.out, JSON.stringify(result, null, 1) + '\n');
