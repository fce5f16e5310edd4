import type { Redis } from 'ioredis';
import type { RgbImage } from '@dfd/imaging';

/**
 * Normalised pixels parked in Redis between the gateway and a detector: packed RGB, already at
 * working size (at most 512 px a side), stored as they are, with a TTL so that an abandoned job
 * cannot leak memory. The dimensions travel in the job (AnalysisJobData width, height): writing a
 * header in front of the pixels cost the gateway a copy of every image (about 1 MB) per upload.
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
    await this.redis.set(key, img.data, 'EX', this.ttlSeconds);
    return key;
  }

  /** The pixels of a width x height image, or null when they expired or do not fit those dimensions. */
  async get(key: string, width: number, height: number): Promise<RgbImage | null> {
    const buf = await this.redis.getBuffer(key);
    if (!buf) return null;
    const bytes = width * height * 3;
    if (buf.length === bytes) return { width, height, data: buf };
    // Stored by a gateway of before this layout (an 8-byte width/height header), while it drains.
    if (buf.length === 8 + bytes && buf.readUInt32LE(0) === width && buf.readUInt32LE(4) === height) {
      return { width, height, data: buf.subarray(8) };
    }
    return null;
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(key);
  }
}
