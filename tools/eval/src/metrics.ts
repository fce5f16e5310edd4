/** Binary classification metrics from scores and labels (positive = 1). */
export interface BinaryMetrics {
  n: number;
  positives: number;
  negatives: number;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  roc_auc: number | null;
  confusion: { tp: number; fp: number; tn: number; fn: number };
  uncertain: number;
  /** Accuracy over the answers that were not `uncertain`. */
  accuracy_decided: number | null;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

/** ROC AUC by the rank-sum (Mann–Whitney) formula, ties counted half. */
export function rocAuc(scores: number[], labels: number[]): number | null {
  const pairs = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => a[0] - b[0]);
  const pos = labels.filter((l) => l === 1).length;
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) return null;
  let rankSum = 0;
  let i = 0;
  while (i < pairs.length) {
    let j = i;
    while (j + 1 < pairs.length && pairs[j + 1]![0] === pairs[i]![0]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (pairs[k]![1] === 1) rankSum += avgRank;
    i = j + 1;
  }
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

export function rocCurve(scores: number[], labels: number[]): Array<[number, number]> {
  const order = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => b[0] - a[0]);
  const pos = labels.filter((l) => l === 1).length || 1;
  const neg = labels.length - labels.filter((l) => l === 1).length || 1;
  const pts: Array<[number, number]> = [[0, 0]];
  let tp = 0;
  let fp = 0;
  for (const [, l] of order) {
    if (l === 1) tp++;
    else fp++;
    pts.push([fp / neg, tp / pos]);
  }
  return pts;
}

export function binaryMetrics(scores: number[], labels: number[], threshold: number, band?: [number, number]): BinaryMetrics {
  let tp = 0, fp = 0, tn = 0, fn = 0, uncertain = 0, decidedRight = 0, decided = 0;
  scores.forEach((s, i) => {
    const pred = s >= threshold ? 1 : 0;
    const y = labels[i]!;
    if (pred === 1 && y === 1) tp++;
    else if (pred === 1) fp++;
    else if (y === 0) tn++;
    else fn++;
    if (band && s >= band[0] && s <= band[1]) uncertain++;
    else {
      decided++;
      if (pred === y) decidedRight++;
    }
  });
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  return {
    n: scores.length,
    positives: tp + fn,
    negatives: tn + fp,
    accuracy: ratio(tp + tn, scores.length),
    precision,
    recall,
    f1: precision !== null && recall !== null && precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : null,
    roc_auc: rocAuc(scores, labels),
    confusion: { tp, fp, tn, fn },
    uncertain,
    accuracy_decided: ratio(decidedRight, decided),
  };
}

export interface ReliabilityFigures {
  /** The share of edited images the figures assume (the confidence map's own): the classes are weighted to it. */
  prior_edited: number;
  /** Per verdict: answers, their mean stated confidence, and how often the verdict's side was right. */
  per_verdict: Record<'real' | 'edited' | 'uncertain', { n: number; stated: number | null; observed: number | null }>;
  /** Expected calibration error of the decided answers: |stated − observed| over 10 confidence bins, weighted by their share. */
  ece_decided: number | null;
}

/**
 * Whether an answer's `confidence` means what it says: among the answers that said `real` with
 * confidence c, about c should be real. The classes are weighted to the share of edited photos
 * the confidence assumes (`prior`, the model's map's; 0.5 for a model without one), so a test
 * split's own mix of real and edited images does not decide the figures. `uncertain` answers get
 * their mean stated confidence only (they take no side).
 */
export function reliability(rows: Array<{ verdict: 'real' | 'edited' | 'uncertain'; confidence: number; edited: 0 | 1 }>, prior = 0.5): ReliabilityFigures {
  const positives = rows.filter((r) => r.edited === 1).length;
  const negatives = rows.length - positives;
  const weight = (r: { edited: 0 | 1 }) => (r.edited === 1 ? (positives ? prior / positives : 0) : negatives ? (1 - prior) / negatives : 0);
  const right = (r: { verdict: string; edited: 0 | 1 }) => (r.verdict === 'edited' ? r.edited === 1 : r.edited === 0);
  const totalWeight = (sub: typeof rows) => sub.reduce((a, r) => a + weight(r), 0);
  /** The class-weighted total `w` of `sub`, its weighted mean stated confidence and (withObserved) share right. */
  const weighted = (sub: typeof rows, withObserved: boolean) => {
    const w = totalWeight(sub);
    return {
      w,
      stated: w > 0 ? sub.reduce((a, r) => a + weight(r) * r.confidence, 0) / w : null,
      observed: withObserved && w > 0 ? sub.reduce((a, r) => a + (right(r) ? weight(r) : 0), 0) / w : null,
    };
  };
  const summary = (sub: typeof rows, withObserved: boolean) => {
    const { stated, observed } = weighted(sub, withObserved);
    return { n: sub.length, stated, observed };
  };
  const decided = rows.filter((r) => r.verdict !== 'uncertain');
  const total = totalWeight(decided);
  let ece: number | null = null;
  if (total > 0) {
    // Ten bins of stated confidence, each weighted by its share of the decided answers.
    const bins = Array.from({ length: 10 }, () => [] as typeof rows);
    for (const r of decided) bins[Math.min(9, Math.floor(r.confidence * 10))]!.push(r);
    ece = bins.reduce((sum, bin) => {
      const s = weighted(bin, true);
      return s.stated === null || s.observed === null ? sum : sum + (s.w / total) * Math.abs(s.stated - s.observed);
    }, 0);
  }
  const byVerdict = (v: 'real' | 'edited' | 'uncertain') => rows.filter((r) => r.verdict === v);
  return {
    prior_edited: prior,
    per_verdict: { real: summary(byVerdict('real'), true), edited: summary(byVerdict('edited'), true), uncertain: summary(byVerdict('uncertain'), false) },
    ece_decided: ece,
  };
}
