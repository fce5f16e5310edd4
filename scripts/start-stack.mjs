#!/usr/bin/env node
// `npm start [-- --detectors N --classifiers M --port P]`: the whole stack as local processes,
// wired by packages/stack (the same launcher the tests and the load tools use).
//
// Redis: the one answering at REDIS_URL, else a private redis-server on that port with an
// append-only file in <repo>/.data/redis (ignored by git), so a restart of Redis, or of the whole
// stack, loses no accepted job; it is restarted if it dies. Ports are checked up front: a busy port
// is named with the process holding it. SIGINT/SIGTERM/SIGHUP (or the end of npm/the terminal)
// stops, in order: gateway → detectors (finish or hand back in-flight jobs) → model servers → Redis.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const usage = `Usage: npm start -- [--detectors N] [--classifiers M] [--port P] [--base-port B] [--data DIR] [--json] [--quiet]
  --port P        gateway HTTP port (default 8080, env HTTP_PORT)
  --base-port B   model-server ports: detector i on B+1+10i (gRPC) and B+1001+10i (HTTP), classifier i on B+2+10i / B+1002+10i (default 8100)
  --data DIR      where a Redis started here keeps its append-only file (default .data/redis)
  --json          print the services' JSON logs as they are (production format)
  --quiet         print only the launcher's own lines`;

/** @param {string[]} argv @param {{ ancestors?: number[] }} [opts] */
export async function main(argv, opts = {}) {
  let args;
  try {
    ({ values: args } = parseArgs({
      args: argv,
      options: {
        detectors: { type: 'string', default: process.env.DETECTORS ?? '1' },
        classifiers: { type: 'string', default: process.env.CLASSIFIERS ?? '1' },
        port: { type: 'string', default: process.env.HTTP_PORT ?? '8080' },
        'base-port': { type: 'string', default: '8100' },
        data: { type: 'string', default: process.env.DFD_DATA_DIR ?? join(root, '.data', 'redis') },
        json: { type: 'boolean', default: process.env.APP_MODE === 'production' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    console.error(`[dfd] ${err.message}\n${usage}`);
    return 2;
  }
  if (args.help) {
    console.log(usage);
    return 0;
  }
  const detectors = Number(args.detectors);
  const classifiers = Number(args.classifiers);
  for (const [name, n] of [['--detectors', detectors], ['--classifiers', classifiers]]) {
    if (!Number.isInteger(n) || n < 1 || n > 16) {
      console.error(`[dfd] ${name} must be an integer from 1 to 16`);
      return 2;
    }
  }
  const port = Number(args.port);
  const basePort = Number(args['base-port']);
  if (!Number.isInteger(port) || port < 1 || port > 65535 || !Number.isInteger(basePort) || basePort < 1 || basePort + 1002 + 10 * 16 > 65535) {
    console.error('[dfd] --port and --base-port must be TCP port numbers');
    return 2;
  }
  const modelsDir = process.env.MODELS_DIR ?? join(root, 'models');
  for (const m of ['detector', 'classifier']) {
    if (!existsSync(join(modelsDir, m))) {
      console.error(`[dfd] no ${m} model under ${modelsDir}; set MODELS_DIR or run \`npm run train\``);
      return 1;
    }
  }

  const { launchStack, devLogFormatter, watchAncestors, PortBusyError } = await import('../packages/stack/dist/index.js');
  const say = (line) => console.log(`[dfd] ${line}`);
  const pretty = devLogFormatter();
  const onLine = args.quiet
    ? undefined
    : args.json
      ? (_name, line) => console.log(line)
      : (name, line) => {
          const out = pretty(name, line);
          if (out !== undefined) console.log(out);
        };

  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  let stack;
  let stopping;
  const stop = (why) =>
    (stopping ??= (async () => {
      say(`stopping (${why}): gateway, then detectors, then model servers, then Redis ...`);
      await stack?.stop();
      say('stopped; nothing left running');
    })());
  // Signals during start-up are honoured too: the stack is stopped as soon as it is up.
  let early;
  const onSignal = (sig) => {
    if (!stack) early ??= sig;
    else void stop(sig).then(() => process.exit(0));
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => onSignal(sig));
  const unwatch = watchAncestors((pid) => onSignal(`parent process ${pid} ended`), opts.ancestors);

  say(`Redis: ${redisUrl} (${process.env.REDIS_URL ? 'REDIS_URL' : 'default'}) ...`);
  try {
    stack = await launchStack({
      detectors,
      classifiers,
      modelsDir,
      redisUrl,
      redisDataDir: args.data,
      superviseRedis: true,
      ports: { gateway: port, base: basePort },
      // Model workers yield the CPU to the gateway (and Redis) when they share a machine.
      // 19 rather than 10: at 2,000 users on a slow 2-core host, accept p95 1.22 s at 10, 1.00 s at 19
      // (loadtest/README.md, fourth session), for 3 % fewer verdicts/s.
      workerNice: Number(process.env.WORKER_NICE ?? 19),
      env: {
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
        HOST: process.env.HOST ?? '0.0.0.0',
        ORT_INTRA_OP_THREADS: process.env.ORT_INTRA_OP_THREADS ?? '1',
      },
      // Local development: a batch of a few hundred files from the CLI fits in the anonymous limit.
      gatewayEnv: { RATE_LIMIT_PER_MINUTE: process.env.RATE_LIMIT_PER_MINUTE ?? '3000', MAX_CONCURRENT_JOBS_PER_KEY: process.env.MAX_CONCURRENT_JOBS_PER_KEY ?? '500' },
      onLine,
      log: say,
      onExit: (name, code, signal) => {
        if (stopping) return;
        say(`${name} exited (${signal ?? code}); stopping the stack`);
        void stop(`${name} exited`).then(() => process.exit(1));
      },
    });
  } catch (err) {
    unwatch();
    if (err instanceof PortBusyError) {
      console.error(`[dfd] cannot start: ${err.message}`);
      return 1;
    }
    console.error(`[dfd] the stack did not start: ${err.message}`);
    return 1;
  }
  if (early) {
    await stop(early);
    return 0;
  }
  const redisLine = stack.ownRedis
    ? `${stack.redisUrl}, started here (pid ${stack.redis.pid}), append-only file in ${stack.redis.dataDir}`
    : `${stack.redisUrl}, already running (not started here; its persistence is its own)`;
  const url = `http://127.0.0.1:${stack.gateway.httpPort}`;
  console.log(
    [
      '',
      `[dfd] ready: ${detectors} detector(s), ${classifiers} classifier(s), gateway pid ${stack.gateway.pid}`,
      `[dfd] Redis     ${redisLine}`,
      `[dfd] web page  ${url}/`,
      `[dfd] API docs  ${url}/docs`,
      `[dfd] API       ${url}/v1/analyses  (anonymous: ${process.env.RATE_LIMIT_PER_MINUTE ?? '3000'} requests/min)`,
      `[dfd] ops       http://127.0.0.1:${stack.gateway.opsPort}/metrics  (health, readiness, metrics; not for the public)`,
      '[dfd] Ctrl-C stops everything (gateway, detectors, model servers, then Redis).',
      '',
    ].join('\n'),
  );
  return new Promise(() => undefined); // runs until a signal
}

const direct = process.argv[1] && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1]);
if (direct) {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
