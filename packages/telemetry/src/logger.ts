import { pino, type Logger } from 'pino';

/**
 * The path of a request URL with its query string replaced: keys sent as `?api_key=` and the
 * query of a `callback_url` must not reach the logs (issue 11).
 */
export function redactUrl(url: string | undefined): string {
  if (!url) return '';
  const q = url.indexOf('?');
  return q < 0 ? url : `${url.slice(0, q)}?[redacted]`;
}

/** The request as logged: method, path (query redacted), peer; never headers or bodies. */
function requestSerializer(req: { method?: string; url?: string; host?: string; hostname?: string; ip?: string; socket?: { remoteAddress?: string; remotePort?: number } }) {
  return {
    method: req.method,
    url: redactUrl(req.url),
    host: req.host ?? req.hostname,
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
    remotePort: req.socket?.remotePort,
  };
}

/** JSON logs; request and job ids travel as child-logger bindings (`reqId`, `jobId`). */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Bodies and credentials must never reach the logs.
    serializers: { req: requestSerializer },
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'body', 'image'], remove: true },
  });
}
export type { Logger };
