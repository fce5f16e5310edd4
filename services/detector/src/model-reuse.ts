import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AnalysisJobData, AnalysisResult } from '@dfd/jobs';

/**
 * Reuse of the model computation for identical pixels (issue 11). Analyses themselves are never
 * shared between callers: each upload is its own job with a random id. What is shared is the
 * models' answer for the same normalised pixels and options (`contentKey`, from the gateway)
 * under the same model versions (`modelTag`: the detector's model hash and the classifier's
 * version). A model upgrade changes the tag, so a re-upload is judged by the new model. The
 * metadata evidence, source format and timings always come from the job at hand.
 */
export class ModelReuse {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly modelTag: () => Promise<string | null>,
    private readonly prefix = 'dfd:models:',
  ) {}

  private async keyFor(job: AnalysisJobData): Promise<string | null> {
    if (!job.contentKey || this.ttlSeconds <= 0) return null;
    const tag = await this.modelTag().catch(() => null);
    if (!tag) return null;
    return `${this.prefix}${createHash('sha256').update(`${job.contentKey}|${tag}`).digest('hex').slice(0, 40)}`;
  }

  /** The earlier result, rebuilt for this job; null when there is none (or reuse is off). */
  async lookup(job: AnalysisJobData, queueWaitMs: number): Promise<AnalysisResult | null> {
    const key = await this.keyFor(job);
    if (!key) return null;
    const raw = await this.redis.get(key).catch(() => null);
    if (!raw) return null;
    const prior = JSON.parse(raw) as Omit<AnalysisResult, 'evidence' | 'timings'>;
    return {
      ...prior,
      notes: [...prior.notes, 'reused: the model results of identical pixels under the same model versions were reused'],
      image: { ...prior.image, format: job.source.format, original_width: job.source.width, original_height: job.source.height },
      timings: {
        queue_wait_ms: Math.round(queueWaitMs),
        decode_ms: Math.round(job.decodeMs * 10) / 10,
        face_ms: 0,
        detector_ms: 0,
        classifier_ms: 0,
        total_ms: Math.round(queueWaitMs + job.decodeMs),
      },
      evidence: { metadata: job.evidence },
    };
  }

  async store(job: AnalysisJobData, result: AnalysisResult): Promise<void> {
    const key = await this.keyFor(job);
    if (!key) return;
    const { evidence: _evidence, timings: _timings, ...models } = result;
    await this.redis.set(key, JSON.stringify(models), 'EX', this.ttlSeconds).catch(() => undefined);
  }
}
