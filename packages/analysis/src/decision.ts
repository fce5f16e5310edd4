import type { Verdict } from '@dfd/jobs';

export interface DecisionRule {
  threshold: number;
  band: [number, number];
}

/** Scores inside the band are where the validation split showed the model unreliable: say so. */
export function decide(score: number, rule: DecisionRule): { verdict: Verdict; confidence: number } {
  const [lo, hi] = rule.band;
  if (score >= rule.threshold && score > hi) return { verdict: 'edited', confidence: score };
  if (score < rule.threshold && score < lo) return { verdict: 'real', confidence: 1 - score };
  return { verdict: 'uncertain', confidence: Math.max(score, 1 - score) };
}

/** The image is as edited as its most edited face; uncertainty is reported when nothing is edited. */
export function combine(verdicts: Verdict[]): Verdict {
  if (verdicts.includes('edited')) return 'edited';
  if (verdicts.includes('uncertain')) return 'uncertain';
  return 'real';
}
