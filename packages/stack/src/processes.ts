/** Local processes: a redis-server and the built services, each on its own loopback ports. */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { accessSync, constants as fsConstants, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join, dirname, delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (packages/stack/{src,dist} → ../../..). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Binds `port` (0: any) on loopback and lets it go; resolves to the port, or null when it is taken. */
function probePort(port: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(null) : reject(err)));
    srv.listen(port, '127.0.0.1', () => {
      const bound = (srv.address() as { port: number }).port;
      srv.close(() => resolve(bound));
    });
  });
}

/** The first port of the kernel's ephemeral range, where outgoing connections take their source ports. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * A loopback port nothing listens on, for a service about to be started on it. Drawn at random
 * below the ephemeral range: a port from listen(0) lies inside it, and between the probe letting
 * it go and the service binding it, an outgoing connection (any client's source port) could take
 * it; CI once saw a gateway fail with EADDRINUSE that way.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  const from = 10_000;
  for (let attempt = 0; low - from > 1_000 && attempt < 50; attempt++) {
    const port = await probePort(from + Math.floor(Math.random() * (low - from)));
    if (port !== null) return port;
  }
  return (await probePort(0))!;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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

export type LineSink = (name: string, line: string, stream: 'stdout' | 'stderr') => void;

/**
 * A child process in its own process group (`detached`), so a terminal's Ctrl-C reaches only the
 * launcher, which then stops everything in order. Its output is kept (last 20 kB, for test
 * failure messages) and, with `onLine`, handed over line by line.
 */
export class ManagedProcess {
  child: ChildProcess | undefined;
  output = '';
  onLine: LineSink | undefined;
  constructor(
    public name: string,
    private readonly cmd: string,
    private readonly args: string[],
    private readonly env: Record<string, string>,
  ) {}

  start(): this {
    const child = spawn(this.cmd, this.args, { cwd: repoRoot, env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = '';
      child[stream]?.on('data', (d: Buffer) => {
        const text = d.toString();
        this.output = (this.output + text).slice(-20_000);
        if (!this.onLine) return;
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line) this.onLine(this.name, line, stream);
      });
    }
    return this;
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Signals the process and waits for it to exit; SIGKILL after `timeoutMs`. */
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

/** True when a Redis answers PING at host:port (raw RESP, no client library needed). */
export function redisPing(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let data = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('error', () => done(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      data += d.toString();
      if (data.includes('\r\n')) done(data.startsWith('+PONG') || data.startsWith('-NOAUTH'));
    });
  });
}

export interface RedisOptions {
  port?: number;
  /** Where the append-only file lives; a fresh temporary folder when absent. */
  dataDir?: string;
  /** Append-only persistence (default false here; the stack launcher turns it on): a restart then loses no accepted job. */
  appendOnly?: boolean;
}

export class RedisServer extends ManagedProcess {
  readonly dataDir: string;
  constructor(
    readonly port: number,
    opts: RedisOptions = {},
  ) {
    const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'dfd-redis-'));
    mkdirSync(dataDir, { recursive: true });
    const persistence = opts.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'];
    super('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dataDir, '--loglevel', 'warning'], {});
    this.dataDir = dataDir;
  }
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async ready(timeoutMs = 20_000): Promise<this> {
    await waitFor(`redis on ${this.port}`, async () => {
      if (!this.alive) throw new Error(`redis-server exited:\n${this.output}`);
      return redisPing('127.0.0.1', this.port);
    }, timeoutMs);
    return this;
  }
}

export async function startRedis(opts: RedisOptions = {}): Promise<RedisServer> {
  return new RedisServer(opts.port ?? (await freePort()), opts).start().ready();
}

export async function httpReady(url: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(url, async () => (await fetch(url)).ok, timeoutMs, 150);
}

export type ServiceName = 'gateway' | 'detector' | 'classifier';

export interface ServiceHandle extends ManagedProcess {
  kind: ServiceName;
  httpPort: number;
  /** The OIP/gRPC port: the classifier's only (the detector and the gateway serve none). */
  grpcPort: number | undefined;
  /** /healthz, /readyz, /metrics: the gateway's own ops listener; the HTTP port of the others. */
  opsPort: number;
}

