import sharp from 'sharp';
import type { BinaryMetrics, ReliabilityFigures } from './metrics.js';
import type { Row } from './evaluate.js';
import type { TransformName } from './transforms.js';
import { csvField } from './csv.js';

export interface EvalReport {
  dataset: string;
  split: string | null;
  crop_faces: boolean;
  models: Array<{ name: string; version: string; sha256: string }>;
  threshold: number;
  uncertain_band: [number, number];
  images: number;
  failed: Array<{ file: string; error: string }>;
  detector: {
    overall: BinaryMetrics;
    /** How precise the AUCs are: 95 % intervals from a bootstrap over groups (bootstrap.ts). */
    auc_intervals: AucIntervals;
    per_source: Record<string, BinaryMetrics & { auc_vs_real: number | null; auc_vs_domain_real: number | null; domain_reals: string[] | null; label: string; false_positive_rate: number | null; pointing_game: number | null }>;
  };
  classifier: { scope: string; accuracy: number | null; n: number; per_source: Record<string, { accuracy: number | null; n: number }> };
  /** Whether the answers' confidence means what it says (metrics.reliability). */
  confidence: ReliabilityFigures;
  sharp_real: { quartile_threshold: number; n: number; false_positive_rate: number | null; false_positive_rate_canvas: number | null } | null;
  pointing_game: { n: number; hit_rate: number } | null;
  /** transform -> source (or 'all') -> figures. */
  robustness: Record<string, Record<string, RobustnessFigures>> | null;
  faces: { images_with_face: number; share: number } | null;
  /** What the detector's postprocessing ran (ImageClassifierModel.usage): the served cost per face. */
  serving: ServingFigures;
  seconds: number;
}

export interface AucIntervals {
  level: number;
  resamples: number;
  /** What was resampled: the manifests' groups (videos, sitters), or single images where none is given. */
  unit: string;
  groups: number;
  overall: [number, number] | null;
  /** Edited sources: the interval of the AUC against all reals. */
  per_source: Record<string, [number, number] | null>;
}

export interface ServingFigures {
  /** model.json mirror_average.within, null without mirror averaging. */
  mirror_within: number | null;
  /** Faces (or whole images) the detector scored, the robustness transforms' included. */
  detector_inputs: number;
  /** Shares of them run again mirrored and through a second network. */
  mirrored_share: number | null;
  second_opinion_share: number | null;
}

export interface RobustnessFigures {
  n: number;
  /** Share of images whose verdict changed. */
  flip_rate: number | null;
  median_abs_delta: number | null;
  /** Real sources: false-positive rate after the transform. */
  false_positive_rate: number | null;
}

