import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { EnvReader } from '@dfd/config';
import { prom, type prom as PromNs } from '@dfd/telemetry';
import { ApiError } from '../errors.js';
import { decide, QueueWaitProbe, type AdmissionPolicy, type Decision, type QueueSnapshot } from '../limits/predicted-wait.js';

export interface AdmissionConfig extends AdmissionPolicy {
  /** 0 turns admission by predicted wait off. */
  enabled: boolean;
  /** How long one replica reuses a snapshot (ms); admissions in between are counted locally. */
  refreshMs: number;
}

/** ADMISSION_* variables (read with the rest of the gateway's configuration). */
export function readAdmissionConfig(env: EnvReader): AdmissionConfig {
  const maxWaitS = env.number('ADMISSION_MAX_WAIT_S', 20, { min: 0, max: 3_600 });
  const windowS = env.int('ADMISSION_RATE_WINDOW_S', 30, { min: 2, max: 3_600 });
  const cfg: AdmissionConfig = {
    enabled: maxWaitS > 0,
    maxWaitS,
    windowS,
    shortWindowS: Math.min(5, windowS),
    maxRetryAfterS: env.int('ADMISSION_MAX_RETRY_AFTER_S', 60, { min: 1, max: 3_600 }),
    refreshMs: env.int('ADMISSION_REFRESH_MS', 250, { min: 10, max: 10_000 }),
    coldStartDepth: env.int('ADMISSION_COLD_START_DEPTH', 64, { min: 0, max: 1_000_000 }),
  };
  return cfg;
}

interface AdmissionOptions {
  cfg: AdmissionConfig;
  redis: Redis;
  queue: Queue;
  registry: PromNs.Registry;
  /** POST routes that create work; everything else (polls, health, docs) is never refused. */
  routes?: string[];
  /**
   * Uploads this process may be receiving and decoding at once (MAX_INFLIGHT_DECODES): an
   * admitted upload counts until its response is sent. Past it, 429 `busy` before the body.
   */
  maxInflightUploads: number;
}

/**
 * Admission by predicted wait: before an upload's body is read (onRequest), estimate how long a
 * new job would wait, (waiting + active) / measured completion rate, all from Redis so every
 * replica agrees, and answer 429 `overloaded` with an honest Retry-After when that exceeds
 * ADMISSION_MAX_WAIT_S. Accepted work then finishes within its deadline; refused callers learn
 * it at once instead of holding a connection in a queue they cannot leave.
 */
