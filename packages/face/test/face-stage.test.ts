import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeToRgb, type RgbImage } from '@dfd/imaging';
import {
  applyAffine, CANONICAL_FIVE_POINTS, cropPadResizeNchw, estimateSimilarity, fivePoints, invertAffine, MIRROR_68, type Face,
} from '../src/index.js';
import { facesDir, haveFaces, loadStage, sampleFaces } from './helpers.js';

const skip = !haveFaces && 'faces-v1 not available';
const face = (name: keyof typeof sampleFaces): string => join(facesDir, sampleFaces[name]);
const centre = (f: Face): [number, number] => [f.box.x + f.box.width / 2, f.box.y + f.box.height / 2];
const eyesAboveMouth = (f: Face): boolean => {
  const [le, re, , ml, mr] = fivePoints(f.landmarks);
  return Math.max(le![1], re![1]) < Math.min(ml![1], mr![1]);
};

test('modelInfo lists both models with their sha256', async () => {
  const info = (await loadStage()).modelInfo();
  assert.deepEqual(info.map((m) => m.name), ['face-detector', 'face-landmarks']);
  for (const m of info) assert.match(m.sha256, /^[0-9a-f]{64}$/);
  // The newest version of each under models/: the detector with its padding folded (1.1.0).
  assert.deepEqual(info.map((m) => m.version), ['1.1.0', '1.0.0']);
});

test('finds two faces side by side, each in its own place', { skip }, async () => {
  const tile = 240;
  const [a, b] = await Promise.all([face('ffhq'), face('celebahq')].map((p) => sharp(p).resize(tile, tile).toBuffer()));
  const W = 720, H = 400;
  const tiles = [{ left: 60, top: 90 }, { left: 420, top: 70 }];
  const png = await sharp({ create: { width: W, height: H, channels: 3, background: '#8a8f94' } })
    .composite([{ input: a!, ...tiles[0]! }, { input: b!, ...tiles[1]! }])
    .png()
    .toBuffer();
  const faces = await (await loadStage()).detect(await decodeToRgb(png));
  assert.equal(faces.length, 2, JSON.stringify(faces.map((f) => f.box)));
  const byX = [...faces].sort((p, q) => p.box.x - q.box.x);
  byX.forEach((f, i) => {
    const t = tiles[i]!;
    const [cx, cy] = centre(f);
    // the box centre sits in the middle of its tile (faces-v1 faces are roughly centred)
    assert.ok(Math.abs(cx - (t.left + tile / 2)) < tile * 0.15, `face ${i} cx ${cx}`);
    assert.ok(Math.abs(cy - (t.top + tile / 2)) < tile * 0.25, `face ${i} cy ${cy}`);
    assert.ok(f.box.width > tile * 0.5 && f.box.width < tile * 1.1, `face ${i} width ${f.box.width}`);
    assert.equal(f.landmarks.length, 68);
    for (const [x, y] of f.landmarks) {
      assert.ok(x > t.left - 10 && x < t.left + tile + 10 && y > t.top - 10 && y < t.top + tile + 10, 'landmark inside its tile');
    }
    assert.ok(eyesAboveMouth(f));
  });
});

test('finds no face in noise or a gradient', async () => {
  const stage = await loadStage();
  const W = 512, H = 384;
  const noise = Buffer.alloc(W * H * 3);
  let seed = 12345;
  for (let i = 0; i < noise.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    noise[i] = seed >>> 24;
  }
  const gradient = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 3;
      gradient[o] = (x * 255) / W;
      gradient[o + 1] = (y * 255) / H;
      gradient[o + 2] = 128;
    }
  }
  for (const data of [noise, gradient, Buffer.alloc(W * H * 3, 200)]) {
    assert.deepEqual(await stage.detect({ width: W, height: H, data }), []);
  }
});

