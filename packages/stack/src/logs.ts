/**
 * Development log view: the services log JSON (pino, the production format); the launcher turns
 * each line into one short readable line, and a request into one line (method, path, status, time)
 * instead of pino's two JSON objects.
 */
const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'service', 'msg', 'reqId', 'req', 'res', 'responseTime', 'v']);

/** redis-server's start-up and shutdown chatter (its warnings that matter are kept). */
const REDIS_NOISE = /oO0OoO0OoO0Oo|Redis version=|Configuration loaded|Server initialized|overcommit|Ready to accept|scheduling shutdown|User requested shutdown|ready to exit|Saving the final|Calling fsync|DB loaded|Done loading|Creating AOF|AOF loaded|Reading RDB|RDB age|RDB memory|Removing the pid|Server started|Redis is starting|Running mode/;

function clock(t: unknown): string {
  const d = typeof t === 'string' || typeof t === 'number' ? new Date(t) : new Date();
  return Number.isNaN(d.getTime()) ? new Date().toTimeString().slice(0, 8) : d.toTimeString().slice(0, 8);
}

function short(v: unknown): string {
  if (typeof v === 'string') return v.length > 80 ? `${v.slice(0, 77)}...` : v;
  if (typeof v === 'number') return String(Math.round(v * 1000) / 1000);
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Returns a formatter with its own memory of in-flight requests (one per launcher). */
export function devLogFormatter(width = 12): (name: string, line: string) => string | undefined {
  const requests = new Map<string, { method: string; url: string }>();
  return (name, line) => {
    const label = name.padEnd(width);
    if (name === 'redis' && REDIS_NOISE.test(line)) return undefined;
    if (!line.startsWith('{')) return `${clock(undefined)} ${label} ${line}`;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return `${clock(undefined)} ${label} ${line}`;
    }
    const key = `${name}:${String(o.reqId ?? '')}`;
    if (o.msg === 'incoming request' && o.req && typeof o.req === 'object') {
      const req = o.req as { method?: string; url?: string };
      requests.set(key, { method: req.method ?? '?', url: req.url ?? '?' });
      if (requests.size > 10_000) requests.delete(requests.keys().next().value as string);
      return undefined; // printed once, with its outcome
    }
    if (o.msg === 'request completed') {
      const req = requests.get(key);
      requests.delete(key);
      const status = (o.res as { statusCode?: number } | undefined)?.statusCode ?? '?';
      // Health probes (the launcher's own, a load balancer's) that succeed are not news.
      if (req && status === 200 && /^\/(healthz|readyz|metrics)(\?|$)/.test(req.url)) return undefined;
      const ms = typeof o.responseTime === 'number' ? `${o.responseTime.toFixed(1)} ms` : '';
      return `${clock(o.time)} ${label} ${req ? `${req.method} ${req.url}` : 'request'} → ${status} ${ms}`.trimEnd();
    }
    const level = LEVELS[Number(o.level)] ?? String(o.level ?? '');
    const extras = Object.entries(o)
      .filter(([k]) => !SKIP_KEYS.has(k))
      .map(([k, v]) => `${k}=${short(v)}`)
      .join(' ');
    return `${clock(o.time)} ${label} ${level === 'info' ? '' : `${level} `}${String(o.msg ?? '')}${extras ? `  ${extras}` : ''}`;
  };
}