const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)} %`);
const num = (v: number | null) => (v === null ? 'n/a' : v.toFixed(3));
const interval = (v: [number, number] | null | undefined) => (v ? ` (${v[0].toFixed(3)}–${v[1].toFixed(3)})` : '');

export function toMarkdown(r: EvalReport): string {
  const o = r.detector.overall;
  const lines = [
    `# Evaluation: ${r.dataset}${r.split ? ` (split: ${r.split})` : ''}`,
    '',
    `Models: ${r.models.map((m) => `${m.name} ${m.version} (${m.sha256.slice(0, 12)})`).join(', ')}. Face cropping: ${r.crop_faces ? 'on' : 'off'}. ` +
      `Threshold ${r.threshold}, uncertain band [${r.uncertain_band.join(', ')}]. ${r.images} images, ${r.failed.length} unreadable, ${r.seconds.toFixed(1)} s.`,
    '',
    '## Detector: real vs edited',
    '',
    '| metric | value |',
    '|---|---|',
    `| ROC AUC (95 % interval) | ${num(o.roc_auc)}${interval(r.detector.auc_intervals?.overall)} |`,
    `| accuracy | ${pct(o.accuracy)} |`,
    `| precision | ${pct(o.precision)} |`,
    `| recall | ${pct(o.recall)} |`,
    `| F1 | ${num(o.f1)} |`,
    `| uncertain answers | ${o.uncertain} (${pct(o.n ? o.uncertain / o.n : null)}) |`,
    `| accuracy without uncertain | ${pct(o.accuracy_decided)} |`,
    `| confusion (tp/fp/tn/fn) | ${o.confusion.tp} / ${o.confusion.fp} / ${o.confusion.tn} / ${o.confusion.fn} |`,
    '',
    '### Per source',
    '',
    `Weakest first (lowest accuracy). AUC intervals: 95 %, from ${r.detector.auc_intervals?.resamples ?? 0} resamples of the ` +
      `${r.detector.auc_intervals?.groups ?? 0} ${r.detector.auc_intervals?.unit ?? 'images'} (an image's group: its video or sitter, as the manifest says).`,
    '',
    '| source | label | n | accuracy | AUC vs all reals (95 % interval) | AUC vs own-domain reals | false positives | uncertain | pointing game |',
    '|---|---|---|---|---|---|---|---|---|',
    ...Object.entries(r.detector.per_source)
      .sort((a, b) => (a[1].accuracy ?? 0) - (b[1].accuracy ?? 0))
      .map(([s, m]) => `| ${s} | ${m.label} | ${m.n} | ${pct(m.accuracy)} | ${num(m.auc_vs_real)}${interval(r.detector.auc_intervals?.per_source[s])} | ${m.domain_reals ? `${num(m.auc_vs_domain_real)} (${m.domain_reals.join(', ')})` : '–'} | ${pct(m.false_positive_rate)} | ${m.uncertain} | ${pct(m.pointing_game)} |`),
    '',
    '## Classifier: deepfake vs retouched',
    '',
    `Accuracy ${pct(r.classifier.accuracy)} on ${r.classifier.n} images (${r.classifier.scope}).`,
    '',
    '| source | n | accuracy |',
    '|---|---|---|',
    ...Object.entries(r.classifier.per_source).map(([s, m]) => `| ${s} | ${m.n} | ${pct(m.accuracy)} |`),
    '',
  ];
  const c = r.confidence;
  lines.push('## Confidence', '', 'Does an answer\'s `confidence` mean what it says? Per verdict: the mean stated confidence and how often the ' +
    `verdict's side was right, both with the classes weighted to the share of edited photos the confidence assumes (${pct(c.prior_edited)}).`, '',
    '| verdict | n | stated | observed |', '|---|---|---|---|',
    ...(['real', 'edited', 'uncertain'] as const).map((v) => `| ${v} | ${c.per_verdict[v].n} | ${pct(c.per_verdict[v].stated)} | ${v === 'uncertain' ? '–' : pct(c.per_verdict[v].observed)} |`),
    '', `Expected calibration error of the decided answers (10 bins): ${num(c.ece_decided)}.`, '');
  if (r.sharp_real) {
    lines.push('## Sharpest real photos', '', `False-positive rate on the sharpest quarter of real images (Laplacian variance ≥ ${r.sharp_real.quartile_threshold.toFixed(0)}, n = ${r.sharp_real.n}): ${pct(r.sharp_real.false_positive_rate)}` +
      (r.sharp_real.false_positive_rate_canvas === null ? '.' : `; placed on a plain canvas twice the size: ${pct(r.sharp_real.false_positive_rate_canvas)}.`), '');
  }
  if (r.pointing_game) lines.push('## Pointing game', '', `The hottest heatmap cell falls inside the edit mask in ${pct(r.pointing_game.hit_rate)} of ${r.pointing_game.n} edited images.`, '');
  if (r.robustness) {
    lines.push('## Robustness', '', 'Per transform and source: verdict flip rate / median |Δscore| (real sources: false-positive rate after the transform).', '');
    const transforms = Object.keys(r.robustness);
    lines.push(`| source | ${transforms.join(' | ')} |`, `|---|${transforms.map(() => '---').join('|')}|`);
    for (const source of Object.keys(r.robustness[transforms[0]!]!)) {
      lines.push(`| ${source} | ${transforms.map((t) => {
        const f = r.robustness![t]![source]!;
        return `${pct(f.flip_rate)} / ${num(f.median_abs_delta)}${f.false_positive_rate === null ? '' : ` (FP ${pct(f.false_positive_rate)})`}`;
      }).join(' | ')} |`);
    }
    lines.push('');
  }
  const sv = r.serving;
  lines.push('## Serving cost', '', `The detector scored ${sv.detector_inputs} inputs` + (sv.mirror_within === null ? ' without mirror averaging' :
    `; ${pct(sv.mirrored_share)} of them were run again mirrored (model.json mirror window ${sv.mirror_within})`) +
    (sv.second_opinion_share ? `; ${pct(sv.second_opinion_share)} went to the second network` : '') +
    `: ${(1 + (sv.mirrored_share ?? 0)).toFixed(2)} runs of its network per input.`, '');
  if (r.faces) lines.push('## Face stage', '', `A face was found in ${r.faces.images_with_face} of ${r.images} images (${pct(r.faces.share)}).`, '');
  if (r.failed.length) lines.push('## Unreadable files', '', ...r.failed.slice(0, 20).map((f) => `- ${f.file}: ${f.error}`), '');
  return lines.join('\n');
}