export interface ServiceOptions {
  /** Runs it under `ulimit -n` (descriptor-exhaustion tests). */
  nofile?: number;
  timeoutMs?: number;
  httpPort?: number;
  grpcPort?: number;
  /** The gateway's ops port (OPS_PORT); a free one when absent. */
  opsPort?: number;
  /** Name shown in logs (detector-0, ...); the kind when absent. */
  name?: string;
  onLine?: LineSink;
  /** Flags for node itself, before the script (e.g. --cpu-prof, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
  /**
   * Scheduling niceness (0-19) for every thread of the service. Linux keeps a niceness per thread,
   * and a new thread takes its creator's: renicing a running service's pid lowers its main thread
   * only, while its inference threads (onnxruntime's pool, libuv's, V8's) keep competing with the
   * gateway at the default. So the service is started under `nice`, and every thread inherits it.
   */
  nice?: number;
}

/** The `nice` executable on PATH, or undefined (then startService renices each thread it finds). */
function niceCommand(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, 'nice'), fsConstants.X_OK);
      return join(dir, 'nice');
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Linux's autogroups: with `kernel.sched_autogroup_enabled` (the default on many distributions) the
 * scheduler first shares the CPU equally between sessions, and a thread's niceness only weighs
 * against threads of its own session. Every service runs in a session of its own (`detached`), so a
 * niced detector still took as much CPU as the gateway. Its session's autogroup gets the niceness
 * too. Only for a session leader (the service's own session, never the launcher's).
 */
function niceAutogroup(pid: number, nice: number): void {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const session = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
    if (session === pid) writeFileSync(`/proc/${pid}/autogroup`, String(nice));
  } catch {
    // no autogroups (other kernels and platforms): thread niceness alone decides
  }
}

/** Fallback without a `nice` executable: each thread the process has now (Linux /proc; elsewhere its pid). */
function reniceThreads(pid: number, nice: number): void {
  let tids: number[] = [pid];
  try {
    tids = readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    // no /proc: the main thread only
  }
  for (const tid of tids) {
    try {
      setPriority(tid, nice);
    } catch {
      // a thread that ended meanwhile, or a platform that refuses: run as is
    }
  }
}

/** Starts a built service (dist/server.js) on its ports and waits until `waitPath` answers 200. */
export async function startService(kind: ServiceName, env: Record<string, string>, waitPath = '/healthz', opts: ServiceOptions = {}): Promise<ServiceHandle> {
  const httpPort = opts.httpPort ?? (await freePort());
  const grpcPort = kind === 'classifier' ? (opts.grpcPort ?? (await freePort())) : undefined;
  const opsPort = kind === 'gateway' ? (opts.opsPort ?? (await freePort())) : httpPort;
  const script = join(repoRoot, 'services', kind, 'dist', 'server.js');
  let cmd = process.execPath;
  let args = [...(opts.nodeArgs ?? []), script];
  const nice = opts.nice ? Math.min(19, Math.max(0, Math.round(opts.nice))) : 0;
  const niceBin = nice ? niceCommand() : undefined;
  if (niceBin) {
    args = ['-n', String(nice), cmd, ...args];
    cmd = niceBin;
  }
  if (opts.nofile) {
    args = ['-c', `ulimit -n ${opts.nofile} && exec "$0" "$@"`, cmd, ...args];
    cmd = '/bin/sh';
  }
  const proc = new ManagedProcess(opts.name ?? kind, cmd, args, {
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    ORT_INTRA_OP_THREADS: '1',
    // The service stops itself (in order) if the launcher dies without stopping it.
    DFD_PARENT_PID: String(process.pid),
    ...env,
    HTTP_PORT: String(httpPort),
    ...(grpcPort !== undefined ? { GRPC_PORT: String(grpcPort) } : {}),
    ...(kind === 'gateway' ? { OPS_PORT: String(opsPort) } : {}),
  }) as ServiceHandle;
  proc.onLine = opts.onLine;
  proc.start();
  if (nice && proc.child?.pid) niceAutogroup(proc.child.pid, nice);
  proc.kind = kind;
  proc.httpPort = httpPort;
  proc.grpcPort = grpcPort;
  proc.opsPort = opsPort;
  try {
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    for (;;) {
      if (!proc.alive) throw new Error(`${proc.name} exited (${proc.child?.signalCode ?? proc.child?.exitCode}) before it was ready`);
      const ok = await fetch(`http://127.0.0.1:${httpPort}${waitPath}`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${proc.name} on ${httpPort}${waitPath}`);
      await sleep(150);
    }
  } catch (err) {
    await proc.kill();
    throw new Error(`${(err as Error).message}\n--- ${proc.name} output ---\n${proc.output}`);
  }
  // Without a `nice` executable: the threads it has once ready (its pools are made by then).
  if (nice && !niceBin && proc.child?.pid) reniceThreads(proc.child.pid, nice);
  return proc;
}
