import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import type { JobQuota, Reservation } from './rate-limiter.js';

/** Turns the caller's concurrent-job quota into slots for `n` new jobs, or a 429. */
export function admission(quota: JobQuota) {
  return async (req: FastifyRequest, n: number): Promise<Reservation> => {
    const p = req.principal;
    if (!p) throw new ApiError(401, 'unauthorized', 'The caller is not identified.');
    const got = await quota.acquire(p.subject, p.maxConcurrentJobs, n);
    if (got.ok) return got.reservation;
    const wanted = n === 1 ? 'another job' : `${n} more jobs`;
    throw new ApiError(
      429,
      'too_many_jobs',
      `Concurrent job quota reached: ${got.active} of ${p.maxConcurrentJobs} jobs are queued or running, no room for ${wanted}; retry when some have finished.`,
      { 'retry-after': '5' },
    );
  };
}