test('EXIF-rotated JPEG gives boxes in display orientation', { skip }, async () => {
  const stage = await loadStage();
  const upright = await sharp(face('celebahq')).extend({ top: 0, bottom: 0, left: 0, right: 128, background: '#777777' }).png().toBuffer();
  // Stored pixels turned 90 deg counter-clockwise, with orientation 6 ("rotate 90 CW to display").
  const stored = await sharp(upright).rotate(-90).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
  assert.equal((await sharp(stored).metadata()).orientation, 6);
  const img = await decodeToRgb(stored);
  assert.deepEqual([img.width, img.height], [384, 256], 'decoded in display orientation');
  const ref = await stage.detect(await decodeToRgb(upright));
  const got = await stage.detect(img);
  assert.equal(ref.length, 1);
  assert.equal(got.length, 1);
  const [rx, ry] = centre(ref[0]!);
  const [gx, gy] = centre(got[0]!);
  assert.ok(Math.hypot(rx - gx, ry - gy) < 6, `centre ${gx},${gy} vs ${rx},${ry}`);
  assert.ok(Math.abs(got[0]!.box.width - ref[0]!.box.width) < 8);
  assert.ok(eyesAboveMouth(got[0]!), 'upright face');
});

test('aligned crop of a faces-v1 image is close to the image itself', { skip }, async () => {
  const stage = await loadStage();
  const img = await decodeToRgb(face('celebahq'));
  const [f] = await stage.detect(img);
  assert.ok(f);
  const { image, toImage, inside } = stage.alignedCrop(img, f, 256);
  assert.deepEqual([image.width, image.height, image.data.length], [256, 256, 256 * 256 * 3]);
  const scale = Math.hypot(toImage[0], toImage[3]);
  const rollDeg = (Math.atan2(toImage[3], toImage[0]) * 180) / Math.PI;
  assert.ok(scale > 0.85 && scale < 1.18, `scale ${scale}`);
  assert.ok(Math.abs(rollDeg) < 6, `roll ${rollDeg}`);
  assert.ok(Math.abs(toImage[2]) < 25 && Math.abs(toImage[5]) < 25, `translation ${toImage[2]},${toImage[5]}`);
  assert.ok(inside > 0.85);
});

test('aligned crop undoes rotation and scale of a face placed in a larger photo', { skip }, async () => {
  const stage = await loadStage();
  const faceImg = await sharp(face('ffhq')).resize(180, 180).rotate(25, { background: '#707070' }).toBuffer();
  const meta = await sharp(faceImg).metadata();
  const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#707070' } })
    .composite([{ input: faceImg, left: 330, top: 150 }])
    .png()
    .toBuffer();
  const img = await decodeToRgb(png);
  const faces = await stage.detect(img);
  assert.equal(faces.length, 1);
  const { toImage } = stage.alignedCrop(img, faces[0]!, 256);
  const rollDeg = (Math.atan2(toImage[3], toImage[0]) * 180) / Math.PI;
  assert.ok(Math.abs(rollDeg - 25) < 6, `roll ${rollDeg}`); // sharp rotates clockwise
  const scale = Math.hypot(toImage[0], toImage[3]);
  assert.ok(Math.abs(scale - 180 / 256) < 0.12, `scale ${scale}`);
  // the crop centre lands on the centre of the placed face
  const [cx, cy] = applyAffine(toImage, 128, 128);
  assert.ok(Math.hypot(cx - (330 + meta.width! / 2), cy - (150 + meta.height! / 2)) < 20, `centre ${cx},${cy}`);
});

