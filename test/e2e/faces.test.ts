import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, symlinkSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { startStack, type Stack } from '@dfd/test-support/stack';
import { repoRoot } from '@dfd/test-support/processes';
import { writeTinyModelSet } from '@dfd/test-support/tiny-onnx';

const dataset = join(repoRoot, '..', 'shared', 'datasets', 'faces-v1');

async function someFace(i: number): Promise<Buffer> {
  const manifest = readFileSync(join(dataset, 'manifest.csv'), 'utf8').split('\n').filter((l) => l.includes(',ffhq,'));
  return readFileSync(join(dataset, manifest[i]!.split(',')[0]!));
}

async function analyse(url: string, body: Buffer, query = '') {
  const res = await fetch(`${url}/v1/analyses?wait=25${query}`, { method: 'POST', body, headers: { 'content-type': 'image/jpeg' } });
  const json = (await res.json()) as any;
  assert.equal(res.status, 200, JSON.stringify(json));
  return json.result;
}

// The real face stage (ported ONNX models) in the running pipeline, with fixture verdict models.
describe('face stage in the pipeline', () => {
  let stack: Stack;
  before(async () => {
    const modelsDir = mkdtempSync(join(tmpdir(), 'dfd-models-faces-'));
    writeTinyModelSet(modelsDir);
    for (const m of ['face-detector', 'face-landmarks']) symlinkSync(join(repoRoot, 'models', m), join(modelsDir, m));
    stack = await startStack({ modelsDir, env: { FACE_STAGE: 'true' } });
  });
  after(async () => {
    await stack?.stop();
  });

  it('finds two faces side by side, with boxes on the right halves and their own heatmaps', async () => {
    const [a, b] = await Promise.all([someFace(0), someFace(1)]);
    const canvas = await sharp({ create: { width: 512, height: 256, channels: 3, background: '#777' } })
      .composite([{ input: a, left: 0, top: 0 }, { input: b, left: 256, top: 0 }])
      .jpeg({ quality: 92 })
      .toBuffer();
    const result = await analyse(stack.url, canvas);
    assert.equal(result.faces.length, 2, JSON.stringify(result.notes));
    const centres = result.faces.map((f: any) => f.box.x + f.box.width / 2).sort((p: number, q: number) => p - q);
    assert.ok(centres[0] > 40 && centres[0] < 216, `left face centre ${centres[0]}`);
    assert.ok(centres[1] > 296 && centres[1] < 472, `right face centre ${centres[1]}`);
    for (const face of result.faces) {
      assert.equal(face.landmarks.length, 68);
      assert.equal(face.heatmap.to_image.length, 6);
      // The heatmap grid's centre maps inside the face box.
      const [ga, gb, gc, gd, ge, gf] = face.heatmap.to_image;
      const cx = ga * face.heatmap.width / 2 + gb * face.heatmap.height / 2 + gc;
      const cy = gd * face.heatmap.width / 2 + ge * face.heatmap.height / 2 + gf;
      assert.ok(cx > face.box.x && cx < face.box.x + face.box.width, `heatmap centre x ${cx}`);
      assert.ok(cy > face.box.y - 0.2 * face.box.height && cy < face.box.y + 1.2 * face.box.height, `heatmap centre y ${cy}`);
    }
    assert.ok(result.models.some((m: any) => m.name === 'face-detector'));
    assert.ok(result.timings.face_ms > 0);
  });

  it('analyses the whole image with a no_face note when there is no face', async () => {
    const noise = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#3a6' } }).jpeg().toBuffer();
    const result = await analyse(stack.url, noise);
    assert.equal(result.faces.length, 0);
    assert.ok(result.notes.some((n: string) => n.startsWith('no_face')), result.notes.join());
    assert.ok(['real', 'edited', 'uncertain'].includes(result.verdict));
  });

  it('reports boxes in display orientation for an EXIF-rotated photo', async () => {
    const face = await someFace(2);
    // Store the pixels rotated by 90° and tag orientation 6, as a phone camera does.
    const stored = await sharp(face).rotate(-90).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const scene = await sharp({ create: { width: 600, height: 300, channels: 3, background: '#555' } }).composite([{ input: await sharp(face).resize(200, 200).toBuffer(), left: 380, top: 50 }]).jpeg().toBuffer();
    const rotatedScene = await sharp(scene).rotate(-90).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const direct = await analyse(stack.url, stored);
    assert.equal(direct.faces.length, 1);
    const result = await analyse(stack.url, rotatedScene);
    assert.equal(result.image.width, 512, 'displayed landscape, long side 512');
    assert.ok(result.faces.length >= 1);
    const f = result.faces[0];
    // The face sits at x 380..580 of 600 in display orientation: the right third.
    const cx = (f.box.x + f.box.width / 2) / result.image.width;
    assert.ok(cx > 0.6, `face centre at ${cx.toFixed(2)} of the width`);
  });

  it('judges the whole image as one face crop when cropping is off', async () => {
    const result = await analyse(stack.url, await someFace(3), '&crop_faces=false');
    assert.equal(result.faces.length, 0);
    assert.ok(result.notes.some((n: string) => n.startsWith('crop_disabled')));
  });
});
