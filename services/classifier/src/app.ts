import { ImageClassifierModel, resolveModelDir } from '@dfd/model-runtime';
import { serveImageModel } from '@dfd/model-server';
import { createLogger, createRegistry, inferenceRecorder, startOpsServer, type RunningService } from '@dfd/telemetry';
import type { ClassifierConfig } from './config.js';

export type ClassifierApp = RunningService;

/** The deepfake-vs-retouched model behind the Open Inference Protocol. */
export async function startClassifier(cfg: ClassifierConfig): Promise<ClassifierApp> {
  const logger = createLogger('classifier', cfg.logLevel);
  const registry = createRegistry('classifier');
  const recordInference = inferenceRecorder(registry);
  const dir = resolveModelDir(cfg.modelsDir, cfg.modelName, cfg.modelVersion);
  const model = await ImageClassifierModel.load(dir, { threads: cfg.ortThreads });
  logger.info({ model: model.spec.name, version: model.spec.version, sha256: model.sha256, threads: cfg.ortThreads }, 'model loaded');

  const { server: oip, port: grpcPort } = await serveImageModel({ serverName: 'dfd-classifier', model, host: cfg.host, port: cfg.grpcPort, maxBatch: cfg.maxBatch, onInfer: recordInference });
  const ops = await startOpsServer({
    port: cfg.httpPort,
    host: cfg.host,
    registry,
    readiness: async () => ({ ready: true, checks: { model: true } }),
  });
  const httpPort = ops.port;
  logger.info({ grpcPort, httpPort }, 'classifier serving');
  return {
    grpcPort,
    httpPort,
    logger,
    async close() {
      await oip.close(cfg.shutdownGraceMs);
      await ops.close();
      await model.release();
    },
  };
}
