import type { Logger } from 'pino';

/**
 * Runs the given closers once on SIGTERM/SIGINT, in order, and exits. A hard timeout makes sure
 * a stuck closer cannot keep a terminating pod alive past its grace period.
 */
export function onShutdown(logger: Logger, timeoutMs: number, closers: Array<() => Promise<unknown>>): void {
  let closing = false;
  const handler = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out, exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    (async () => {
      for (const close of closers) {
        try {
          await close();
        } catch (err) {
          logger.warn({ err }, 'error while closing');
        }
      }
      logger.info('stopped');
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
  // Started by the local launcher (its own process group, so a terminal's Ctrl-C reaches only the
  // launcher): if the launcher dies without stopping us, stop rather than linger on our ports.
  const parent = Number(process.env.DFD_PARENT_PID);
  if (Number.isInteger(parent) && parent > 1) {
    const watch = setInterval(() => {
      if (process.ppid !== parent) {
        clearInterval(watch);
        handler('launcher exited');
      }
    }, 1_000);
    watch.unref();
  }
}
