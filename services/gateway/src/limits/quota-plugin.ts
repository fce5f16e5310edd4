import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors.js';
import type { JobQuota, Reservation } from './rate-limiter.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Takes `n` of the caller's concurrent-job slots, or throws 429 `too_many_jobs`. */
    reserveJobs(n: number): Promise<Reservation>;
    /** The slots a route with `config.jobSlots` was given by the preHandler hook. */
    jobSlots: Reservation | null;
  }
  interface FastifyContextConfig {
    /** Slots this route takes per request before its handler runs (known up front). */
    jobSlots?: number;
  }
}

export interface JobQuotaOptions {
  quota: JobQuota;
}

/**
 * The caller's concurrent-job quota (MAX_CONCURRENT_JOBS_PER_KEY, or the key's own): routes that
 * know their cost up front declare `config: { jobSlots: n }` and get the slots from a preHandler
 * hook (before the body is read for multipart); routes that learn it from the body (batches)
 * call `req.reserveJobs(n)`. The handler commits each slot to a job id and releases the rest.
 */
export const jobQuotaPlugin = fp(
  async (app: FastifyInstance, opts: JobQuotaOptions) => {
    app.decorateRequest('jobSlots', null);
    app.decorateRequest('reserveJobs', async function (this: FastifyRequest, n: number): Promise<Reservation> {
      const p = this.principal;
      if (!p) throw new ApiError(401, 'unauthorized', 'The caller is not identified.');
      const got = await opts.quota.acquire(p.subject, p.maxConcurrentJobs, n);
      if (got.ok) return got.reservation;
      const wanted = n === 1 ? 'another job' : `${n} more jobs`;
      throw new ApiError(
        429,
        'too_many_jobs',
        `Concurrent job quota reached: ${got.active} of ${p.maxConcurrentJobs} jobs are queued or running, no room for ${wanted}; retry when some have finished.`,
        { 'retry-after': '5' },
      );
    });
    app.addHook('preHandler', async (req) => {
      const n = req.routeOptions.config.jobSlots;
      if (n) req.jobSlots = await req.reserveJobs(n);
    });
  },
  { name: 'dfd-job-quota', dependencies: ['dfd-auth'] },
);
