import sharp from 'sharp';

/** A solid-colour picture with some texture, encoded in the given format. */
export async function colourImage(format: 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif', rgb: [number, number, number], size = 96, seed = 0): Promise<Buffer> {
  const data = Buffer.alloc(size * size * 3);
  // mulberry32: a distinct, repeatable texture per seed.
  let state = (seed * 0x9e3779b9) >>> 0;
  const rand = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = 0; i < size * size; i++) {
    const n = Math.floor(rand() * 23) - 11;
    data[i * 3] = Math.max(0, Math.min(255, rgb[0] + n));
    data[i * 3 + 1] = Math.max(0, Math.min(255, rgb[1] + n));
    data[i * 3 + 2] = Math.max(0, Math.min(255, rgb[2] + n));
  }
  const img = sharp(data, { raw: { width: size, height: size, channels: 3 } });
  return img.toFormat(format, format === 'jpeg' ? { quality: 95 } : {}).toBuffer();
}

export const RED: [number, number, number] = [210, 60, 50];
export const BLUE: [number, number, number] = [50, 70, 210];
