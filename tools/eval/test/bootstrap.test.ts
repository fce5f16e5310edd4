import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { groupBootstrap, percentileInterval, weightedAuc } from '../src/bootstrap.js';
import { compareScores, readScores, type ScoreLine } from '../src/compare.js';
import { rocAuc } from '../src/metrics.js';
import { repoRoot } from '@dfd/test-support/processes';

/** Seeded pseudo-random numbers for the fixtures (not the bootstrap's own). */
function lcg(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
}

const width = (v: [number, number] | null) => (v ? v[1] - v[0] : NaN);

describe('AUC intervals from a bootstrap over groups', () => {
  it('weighs rows: unit weights give rocAuc, integer weights give rocAuc of the rows repeated', () => {
    const next = lcg(7);
    // Scores on a coarse grid, so ties occur across the classes.
    const scores = Array.from({ length: 60 }, () => Math.round(next() * 10) / 10);
    const labels = scores.map((s) => (next() < 0.3 + 0.4 * s ? 1 : 0));
    const all = scores.map((_, i) => i);
    const auc = weightedAuc(scores, labels, all);
    assert.ok(Math.abs(auc(new Float64Array(60).fill(1))! - rocAuc(scores, labels)!) < 1e-12);
    const w = Float64Array.from(scores, () => Math.floor(next() * 3));
    const repeated = all.flatMap((i) => Array(w[i]!).fill(i) as number[]);
    const expected = rocAuc(repeated.map((i) => scores[i]!), repeated.map((i) => labels[i]!));
    assert.ok(Math.abs(auc(w)! - expected!) < 1e-12, `${auc(w)} vs ${expected}`);
    // A subset is judged on its own rows only.
    const firstHalf = all.slice(0, 30);
    assert.ok(Math.abs(weightedAuc(scores, labels, firstHalf)(new Float64Array(60).fill(1))! - rocAuc(scores.slice(0, 30), labels.slice(0, 30))!) < 1e-12);
    assert.equal(weightedAuc([0.1, 0.2], [1, 1], [0, 1])(new Float64Array([1, 1])), null);
  });

  it('draws whole groups, the same draws for the same seed', () => {
    const groups = Array.from({ length: 40 }, (_, i) => `g${i % 8}`);
    const seen: number[][] = [];
    const stats = {
      // Every row of a group carries its group's weight, and the weights add up to the rows.
      check: (w: Float64Array) => {
        for (let i = 0; i < 40; i++) assert.equal(w[i], w[i % 8]);
        assert.equal(w.reduce((a, b) => a + b, 0), 40);
        seen.push([...w.slice(0, 8)]);
        return 0;
      },
    };
    groupBootstrap(groups, stats, { resamples: 50, seed: 3 });
    const first = seen.splice(0);
    groupBootstrap(groups, stats, { resamples: 50, seed: 3 });
    assert.deepEqual(seen, first);
    assert.ok(new Set(first.map((w) => w.join())).size > 40, 'the draws vary');
  });

  it('is wider when images come in groups that move together than when they are independent', () => {
    const next = lcg(11);
    // 12 groups of 15 images; every image of a group has its group's score (a video's frames).
    const groupScore = Array.from({ length: 12 }, () => next());
    const rows = Array.from({ length: 180 }, (_, i) => i);
    const groupOf = rows.map((i) => Math.floor(i / 15));
    const labels = groupOf.map((g) => (g % 2));
    const scores = groupOf.map((g) => groupScore[g]! + (g % 2) * 0.3);
    const stat = { auc: weightedAuc(scores, labels, rows) };
    const byGroup = percentileInterval(groupBootstrap(groupOf.map(String), stat, { resamples: 400 }).auc!);
    const byImage = percentileInterval(groupBootstrap(rows.map(String), stat, { resamples: 400 }).auc!);
    assert.ok(width(byGroup) > 2 * width(byImage), `groups ${byGroup}, images ${byImage}`);
    const point = rocAuc(scores, labels)!;
    assert.ok(byGroup![0] <= point && point <= byGroup![1]);
  });

  it('gives no interval when too many resamples leave the statistic undefined', () => {
    assert.equal(percentileInterval([0.5, null, null, 0.6]), null);
    assert.deepEqual(percentileInterval([0.1, 0.2, 0.3, 0.4, 0.5]), [0.1, 0.5]);
  });
});

