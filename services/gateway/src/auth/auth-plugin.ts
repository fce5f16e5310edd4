import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors.js';
import type { RateDecision, RateLimiter } from '../limits/rate-limiter.js';
import type { ApiKeyStore } from './api-keys.js';

/** Who is calling: an API key, or an anonymous client identified by its IP. */
export interface Principal {
  kind: 'key' | 'anonymous';
  /** Subject for limits: "key:<id>" or "ip:<address>". */
  subject: string;
  keyId?: string;
  rateLimitPerMinute: number;
  maxConcurrentJobs: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export interface AuthOptions {
  keys: ApiKeyStore;
  limiter: RateLimiter;
  allowAnonymous: boolean;
  rateLimitPerMinute: number;
  maxConcurrentJobs: number;
  /** Routes whose URL starts with this are protected. */
  prefix?: string;
}

const CHALLENGE = { 'www-authenticate': 'Bearer realm="dfd"' };

export function rateHeaders(d: RateDecision): Record<string, string> {
  return { 'ratelimit-limit': String(d.limit), 'ratelimit-remaining': String(d.remaining), 'ratelimit-reset': String(d.resetSeconds) };
}

/**
 * Authenticates every /v1 request before its body is read, then spends one request of the
 * caller's per-minute budget. The RateLimit-* headers go on every answer, 429 included.
 */
export const authPlugin = fp(async (app: FastifyInstance, opts: AuthOptions) => {
  const prefix = opts.prefix ?? '/v1/';
  app.decorateRequest('principal', null);

  async function authenticate(req: FastifyRequest): Promise<Principal> {
    const header = req.headers.authorization;
    if (header === undefined || header === '') {
      if (!opts.allowAnonymous) throw new ApiError(401, 'unauthorized', 'An API key is required: send "Authorization: Bearer <key>".', CHALLENGE);
      return { kind: 'anonymous', subject: `ip:${req.ip}`, rateLimitPerMinute: opts.rateLimitPerMinute, maxConcurrentJobs: opts.maxConcurrentJobs };
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new ApiError(401, 'unauthorized', 'Malformed Authorization header; expected "Bearer <key>".', CHALLENGE);
    const found = await opts.keys.lookup(m[1]!);
    if (found.status === 'unknown') throw new ApiError(401, 'unauthorized', 'The API key is not valid.', CHALLENGE);
    if (found.status === 'revoked') throw new ApiError(403, 'key_revoked', 'The API key has been revoked.');
    const r = found.record;
    return {
      kind: 'key',
      subject: `key:${r.id}`,
      keyId: r.id,
      rateLimitPerMinute: r.rate_limit_per_minute ?? opts.rateLimitPerMinute,
      maxConcurrentJobs: r.max_concurrent_jobs ?? opts.maxConcurrentJobs,
    };
  }

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const url = req.routeOptions.url;
    if (!url || !url.startsWith(prefix)) return;
    const principal = await authenticate(req);
    req.principal = principal;
    const decision = await opts.limiter.hit(principal.subject, principal.rateLimitPerMinute);
    if (!decision) return;
    const headers = rateHeaders(decision);
    reply.headers(headers);
    if (!decision.allowed) {
      throw new ApiError(429, 'rate_limited', `Rate limit of ${decision.limit} requests per minute exceeded; retry in ${decision.retryAfterSeconds} s.`, {
        ...headers,
        'retry-after': String(decision.retryAfterSeconds),
      });
    }
  });
}, { name: 'dfd-auth' });
