import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface BatchItemRecord {
  index: number;
  filename: string | null;
  analysis_id: string | null;
  error?: { code: string; message: string };
}

export interface BatchRecord {
  id: string;
  created_at: string;
  /** API key id of the creator; null for anonymous batches. */
  owner: string | null;
  items: BatchItemRecord[];
}

export const BATCH_ID = /^bat_[a-f0-9]{24}$/;

/** Batches as JSON in Redis with a TTL: id → items (file name, analysis id or error). */
export class BatchStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly prefix = 'dfd:batch:',
  ) {}

  newId(): string {
    return `bat_${randomBytes(12).toString('hex')}`;
  }

  async put(batch: BatchRecord): Promise<void> {
    await this.redis.set(`${this.prefix}${batch.id}`, JSON.stringify(batch), 'EX', this.ttlSeconds);
  }

  async get(id: string): Promise<BatchRecord | null> {
    if (!BATCH_ID.test(id)) return null;
    const raw = await this.redis.get(`${this.prefix}${id}`);
    return raw ? (JSON.parse(raw) as BatchRecord) : null;
  }
}
