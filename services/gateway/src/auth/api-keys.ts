import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** What the API and the CLI show of a key: never the key itself, never its hash. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  created_at: string;
  revoked_at: string | null;
  /** Per-key overrides; null means the gateway default. */
  rate_limit_per_minute: number | null;
  max_concurrent_jobs: number | null;
}

export interface CreatedApiKey {
  /** The secret, shown once. */
  key: string;
  record: ApiKeyRecord;
}

export type KeyLookup = { status: 'ok'; record: ApiKeyRecord } | { status: 'revoked'; record: ApiKeyRecord } | { status: 'unknown' };

const KEY_PATTERN = /^dfd_[A-Za-z0-9_-]{43}$/;

function intOrNull(v: string | undefined): number | null {
  return v === undefined || v === '' ? null : Number(v);
}

/**
 * API keys in Redis, stored hashed: HMAC-SHA256(pepper, key) when a pepper is configured (always in
 * production), plain SHA-256 otherwise. A leaked Redis dump therefore yields no usable key.
 *
 * Layout: `<p>h:<hash>` → id; `<p>id:<id>` hash with the record and the key hash; `<p>all` a
 * sorted set of ids by creation time.
 */
export class ApiKeyStore {
  constructor(
    private readonly redis: Redis,
    private readonly pepper: string | undefined,
    private readonly prefix = 'dfd:apikey:',
  ) {}

  hash(key: string): string {
    return this.pepper ? createHmac('sha256', this.pepper).update(key).digest('hex') : createHash('sha256').update(key).digest('hex');
  }

  async create(name: string, limits: { rateLimitPerMinute?: number; maxConcurrentJobs?: number } = {}): Promise<CreatedApiKey> {
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > 100) throw new Error('a key name must have 1 to 100 characters');
    const key = `dfd_${randomBytes(32).toString('base64url')}`;
    const id = `key_${randomBytes(8).toString('hex')}`;
    const hash = this.hash(key);
    const createdAt = new Date();
    const fields: Record<string, string> = { id, name: trimmed, hash, created_at: createdAt.toISOString() };
    if (limits.rateLimitPerMinute !== undefined) fields.rate_limit_per_minute = String(limits.rateLimitPerMinute);
    if (limits.maxConcurrentJobs !== undefined) fields.max_concurrent_jobs = String(limits.maxConcurrentJobs);
    const res = await this.redis
      .multi()
      .set(`${this.prefix}h:${hash}`, id, 'NX')
      .hset(`${this.prefix}id:${id}`, fields)
      .zadd(`${this.prefix}all`, createdAt.getTime(), id)
      .exec();
    if (!res || res[0]?.[1] !== 'OK') throw new Error('key collision; try again');
    return { key, record: this.recordOf(fields)! };
  }

  async lookup(key: string): Promise<KeyLookup> {
    if (!KEY_PATTERN.test(key)) return { status: 'unknown' };
    const id = await this.redis.get(`${this.prefix}h:${this.hash(key)}`);
    if (!id) return { status: 'unknown' };
    const record = await this.get(id);
    if (!record) return { status: 'unknown' };
    return record.revoked_at ? { status: 'revoked', record } : { status: 'ok', record };
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    return this.recordOf(await this.redis.hgetall(`${this.prefix}id:${id}`));
  }

  async list(): Promise<ApiKeyRecord[]> {
    const ids = await this.redis.zrange(`${this.prefix}all`, 0, -1);
    const out: ApiKeyRecord[] = [];
    for (const id of ids) {
      const r = await this.get(id);
      if (r) out.push(r);
    }
    return out;
  }

  /** Marks the key revoked (kept for the audit trail); false when there is no such key. */
  async revoke(id: string): Promise<boolean> {
    const exists = await this.redis.exists(`${this.prefix}id:${id}`);
    if (!exists) return false;
    await this.redis.hsetnx(`${this.prefix}id:${id}`, 'revoked_at', new Date().toISOString());
    return true;
  }

  private recordOf(h: Record<string, string>): ApiKeyRecord | null {
    if (!h.id) return null;
    return {
      id: h.id,
      name: h.name ?? '',
      created_at: h.created_at ?? '',
      revoked_at: h.revoked_at || null,
      rate_limit_per_minute: intOrNull(h.rate_limit_per_minute),
      max_concurrent_jobs: intOrNull(h.max_concurrent_jobs),
    };
  }
}
