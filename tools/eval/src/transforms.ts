import sharp from 'sharp';

/**
 * What an upload may go through before it reaches us; a verdict should not change under any of
 * them. Each takes the original file and returns a new file, as a user would upload it.
 */
export const TRANSFORMS = ['flip', 'jpeg75', 'half', 'canvas-plain', 'canvas-busy'] as const;
export type TransformName = (typeof TRANSFORMS)[number];

/** A busy, deterministic background: coloured blocks over smooth noise (seeded by the size). */
async function busyBackground(width: number, height: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  let seed = (width * 7919 + height * 104729) >>> 0;
  const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const blocks = Array.from({ length: 40 }, () => ({
    x: rand() * width, y: rand() * height, w: (0.05 + rand() * 0.3) * width, h: (0.05 + rand() * 0.3) * height,
    c: [rand() * 255, rand() * 255, rand() * 255],
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let c = [128 + 60 * Math.sin(x / 23), 128 + 60 * Math.cos(y / 31), 128 + 60 * Math.sin((x + y) / 17)];
      for (const b of blocks) if (x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h) c = b.c;
      const o = (y * width + x) * 3;
      for (let k = 0; k < 3; k++) data[o + k] = Math.max(0, Math.min(255, Math.round(c[k]! + (rand() - 0.5) * 30)));
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

export async function transformFile(file: Buffer, name: TransformName): Promise<Buffer> {
  const img = sharp(file).rotate();
  const { width = 0, height = 0 } = await sharp(await img.clone().png().toBuffer()).metadata();
  switch (name) {
    case 'flip':
      return img.flop().png().toBuffer();
    case 'jpeg75':
      return img.jpeg({ quality: 75 }).toBuffer();
    case 'half':
      return img.resize(Math.max(1, Math.round(width / 2)), Math.max(1, Math.round(height / 2))).png().toBuffer();
    case 'canvas-plain': {
      const dx = Math.round(width / 2);
      const dy = Math.round(height / 2);
      return img.extend({ top: dy, bottom: height - dy, left: dx, right: width - dx, background: { r: 232, g: 232, b: 232 } }).png().toBuffer();
    }
    case 'canvas-busy': {
      const bg = await busyBackground(width * 2, height * 2);
      const fg = await img.png().toBuffer();
      return sharp(bg).composite([{ input: fg, left: Math.round(width / 2), top: Math.round(height / 2) }]).png().toBuffer();
    }
  }
}
