/**
 * The one place that wires the stack: Redis (an existing one, or a private one with an append-only
 * file), M classifiers, N detectors pointed at them, the gateway; and stops it in the documented
 * order: gateway (stop taking work) → detectors (finish or hand back in-flight jobs) → model
 * servers → Redis. `npm start`, the tests and the load tools all use it.
 */
import { assertPortsFree } from './ports.js';
import { freePort, redisPing, RedisServer, sleep, startService, type LineSink, type ServiceHandle } from './processes.js';

export interface StackOptions {
  detectors?: number;
  classifiers?: number;
  modelsDir: string;
  /** Use this Redis when one answers there; otherwise start one on its port. Absent: a private one on a free port. */
  redisUrl?: string;
  /** Append-only file folder of a Redis started here (default: a temporary folder). */
  redisDataDir?: string;
  /** Append-only persistence of a Redis started here (default true). */
  redisAppendOnly?: boolean;
  /** Restart a Redis started here when it dies (the services reconnect by themselves). */
  superviseRedis?: boolean;
  /**
   * `free`: any free loopback ports (tests, load tools). A number: the gateway on it, detector i
   * on HTTP base+1001+10i (health, metrics; it serves no gRPC), classifier i on gRPC base+2+10i /
   * HTTP base+1002+10i (base 8100: 9101, 8102/9102 as documented); checked up front.
   */
  ports?: 'free' | { gateway: number; base?: number };
  env?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  detectorEnv?: Record<string, string>;
  classifierEnv?: Record<string, string>;
  /** `ulimit -n` for the gateway process only. */
  gatewayNofile?: number;
  /** Each output line of every process. */
  onLine?: LineSink;
  /** Launcher messages (start, stop order). */
  log?: (line: string) => void;
  /** A process other than a supervised Redis ended while the stack was up. */
  onExit?: (name: string, code: number | null, signal: NodeJS.Signals | null) => void;
  timeoutMs?: number;
  /**
   * Scheduling niceness of the model workers (detectors, classifiers), 0-19. On a shared machine the
   * gateway, which must answer everyone fast (202 or 429), then gets the CPU before inference does.
   */
  workerNice?: number;
  /** Flags for node itself in every service (the benchmark's --cpu-prof). */
  nodeArgs?: string[];
}

export interface Stack {
  /** The Redis this launcher started, if it started one. */
  redis: RedisServer | undefined;
  redisUrl: string;
  ownRedis: boolean;
  classifiers: ServiceHandle[];
  detectors: ServiceHandle[];
  gateway: ServiceHandle;
  url: string;
  modelsDir: string;
  /** The environment every service got (REDIS_URL, MODELS_DIR, ...). */
  env: Record<string, string>;
  /** Every process, Redis last, with pid (for RSS/fd sampling). */
  processes(): Array<{ name: string; kind: 'gateway' | 'detector' | 'classifier' | 'redis'; pid: number; httpPort: number; grpcPort: number | undefined }>;
  addDetector(): Promise<ServiceHandle>;
  /** Stops everything in order; `log` says what stopped. Idempotent. */
  stop(): Promise<void>;
  /** Set while stop() runs. */
  stopping: boolean;
}

