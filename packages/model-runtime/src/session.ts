import { basename, dirname } from 'node:path';
import * as ort from 'onnxruntime-node';

export { ort };

/**
 * Session options for every model: full graph optimisation (constant folding, fusions, layout
 * transforms), sequential execution of the graph (parallel execution only pays for graphs with
 * independent branches, and spends threads the other models and processes need), `threads`
 * intra-op threads (ORT_INTRA_OP_THREADS: the CPU share a process has) and one inter-op thread.
 */
export function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
  };
}

/**
 * What each model's sessions ran in this process: runs per input shape and wall time inside
 * `run`. Kept on a process-wide symbol so that @dfd/telemetry exports it on /metrics
 * (dfd_ort_runs_total{model,shape}, dfd_ort_run_seconds_total{model}) without depending on
 * this package; `npm run bench` replays the shapes to cost a verdict's inference.
 */
export interface OrtUsage {
  runs: Map<string, number>;
  seconds: number;
}
const USAGE = Symbol.for('dfd.ort.usage');
export function ortUsage(): Map<string, OrtUsage> {
  const g = globalThis as unknown as Record<symbol, Map<string, OrtUsage> | undefined>;
  return (g[USAGE] ??= new Map());
}

/**
 * "name@version" for models/<name>/<version>/model.onnx, "name@version/file" for another network
 * in that folder (a second_opinion's), else the file name.
 */
export function modelLabel(modelPath: string): string {
  const file = basename(modelPath);
  const version = basename(dirname(modelPath));
  const name = basename(dirname(dirname(modelPath)));
  if (!(/^\d/.test(version) && name)) return file;
  return file === 'model.onnx' ? `${name}@${version}` : `${name}@${version}/${file}`;
}

/**
 * Creates an inference session. Sessions are expensive and creating them repeatedly leaks native
 * memory, so callers create one per model per process and keep it.
 */
export async function createSession(modelPath: string, threads: number): Promise<ort.InferenceSession> {
  const session = await ort.InferenceSession.create(modelPath, sessionOptions(threads));
  const usage = ortUsage();
  const label = modelLabel(modelPath);
  const u = usage.get(label) ?? { runs: new Map(), seconds: 0 };
  usage.set(label, u);
  const inputName = session.inputNames[0]!;
  const run = session.run.bind(session) as (...args: unknown[]) => Promise<ort.InferenceSession.ReturnType>;
  (session as { run: unknown }).run = async (...args: unknown[]) => {
    const feeds = args[0] as Record<string, ort.Tensor> | undefined;
    const shape = feeds?.[inputName]?.dims.join('x') ?? '?';
    const t0 = performance.now();
    try {
      return await run(...args);
    } finally {
      u.seconds += (performance.now() - t0) / 1000;
      u.runs.set(shape, (u.runs.get(shape) ?? 0) + 1);
    }
  };
  return session;
}