describe('two models compared on the same images (npm run eval -- --compare)', () => {
  /** Scores for 20 groups of 5 reals and of 5 images of each of two edited sources. */
  function fixture(): { a: ScoreLine[]; b: ScoreLine[] } {
    const next = lcg(5);
    const a: ScoreLine[] = [];
    const b: ScoreLine[] = [];
    for (let g = 0; g < 20; g++) {
      for (const [label, source] of [['real', 'cam'], ['deepfake', 'swap'], ['retouched', 'ps']] as const) {
        for (let k = 0; k < 5; k++) {
          const base = next() + (label === 'real' ? 0 : 0.25);
          const line = { file: `${source}/${g}-${k}.jpg`, label, source, group: `${source}:${g}`, edited: base };
          a.push(line);
          // B: the same scores, except that it separates the swaps from every real.
          b.push({ ...line, edited: source === 'swap' ? 2 + next() : base });
        }
      }
    }
    return { a, b };
  }

  it('finds the difference on the source where B is better and none where the two agree', () => {
    const { a, b } = fixture();
    const c = compareScores(a, b, { a: 'A', b: 'B' }, { resamples: 300 });
    assert.equal(c.images, 300);
    assert.equal(c.unmatched, 0);
    assert.equal(c.groups, 60);
    assert.equal(c.per_source.swap!.auc_b, 1);
    assert.ok(c.per_source.swap!.delta! > 0.1);
    assert.equal(c.per_source.swap!.decided, true);
    assert.ok(c.per_source.swap!.interval![0] > 0);
    assert.equal(c.per_source.ps!.delta, 0);
    assert.deepEqual(c.per_source.ps!.interval, [0, 0]);
    assert.equal(c.per_source.ps!.decided, false);
    assert.equal(c.per_source.all!.n, 200);
    assert.equal(c.per_source.cam, undefined, 'a real source has no AUC of its own');
  });

  it('reads scores files with quoted fields and without a group column, through the CLI', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfd-compare-'));
    const { a, b } = fixture();
    const write = (path: string, lines: ScoreLine[], withGroup: boolean) =>
      writeFileSync(path, [withGroup ? 'file,label,source,group,edited,verdict,confidence' : 'file,label,source,edited,verdict,confidence',
        ...lines.map((l) => [`"${l.file.replace('/', ',')}"`, l.label, l.source, ...(withGroup ? [l.group] : []), l.edited.toFixed(6), 'real', '0.5'].join(','))].join('\n') + '\n');
    write(join(dir, 'a-scores.csv'), a, true);
    write(join(dir, 'b-scores.csv'), b.slice(0, 290), true);
    write(join(dir, 'old-scores.csv'), a, false);
    const read = readScores(join(dir, 'a-scores.csv'));
    assert.equal(read[0]!.file, a[0]!.file.replace('/', ','));
    assert.equal(read[0]!.group, a[0]!.group);
    assert.equal(readScores(join(dir, 'old-scores.csv'))[0]!.group, `image:${read[0]!.file}`);

    const out = join(dir, 'cmp');
    const r = spawnSync(process.execPath, [join(repoRoot, 'tools/eval/dist/main.js'), '--compare', join(dir, 'a-scores.csv'), '--compare', join(dir, 'b-scores.csv'), '--out', out], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const c = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
    assert.equal(c.images, 290);
    assert.equal(c.unmatched, 10);
    assert.equal(c.per_source.swap.decided, true);
    assert.match(readFileSync(`${out}.md`, 'utf8'), /\| swap \| 95 \| [0-9.]+ \| 1\.000 \| \+[0-9.]+ \| \+[0-9.]+ to \+[0-9.]+ \| yes \|/);
    const one = spawnSync(process.execPath, [join(repoRoot, 'tools/eval/dist/main.js'), '--compare', join(dir, 'a-scores.csv')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(one.status, 2);
    assert.match(one.stderr, /--compare takes two scores files/);
  });
});
