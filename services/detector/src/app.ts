import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import { createAnalysisQueue, PixelStore, redisConnectionOptions } from '@dfd/jobs';
import { ImageClassifierModel, MicroBatcher, resolveModelDir } from '@dfd/model-runtime';
import { serveImageModel } from '@dfd/model-server';
import { OipClient } from '@dfd/proto';
import { createLogger, createRegistry, inferenceRecorder, latencyBuckets, prom, startOpsServer, type RunningService } from '@dfd/telemetry';
import { Analyser, loadFaceFinder } from '@dfd/analysis';
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

  const detector = await ImageClassifierModel.load(resolveModelDir(cfg.modelsDir, 'detector'), { threads: cfg.ortThreads });
  const batcher = new MicroBatcher(detector, 8, 3);
  const faceLoad = cfg.faceStage ? await loadFaceFinder(cfg.modelsDir, cfg.ortThreads) : { error: 'disabled by FACE_STAGE=false' };
  if (faceLoad.error) logger.warn({ reason: faceLoad.error }, 'face stage unavailable; analysing whole images');
  const faces = faceLoad.faces;
  logger.info({ model: detector.spec.version, sha256: detector.sha256, faceStage: Boolean(faces), threads: cfg.ortThreads }, 'models loaded');

  const classifierClient = new OipClient({
    target: cfg.classifierTarget,
    deadlineMs: cfg.classifierDeadlineMs,
    retries: cfg.classifierRetries,
    onCall: (method, seconds, code) => grpcDuration.observe({ method, code: String(code) }, seconds),
  });
  const rule = {
    threshold: cfg.editedThreshold ?? detector.spec.threshold,
    band: [cfg.uncertainLow ?? detector.spec.uncertain_band[0], cfg.uncertainHigh ?? detector.spec.uncertain_band[1]] as [number, number],
  };
  const analyser = new Analyser({ detector, batcher, faces, rule, retouchedThreshold: 0.5, classify: oipEditTypeClassifier(classifierClient, 'classifier') });

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
  new prom.Gauge({
    name: 'dfd_queue_jobs',
    help: 'Jobs in the analysis queue by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed').catch(() => ({}) as Record<string, number>);
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });

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
      await detector.release();
    },
  };
}
