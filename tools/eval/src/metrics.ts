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