/** ROC curve as a PNG, drawn as SVG and rasterised by sharp (librsvg). */
export async function rocPng(curves: Array<{ name: string; points: Array<[number, number]>; auc: number | null }>): Promise<Buffer> {
  const size = 480;
  const pad = 50;
  const plot = size - 2 * pad;
  const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
  const paths = curves.map((c, i) => {
    const step = Math.max(1, Math.floor(c.points.length / 800));
    const d = c.points
      .filter((_, k) => k % step === 0 || k === c.points.length - 1)
      .map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${(pad + x * plot).toFixed(1)},${(size - pad - y * plot).toFixed(1)}`)
      .join(' ');
    return `<path d="${d}" fill="none" stroke="${colours[i % colours.length]}" stroke-width="2"/>` +
      `<text x="${pad + plot - 10}" y="${size - pad - 12 - i * 16}" font-size="12" text-anchor="end" fill="${colours[i % colours.length]}" font-family="sans-serif">${c.name} AUC ${c.auc === null ? 'n/a' : c.auc.toFixed(3)}</text>`;
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">
<rect width="100%" height="100%" fill="white"/>
<rect x="${pad}" y="${pad}" width="${plot}" height="${plot}" fill="none" stroke="#333"/>
<line x1="${pad}" y1="${size - pad}" x2="${pad + plot}" y2="${pad}" stroke="#aaa" stroke-dasharray="4 4"/>
<text x="${size / 2}" y="${size - 15}" font-size="13" text-anchor="middle" font-family="sans-serif">false positive rate</text>
<text x="15" y="${size / 2}" font-size="13" text-anchor="middle" font-family="sans-serif" transform="rotate(-90 15 ${size / 2})">true positive rate</text>
<text x="${size / 2}" y="30" font-size="14" text-anchor="middle" font-family="sans-serif">ROC: real vs edited</text>
${paths.join('\n')}
</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/**
 * One line per judged image: its served image-level score and verdict, and the same under each
 * robustness transform, for looking into what the summary figures are made of (which images
 * flip, which sources sit near the threshold) and comparing two model versions image by image.
 */
export function scoresCsv(rows: Row[]): string {
  const transforms = [...new Set(rows.flatMap((r) => Object.keys(r.transformed)))].sort() as TransformName[];
  const head = ['file', 'label', 'source', 'group', 'edited', 'verdict', 'confidence', ...transforms.flatMap((t) => [`edited@${t}`, `verdict@${t}`])];
  const lines = rows.map((r) => [
    csvField(r.sample.file), r.sample.label, csvField(r.sample.source), csvField(r.sample.group ?? ''), r.edited.toFixed(6), r.verdict, r.confidence.toFixed(6),
    ...transforms.flatMap((t) => [r.transformed[t]?.edited.toFixed(6) ?? '', r.transformed[t]?.verdict ?? '']),
  ].join(','));
  return [head.join(','), ...lines].join('\n') + '\n';
}
