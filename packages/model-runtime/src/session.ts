import * as ort from 'onnxruntime-node';

export { ort };

/**
 * Creates an inference session. Sessions are expensive and creating them repeatedly leaks native
 * memory, so callers create one per model per process and keep it.
 */
export async function createSession(modelPath: string, threads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
  });
}
