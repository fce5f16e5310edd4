import { Redis } from 'ioredis';
import { createAnalysisQueue, PixelStore, redisConnectionOptions } from '@dfd/jobs';
import { OipClient } from '@dfd/proto';
import { createLogger, createRegistry, latencyBuckets, prom, queueDepthGauge, startOpsServer, type RunningService } from '@dfd/telemetry';
import { createAnalyser } from '@dfd/analysis';
import { oipEditTypeClassifier } from './classifier-client.js';
import { ClassifierGate } from './classifier-gate.js';
import { InFlightJobs, stopWorker } from './in-flight.js';
import { ModelReuse } from './model-reuse.js';
import type { DetectorConfig } from './config.js';
import { createAnalysisWorker } from './worker.js';

export type DetectorApp = RunningService;

export async function startDetector(cfg: DetectorConfig): Promise<DetectorApp> {
  const logger = createLogger('detector', cfg.logLevel);
  const registry = createRegistry('detector');
  const grpcDuration = new prom.Histogram({ name: 'dfd_grpc_client_duration_seconds', help: 'gRPC client call latency', labelNames: ['method', 'code'], buckets: latencyBuckets, registers: [registry] });
  const jobDuration = new prom.Histogram({ name: 'dfd_job_duration_seconds', help: 'Upload to final outcome', labelNames: ['outcome'], buckets: latencyBuckets, registers: [registry] });
  const jobsTotal = new prom.Counter({ name: 'dfd_jobs_total', help: 'Jobs by outcome', labelNames: ['outcome'], registers: [registry] });

  const classifierClient = new OipClient({
    target: cfg.classifierTarget,
    deadlineMs: cfg.classifierDeadlineMs,
    retries: cfg.classifierRetries,
    onCall: (method, seconds, code) => grpcDuration.observe({ method, code: String(code) }, seconds),
  });
  const loaded = await createAnalyser(cfg.modelsDir, {
    threads: cfg.ortThreads,
    faceStage: cfg.faceStage,
    classify: oipEditTypeClassifier(classifierClient, 'classifier'),
    rule: { threshold: cfg.editedThreshold, low: cfg.uncertainLow, high: cfg.uncertainHigh },
  });
  const { analyser, detector } = loaded;
  if (loaded.faceError) logger.warn({ reason: loaded.faceError }, 'face stage unavailable; analysing whole images');
  logger.info({ model: detector.spec.version, sha256: detector.sha256, faceStage: Boolean(loaded.faces), threads: cfg.ortThreads }, 'models loaded');

  const redis = new Redis(cfg.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: false });
  redis.on('error', () => undefined);
  const connection = redisConnectionOptions(cfg.redisUrl);
  const pixels = new PixelStore(redis);
  // Issue 11: reuse of the models' answer for identical pixels under the same model versions.
  let classifierVersion = { at: 0, tag: null as string | null };
  const modelTag = async () => {
    if (Date.now() - classifierVersion.at > 10_000) {
      const meta = await classifierClient.modelMetadata('classifier').catch(() => null);
      classifierVersion = { at: Date.now(), tag: meta ? `${meta.name}@${(meta.versions ?? []).join(',')}` : null };
    }
    return classifierVersion.tag ? `${detector.sha256}|${classifierVersion.tag}` : null;
  };
  const reuseTotal = new prom.Counter({ name: 'dfd_model_reuse_total', help: 'Jobs answered with the model results of identical pixels', registers: [registry] });
  const outageTotal = new prom.Counter({ name: 'dfd_classifier_outage_total', help: 'Job attempts that met an unreachable classifier (parked, not failed)', registers: [registry] });
  const inFlight = new InFlightJobs();
  const worker = createAnalysisWorker({
    inFlight,
    queueName: cfg.queueName,
    connection,
    concurrency: cfg.concurrency,
    lockDurationMs: cfg.lockDurationMs,
    analyser,
    pixels,
    logger,
    hooks: {
      onDone: (outcome, seconds) => {
        jobsTotal.inc({ outcome });
        if (outcome !== 'retry' && outcome !== 'parked') jobDuration.observe({ outcome }, seconds);
      },
      onReuse: () => reuseTotal.inc(),
      onOutage: () => {
        outageTotal.inc();
        gate.noteOutage();
      },
    },
    reuse: new ModelReuse(redis, cfg.modelReuseTtlSeconds, modelTag),
    maxParkMs: cfg.maxParkMs,
  });
  // Issue 11: no new jobs while the classifier is unreachable (its readiness says so too).
  const gate = new ClassifierGate(() => classifierClient.healthCheck('', 1_000), { onDown: () => void worker.pause(true), onUp: () => worker.resume() }, logger);
  new prom.Gauge({ name: 'dfd_classifier_reachable', help: '1 while the classifier answers SERVING and jobs are taken', registers: [registry], collect() { this.set(gate.isDown ? 0 : 1); } });
  const queue = createAnalysisQueue(cfg.queueName, connection);
  queueDepthGauge(registry, queue);

  // No model server of its own: the detector takes its work from the queue (nothing called the
  // OIP endpoint it used to serve); its HTTP port serves health, readiness and metrics.
  const ops = await startOpsServer({
    port: cfg.httpPort,
    host: cfg.host,
    registry,
    readiness: async () => {
      const redisOk = await redis.ping().then(() => true, () => false);
      const classifierStatus = await classifierClient.healthCheck('', 1_000).catch((e: Error) => e.message);
      return { ready: redisOk && classifierStatus === 'SERVING', checks: { redis: redisOk, model: true, classifier: classifierStatus } };
    },
  });
  const httpPort = ops.port;
  void worker.run();
  gate.start();
  logger.info({ httpPort, classifier: cfg.classifierTarget, concurrency: cfg.concurrency }, 'detector consuming');
  return {
    httpPort,
    logger,
    async close() {
      // Finish in-flight jobs within the grace period; hand back those still running, so another
      // detector starts them now rather than when their locks expire. Then release connections.
      gate.stop();
      await stopWorker(worker, inFlight, cfg.shutdownGraceMs, logger);
      await queue.close();
      classifierClient.close();
      redis.disconnect();
      await ops.close();
      await loaded.close();
    },
  };
}
