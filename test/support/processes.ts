/**
 * Real processes for tests: a private redis-server and the services, on free loopback ports.
 * The process code is the stack launcher's (packages/stack), the same as `npm start` and the load
 * tools use.
 */
export {
  repoRoot,
  freePort,
  sleep,
  waitFor,
  httpReady,
  ManagedProcess,
  RedisServer,
  startRedis,
  startService,
  type ServiceHandle,
  type ServiceName,
} from '@dfd/stack';

import { spawn } from 'node:child_process';

/**
 * Polls `url` every `everyMs` from a separate process (so the test's own event loop, busy sending
 * uploads, does not colour the figures) until `stop()`, which returns the latencies in ms.
 */
export function startLatencyProbe(url: string, everyMs = 20): { stop(): Promise<number[]> } {
  const script = `
    const lat = []; let on = true;
    process.stdin.on('data', () => { on = false; });
    (async () => {
      while (on) {
        const t = performance.now();
        try { const r = await fetch(${JSON.stringify(url)}); await r.arrayBuffer(); lat.push(r.ok ? performance.now() - t : 1e9); }
        catch { lat.push(1e9); }
        await new Promise((r) => setTimeout(r, ${everyMs}));
      }
      process.stdout.write(JSON.stringify(lat), () => process.exit(0));
    })();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    async stop() {
      child.stdin!.end("stop\n");
      await exited;
      return JSON.parse(out) as number[];
    },
  };
}

/** The Python that runs training code (Debian's, with python3-torch); scripts/train.mjs reads the same variable. */
export const trainingPython = process.env.TRAIN_PYTHON ?? '/usr/bin/python3';
