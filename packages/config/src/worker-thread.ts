import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on a module beside the caller: `startModuleWorker('./ops-worker',
 * import.meta.url)` runs `ops-worker.js` when the caller runs from dist, and `ops-worker.ts` when
 * it runs from its sources under tsx (the tests). A worker never inherits the parent's execArgv
 * (flags such as --test are not for it). Under tsx, `--import tsx` in a worker's execArgv is not
 * enough: before Node 22.22 tsx registers its loader on the main thread only, so the thread
 * registers it itself and then imports the .ts module.
 */
export function startModuleWorker(relative: string, callerUrl: string, options: WorkerOptions = {}): Worker {
  const fromSources = callerUrl.endsWith('.ts');
  const file = new URL(`${relative}${fromSources ? '.ts' : '.js'}`, callerUrl);
  if (!fromSources) return new Worker(file, { ...options, execArgv: [] });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(file.href)}); });`;
  return new Worker(boot, { ...options, eval: true, execArgv: [] });
}