test('similarity fit and inverse', () => {
  const tpl = CANONICAL_FIVE_POINTS.map(([x, y]) => [x * 100, y * 100] as [number, number]);
  const th = 0.3, s = 2.5, tx = 40, ty = -7;
  const moved = tpl.map(([x, y]) => [s * (Math.cos(th) * x - Math.sin(th) * y) + tx, s * (Math.sin(th) * x + Math.cos(th) * y) + ty] as [number, number]);
  const m = estimateSimilarity(tpl, moved);
  moved.forEach(([x, y], i) => {
    const [px, py] = applyAffine(m, tpl[i]![0], tpl[i]![1]);
    assert.ok(Math.hypot(px - x, py - y) < 1e-9);
  });
  const inv = invertAffine(m);
  const [bx, by] = applyAffine(inv, ...applyAffine(m, 12, 34));
  assert.ok(Math.abs(bx - 12) < 1e-9 && Math.abs(by - 34) < 1e-9);

});

function mirrorImage(img: RgbImage): RgbImage {
  const data = Buffer.alloc(img.data.length);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) img.data.copy(data, (y * img.width + img.width - 1 - x) * 3, (y * img.width + x) * 3, (y * img.width + x) * 3 + 3);
  }
  return { width: img.width, height: img.height, data };
}

test('a crop read mirrored is the same crop of the mirrored image', () => {
  const W = 37, H = 29;
  const img: RgbImage = { width: W, height: H, data: Buffer.from(Array.from({ length: W * H * 3 }, (_, i) => (i * 37 + (i % 7) * 11) % 256)) };
  const flipped = mirrorImage(img);
  // Inside the image, leaving it on the left, wider than tall and taller than wide (padding on either axis).
  for (const r of [{ x: 5, y: 3, width: 20, height: 20 }, { x: -6, y: 2, width: 19, height: 25 }, { x: 20, y: -4, width: 23, height: 14 }]) {
    const read = cropPadResizeNchw(img, r, 16, true, undefined, 0, true);
    const ofMirror = cropPadResizeNchw(flipped, { ...r, x: W - r.x - r.width }, 16, true);
    assert.deepEqual(Array.from(read), Array.from(ofMirror), JSON.stringify(r));
    assert.notDeepEqual(Array.from(read), Array.from(cropPadResizeNchw(img, r, 16, true)), 'the mirror changes the crop');
  }
});

test('landmarks follow a mirrored photo within 2 % of the eye distance', { skip }, async (t) => {
  const stage = await loadStage();
  const shift = (a: Array<[number, number]>, b: Array<[number, number]>): number => {
    const [pa, pb] = [fivePoints(a), fivePoints(b)];
    const iod = Math.hypot(pa[1]![0] - pa[0]![0], pa[1]![1] - pa[0]![1]);
    return pa.reduce((sum, p, i) => sum + Math.hypot(p[0] - pb[i]![0], p[1] - pb[i]![1]), 0) / 5 / iod;
  };
  for (const name of Object.keys(sampleFaces) as Array<keyof typeof sampleFaces>) {
    const img = await decodeToRgb(face(name));
    const [a] = await stage.detect(img);
    const [b] = await stage.detect(mirrorImage(img));
    assert.ok(a && b, name);
    // b's points mapped back onto the photo: x mirrored, left and right swapped.
    const back = MIRROR_68.map((j) => [img.width - b.landmarks[j]![0], b.landmarks[j]![1]] as [number, number]);
    const oneLook = (await stage.landmarker.predict(img, [a.landmarkCrop]))[0]!;
    const oneLookMirror = (await stage.landmarker.predict(mirrorImage(img), [b.landmarkCrop]))[0]!;
    const oneLookBack = MIRROR_68.map((j) => [img.width - oneLookMirror[j]![0], oneLookMirror[j]![1]] as [number, number]);
    const d = shift(a.landmarks, back);
    t.diagnostic(`${name}: five-point shift under a mirror ${(100 * d).toFixed(2)} % of the eye distance (one look: ${(100 * shift(oneLook, oneLookBack)).toFixed(2)} %)`);
    assert.ok(d < 0.02, `${name}: ${d}`);
    assert.ok(shift(a.landmarks, oneLook) < 0.1, `${name}: the refined points stay near the first look`);
  }
});
