import { pino, type Logger } from 'pino';

/** JSON logs; request and job ids travel as child-logger bindings (`reqId`, `jobId`). */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Bodies and credentials must never reach the logs.
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'body', 'image'], remove: true },
  });
}
export type { Logger };
