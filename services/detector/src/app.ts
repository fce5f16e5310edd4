import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import { createAnalysisQueue, PixelStore, redisConnectionOptions } from '@dfd/jobs';
import { serveImageModel } from '@dfd/model-server';
import { OipClient } from '@dfd/proto';
import { createLogger, createRegistry, inferenceRecorder, latencyBuckets, prom, queueDepthGauge, startOpsServer, type RunningService } from '@dfd/telemetry';
import { createAnalyser } from '@dfd/analysis';
import { oipEditTypeClassifier } from './classifier-client.js';
import type { DetectorConfig } from './config.js';
import { createAnalysisWorker } from './worker.js';

export type DetectorApp = RunningService;

export async function startDetector(cfg: DetectorConfig): Promise<DetectorApp> {
  const logger = createLogger('detector', cfg.logLevel);
  const registry = createRegistry('detector');
  const recordInference = inferenceRecorder(registry);
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
  const worker = createAnalysisWorker({
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
        if (outcome !== 'retry') jobDuration.observe({ outcome }, seconds);
      },
    },
  });
  const queue = createAnalysisQueue(cfg.queueName, connection);
  queueDepthGauge(registry, queue);

  const { server: oip, port: grpcPort } = await serveImageModel({ serverName: 'dfd-detector', model: detector, host: cfg.host, port: cfg.grpcPort, onInfer: recordInference });
  const ops: Server = await startOpsServer({
    port: cfg.httpPort,
    host: cfg.host,
    registry,
    readiness: async () => {
      const redisOk = await redis.ping().then(() => true, () => false);
      const classifierStatus = await classifierClient.healthCheck('', 1_000).catch((e: Error) => e.message);
      return { ready: redisOk && classifierStatus === 'SERVING', checks: { redis: redisOk, model: true, classifier: classifierStatus } };
    },
  });
  const httpPort = (ops.address() as { port: number }).port;
  void worker.run();
  logger.info({ grpcPort, httpPort, classifier: cfg.classifierTarget, concurrency: cfg.concurrency }, 'detector consuming');
  return {
    grpcPort,
    httpPort,
    logger,
    async close() {
      // Finish in-flight jobs (bounded by the shutdown timer), then release connections.
      await worker.close();
      await oip.close(5_000);
      await queue.close();
      classifierClient.close();
      redis.disconnect();
      await new Promise((r) => ops.close(() => r(undefined)));
      await loaded.close();
    },
  };
}
