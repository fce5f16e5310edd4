import type { Redis } from 'ioredis';
import type { RgbImage } from '@dfd/imaging';

/**
 * Normalised pixels parked in Redis between the gateway and a detector. Stored raw (already at
 * working size, at most 512 px a side) with a TTL, so an abandoned job cannot leak memory.
 */
export class PixelStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds = 3600,
    private readonly prefix = 'dfd:px:',
  ) {}

  keyFor(id: string): string {
    return `${this.prefix}${id}`;
  }

  async put(id: string, img: RgbImage): Promise<string> {
    const key = this.keyFor(id);
    const header = Buffer.alloc(8);
    header.writeUInt32LE(img.width, 0);
    header.writeUInt32LE(img.height, 4);
    await this.redis.set(key, Buffer.concat([header, img.data]), 'EX', this.ttlSeconds);
    return key;
  }

  async get(key: string): Promise<RgbImage | null> {
    const buf = await this.redis.getBuffer(key);
    if (!buf || buf.length < 8) return null;
    const width = buf.readUInt32LE(0);
    const height = buf.readUInt32LE(4);
    if (buf.length !== 8 + width * height * 3) return null;
    return { width, height, data: buf.subarray(8) };
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(key);
  }
}