export const admissionPlugin = fp(async (app: FastifyInstance, opts: AdmissionOptions) => {
  const { cfg } = opts;
  if (!cfg.enabled) return;
  const routes = new Set(opts.routes ?? ['/v1/analyses', '/v1/batches']);
  const probe = new QueueWaitProbe(opts.redis, opts.queue, cfg);
  let snap: QueueSnapshot | null = null;
  let snapAt = 0;
  let admittedSince = 0;
  // Callers refused since the last snapshot, by the second they were told to come back; sent with
  // the next snapshot, so every replica counts them among the callers due back.
  let deferrals = new Map<number, number>();
  let deferredSince = 0;
  // Uploads admitted and not yet answered, and the callers refused for that, by due second.
  let inflightUploads = 0;
  const busyDue = new Map<number, number>();
  // Admitted uploads answered, by the second they ended, for the last ANSWERED_WINDOW_S seconds.
  const answered = new Map<number, number>();
  const ANSWERED_WINDOW_S = 5;
  const forgetAnsweredBefore = (nowS: number) => {
    for (const second of answered.keys()) if (second <= nowS - ANSWERED_WINDOW_S) answered.delete(second);
  };
  /** Over the last ANSWERED_WINDOW_S whole seconds (the current one is still counting). */
  const answeredPerSecond = (nowS: number): number => {
    forgetAnsweredBefore(nowS);
    let n = 0;
    for (const [second, count] of answered) if (second < nowS) n += count;
    return n / ANSWERED_WINDOW_S;
  };
  const defer = (dueBack: number) => {
    deferrals.set(dueBack, (deferrals.get(dueBack) ?? 0) + 1);
    deferredSince++;
  };

  /**
   * A burst met by a cold or idle stack: the predicted wait admits a queue's worth at once, and
   * the accepts then wait on this process's CPU (reading bodies, decoding; 3-6 s in the first
   * seconds of a 2,000-user run). So the uploads in flight are bounded too, and refused callers are
   * spread out: Retry-After counts those told to come back before, at the rate this process has
   * been answering admitted uploads over the last few seconds (at least `maxInflightUploads` a
   * second). With the bound at 8, assuming only 8 a second told callers of a 256-connection burst
   * to come back up to 30 s later while the gateway answered about 30 a second.
   */
  function refuseBusy(): never {
    const nowS = Math.floor(Date.now() / 1000);
    let ahead = 0;
    for (const [second, n] of busyDue) {
      if (second <= nowS) busyDue.delete(second);
      else ahead += n;
    }
    const retryAfterS = Math.min(cfg.maxRetryAfterS, 1 + Math.floor(ahead / Math.max(opts.maxInflightUploads, answeredPerSecond(nowS))));
    busyDue.set(nowS + retryAfterS, (busyDue.get(nowS + retryAfterS) ?? 0) + 1);
    defer(nowS + retryAfterS);
    refused.inc({ reason: 'uploads_in_flight' });
    throw new ApiError(429, 'busy', `This server is receiving and decoding as many uploads as it can (${inflightUploads}); retry in ${retryAfterS} s.`, {
      'retry-after': String(retryAfterS),
    });
  }
  let inflight: Promise<void> | null = null;
  let last: Decision | null = null;

  const refused = new prom.Counter({ name: 'dfd_admission_refused_total', help: 'Uploads refused by admission by predicted wait', labelNames: ['reason'], registers: [opts.registry] });
  new prom.Gauge({
    name: 'dfd_admission_predicted_wait_seconds',
    help: 'Predicted queue wait of a new upload at the last admission decision (-1: unknown)',
    registers: [opts.registry],
    collect() {
      this.set(last === null || !Number.isFinite(last.waitS) ? -1 : last.waitS);
    },
  });
  new prom.Gauge({
    name: 'dfd_admission_completion_rate',
    help: 'Analyses finished per second as seen by admission (-1: none measured yet)',
    registers: [opts.registry],
    collect() {
      this.set(last?.ratePerS ?? -1);
    },
  });

  /** Two Redis round trips per refresh interval and replica, however many uploads arrive. */
  async function current(): Promise<QueueSnapshot | null> {
    if (snap && Date.now() - snapAt < cfg.refreshMs) return snap;
    inflight ??= (async () => {
      const sent = deferrals;
      deferrals = new Map();
      const s = await probe.snapshot(sent);
      snap = s;
      snapAt = Date.now();
      admittedSince = 0;
      // Refusals made while this snapshot was on its way are in `deferrals` and still local.
      deferredSince = [...deferrals.values()].reduce((a, b) => a + b, 0);
    })()
      .catch((err: Error) => {
        // Redis away: decide nothing here; the route answers 503 on its own.
        app.log.debug({ err: err.message }, 'admission snapshot failed');
        snap = null;
      })
      .finally(() => {
        inflight = null;
      });
    await inflight;
    return snap;
  }

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.method !== 'POST' || !routes.has(req.routeOptions.url ?? '')) return;
    if (inflightUploads >= opts.maxInflightUploads) refuseBusy();
    const s = await current();
    if (s) {
      const d = decide(s, cfg, admittedSince, deferredSince);
      last = d;
      if (!d.admit) {
        defer(Math.floor(Date.now() / 1000) + d.retryAfterS);
        refused.inc({ reason: d.reason });
        throw new ApiError(429, 'overloaded', d.message, { 'retry-after': String(d.retryAfterS) });
      }
      admittedSince++;
    }
    // Counted until the response is sent or the connection goes ('close' fires either way).
    if (inflightUploads >= opts.maxInflightUploads) refuseBusy();
    inflightUploads++;
    reply.raw.once('close', () => {
      inflightUploads--;
      const second = Math.floor(Date.now() / 1000);
      answered.set(second, (answered.get(second) ?? 0) + 1);
      forgetAnsweredBefore(second);
    });
  });
}, { name: 'dfd-admission' });