export async function launchStack(opts: StackOptions): Promise<Stack> {
  const log = opts.log ?? (() => undefined);
  const nDetectors = opts.detectors ?? 1;
  const nClassifiers = opts.classifiers ?? 1;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const fixed = opts.ports && opts.ports !== 'free' ? opts.ports : undefined;
  const base = fixed?.base ?? 8100;
  const detPorts = (i: number) => (fixed ? { httpPort: base + 1001 + i * 10 } : {});
  // The gateway's ops listener (health, readiness, metrics): 9100 beside the default ports.
  const gatewayOps = fixed ? base + 1000 : undefined;
  const clsPorts = (i: number) => (fixed ? { grpcPort: base + 2 + i * 10, httpPort: base + 1002 + i * 10 } : {});

  const servicePorts: Array<{ port: number; what: string }> = [];
  if (fixed) {
    servicePorts.push({ port: fixed.gateway, what: 'gateway HTTP' }, { port: gatewayOps!, what: 'gateway ops' });
    for (let i = 0; i < nClassifiers; i++) servicePorts.push({ port: clsPorts(i).grpcPort!, what: `classifier-${i} gRPC` }, { port: clsPorts(i).httpPort!, what: `classifier-${i} HTTP` });
    for (let i = 0; i < nDetectors; i++) servicePorts.push({ port: detPorts(i).httpPort!, what: `detector-${i} HTTP` });
  }

  // Redis: an existing one, or ours. Every port is checked before anything starts.
  let redis: RedisServer | undefined;
  let redisUrl: string;
  let ownRedis = false;
  if (opts.redisUrl && (await redisAnswers(opts.redisUrl))) {
    redisUrl = opts.redisUrl;
    await assertPortsFree(servicePorts);
  } else {
    let port = 0;
    if (opts.redisUrl) {
      const u = new URL(opts.redisUrl);
      if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') throw new Error(`no Redis answers at ${opts.redisUrl}, and a Redis can only be started here on 127.0.0.1`);
      port = Number(u.port || 6379);
    }
    await assertPortsFree([...(port ? [{ port, what: 'redis' }] : []), ...servicePorts]);
    redis = new RedisServer(port || (await freePort()), { dataDir: opts.redisDataDir, appendOnly: opts.redisAppendOnly ?? true });
    redis.onLine = opts.onLine;
    await redis.start().ready();
    redisUrl = redis.url;
    ownRedis = true;
  }

  const env = { REDIS_URL: redisUrl, MODELS_DIR: opts.modelsDir, QUEUE_NAME: 'analyses', ...opts.env };
  const classifiers: ServiceHandle[] = [];
  const detectors: ServiceHandle[] = [];
  let gateway: ServiceHandle | undefined;
  const stack: Stack = {
    redis,
    redisUrl,
    ownRedis,
    classifiers,
    detectors,
    get gateway() {
      return gateway!;
    },
    get url() {
      return `http://127.0.0.1:${gateway!.httpPort}`;
    },
    modelsDir: opts.modelsDir,
    env,
    stopping: false,
    processes() {
      const list = [...classifiers, ...detectors, ...(gateway ? [gateway] : [])].map((s) => ({ name: s.name, kind: s.kind, pid: s.pid, httpPort: s.httpPort, grpcPort: s.grpcPort }));
      if (redis) list.push({ name: 'redis', kind: 'redis' as never, pid: redis.pid, httpPort: 0, grpcPort: redis.port });
      return list as ReturnType<Stack['processes']>;
    },
    addDetector: async () => {
      const i = detectors.length;
      const d = await startService('detector', detectorEnv(), '/healthz', { ...detPorts(i), name: `detector-${i}`, onLine: opts.onLine, timeoutMs, nodeArgs: opts.nodeArgs, nice: opts.workerNice });
      watch(d);
      detectors.push(d);
      return d;
    },
    stop: () => (stopPromise ??= stopAll()),
  };
  let stopPromise: Promise<void> | undefined;

  const watch = (p: ServiceHandle | RedisServer) =>
    p.child?.once('exit', (code, signal) => {
      if (stack.stopping) return;
      if (p === redis && opts.superviseRedis) {
        log(`redis exited (${signal ?? code}); restarting it from its append-only file in ${redis.dataDir}`);
        void restartRedis();
        return;
      }
      opts.onExit?.(p.name, code, signal);
    });
  const restartRedis = async () => {
    for (let attempt = 0; attempt < 20 && !stack.stopping; attempt++) {
      await sleep(Math.min(2_000, 200 * 2 ** attempt));
      if (stack.stopping) return;
      const next = new RedisServer(redis!.port, { dataDir: redis!.dataDir, appendOnly: opts.redisAppendOnly ?? true });
      next.onLine = opts.onLine;
      try {
        await next.start().ready();
      } catch (err) {
        log(`redis restart failed: ${(err as Error).message.split('\n')[0]}`);
        continue;
      }
      redis = next;
      stack.redis = next;
      watch(next);
      log(`redis restarted (pid ${next.pid})`);
      return;
    }
  };
  if (redis) watch(redis);

  const stopGroup = async (what: string, group: Array<ServiceHandle | RedisServer>, graceMs: number) => {
    const live = group.filter((p) => p.alive);
    if (!live.length) return;
    const t0 = Date.now();
    await Promise.all(live.map((p) => p.stop('SIGTERM', graceMs)));
    log(`stopped ${what} (${live.map((p) => `${p.name} pid ${p.pid}`).join(', ')}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };
  // Grace for each group: the service's own SHUTDOWN_GRACE_MS (+ its 5 s close margin) before SIGKILL.
  const grace = (e: Record<string, string | undefined>, dflt: number) => Number(e.SHUTDOWN_GRACE_MS ?? dflt) + 6_000;
  const stopAll = async () => {
    stack.stopping = true;
    await stopGroup('gateway', gateway ? [gateway] : [], grace({ ...env, ...opts.gatewayEnv }, 10_000));
    await stopGroup('detectors', detectors, grace(detectorEnv(), 30_000));
    await stopGroup('classifiers', classifiers, grace({ ...env, ...opts.classifierEnv }, 10_000));
    if (redis) await stopGroup('redis', [redis], 10_000);
  };

  const detectorEnv = () => ({
    ...env,
    CLASSIFIER_TARGET: `ipv4:${classifiers.map((c) => `127.0.0.1:${c.grpcPort}`).join(',')}`,
    ...opts.detectorEnv,
  });

  try {
    for (let i = 0; i < nClassifiers; i++) {
      const c = await startService('classifier', { ...env, ...opts.classifierEnv }, '/healthz', { ...clsPorts(i), name: `classifier-${i}`, onLine: opts.onLine, timeoutMs, nodeArgs: opts.nodeArgs, nice: opts.workerNice });
      watch(c);
      classifiers.push(c);
    }
    for (let i = 0; i < nDetectors; i++) await stack.addDetector();
    gateway = await startService('gateway', { ...env, ...opts.gatewayEnv }, '/readyz', { httpPort: fixed?.gateway, opsPort: gatewayOps, name: 'gateway', onLine: opts.onLine, nofile: opts.gatewayNofile, timeoutMs, nodeArgs: opts.nodeArgs });
    watch(gateway);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return stack;
}


async function redisAnswers(url: string): Promise<boolean> {
  const u = new URL(url);
  if (u.protocol !== 'redis:') return true; // rediss:// or a password: trust the caller's Redis, the services will say
  return redisPing(u.hostname, Number(u.port || 6379));
}
