import type { Verdict } from '@dfd/jobs';
import { editedProbability, type ConfidenceMap } from '@dfd/model-runtime';

export interface DecisionRule {
  threshold: number;
  band: [number, number];
  /** The detector's model.json `confidence`: P(edited | score) measured on validation. */
  confidence?: ConfidenceMap;
}

/**
 * Scores inside the band are where the validation split showed the model unreliable: say so.
 * `confidence` is the probability that the side the verdict takes is right: P(edited) for
 * `edited`, P(real) for `real`, the larger of the two for `uncertain`. It is read from the
 * model's calibration map, not from the raw score, which is not a probability: 2.5.1's `real`
 * answers stated 71.5 % on the test split and were right 90.4 % of the time at the map's base
 * rate (61.2 % with the classes weighted equally). A model without a map falls back to the score.
 */
export function decide(score: number, rule: DecisionRule): { verdict: Verdict; confidence: number; editedProbability: number } {
  const [lo, hi] = rule.band;
  const edited = rule.confidence ? editedProbability(rule.confidence, score) : score;
  if (score >= rule.threshold && score > hi) return { verdict: 'edited', confidence: edited, editedProbability: edited };
  if (score < rule.threshold && score < lo) return { verdict: 'real', confidence: 1 - edited, editedProbability: edited };
  return { verdict: 'uncertain', confidence: Math.max(edited, 1 - edited), editedProbability: edited };
}

/** The image is as edited as its most edited face; uncertainty is reported when nothing is edited. */
export function combine(verdicts: Verdict[]): Verdict {
  if (verdicts.includes('edited')) return 'edited';
  if (verdicts.includes('uncertain')) return 'uncertain';
  return 'real';
}
