import sharp from 'sharp';

/** A solid-colour picture with some texture, encoded in the given format. */
export async function colourImage(format: 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif', rgb: [number, number, number], size = 96, seed = 0): Promise<Buffer> {
  const data = Buffer.alloc(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    const n = ((i * 7919 + seed * 104729) % 23) - 11;
    data[i * 3] = Math.max(0, Math.min(255, rgb[0] + n));
    data[i * 3 + 1] = Math.max(0, Math.min(255, rgb[1] + n));
    data[i * 3 + 2] = Math.max(0, Math.min(255, rgb[2] + n));
  }
  const img = sharp(data, { raw: { width: size, height: size, channels: 3 } });
  return img.toFormat(format, format === 'jpeg' ? { quality: 95 } : {}).toBuffer();
}

export const RED: [number, number, number] = [210, 60, 50];
export const BLUE: [number, number, number] = [50, 70, 210];
