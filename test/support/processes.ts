/** Real processes for tests: a private redis-server and the services, on free loopback ports. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
}

export class ManagedProcess {
  child: ChildProcess | undefined;
  output = '';
  constructor(
    readonly name: string,
    private readonly cmd: string,
    private readonly args: string[],
    private readonly env: Record<string, string>,
  ) {}

  start(): this {
    this.child = spawn(this.cmd, this.args, { cwd: repoRoot, env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    return this;
  }

  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  kill(): Promise<void> {
    return this.stop('SIGKILL');
  }
}

export class RedisServer extends ManagedProcess {
  constructor(readonly port: number) {
    super('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', mkdtempSync(join(tmpdir(), 'dfd-redis-'))], {});
  }
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async ready(): Promise<this> {
    const { Redis } = await import('ioredis');
    await waitFor('redis', async () => {
      const r = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => undefined);
      try {
        await r.connect();
        return (await r.ping()) === 'PONG';
      } finally {
        r.disconnect();
      }
    });
    return this;
  }
}

export async function startRedis(): Promise<RedisServer> {
  return new RedisServer(await freePort()).start().ready();
}

export async function httpReady(url: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(url, async () => (await fetch(url)).ok, timeoutMs, 150);
}

export type ServiceName = 'gateway' | 'detector' | 'classifier';

export interface ServiceHandle extends ManagedProcess {
  httpPort: number;
  grpcPort: number;
  /** /healthz, /readyz, /metrics: the gateway's own ops listener; the HTTP port of the others. */
  opsPort: number;
}

/**
 * Starts a built service (dist/server.js) with its own ports, and waits until it is alive.
 * `nofile` runs it under `ulimit -n` (descriptor-exhaustion tests).
 */
export async function startService(
  name: ServiceName,
  env: Record<string, string>,
  waitPath = '/healthz',
  opts: { nofile?: number; timeoutMs?: number } = {},
): Promise<ServiceHandle> {
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const opsPort = name === 'gateway' ? await freePort() : httpPort;
  const script = join(repoRoot, 'services', name, 'dist', 'server.js');
  const [cmd, args] = opts.nofile
    ? ['/bin/sh', ['-c', `ulimit -n ${opts.nofile} && exec "$0" "$1"`, process.execPath, script]]
    : [process.execPath, [script]];
  const proc = new ManagedProcess(name, cmd, args, {
    LOG_LEVEL: 'warn',
    HTTP_PORT: String(httpPort),
    GRPC_PORT: String(grpcPort),
    HOST: '127.0.0.1',
    ORT_INTRA_OP_THREADS: '1',
    ...(name === 'gateway' ? { OPS_PORT: String(opsPort) } : {}),
    ...env,
  }).start() as ServiceHandle;
  proc.httpPort = httpPort;
  proc.grpcPort = grpcPort;
  proc.opsPort = opsPort;
  try {
    await waitFor(`${name} on ${httpPort}`, async () => {
      if (!proc.alive) throw new Error(`${name} exited:\n${proc.output}`);
      return (await fetch(`http://127.0.0.1:${httpPort}${waitPath}`)).ok;
    }, opts.timeoutMs ?? 30_000, 150);
  } catch (err) {
    await proc.kill();
    throw new Error(`${(err as Error).message}\n--- ${name} output ---\n${proc.output}`);
  }
  return proc;
}

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
