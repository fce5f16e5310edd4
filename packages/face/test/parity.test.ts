/**
 * Parity of the ONNX port with the original @vladmandic/face-api TF.js nets:
 * boxes within 2 px and landmarks within 1 px at 256-px scale.
 *  - stored fixture: training/faceport/parity.mjs --fixture (20 faces-v1 images, 2 per source)
 *  - live: face-api run in this process on the TF.js CPU backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { decodeToRgb, type RgbImage } from '@dfd/imaging';
import { faceCropRect, type FaceStage } from '../src/index.js';
import { facesDir, haveFaces, loadStage, repoRoot, sampleFaces } from './helpers.js';

interface RefFace {
  box: { x: number; y: number; width: number; height: number };
  score: number;
  landmarks: Array<[number, number]>;
}
interface Fixture {
  inputSize: number;
  cases: Array<{ source: string; file: string; size: number; faces: RefFace[] }>;
}

const BOX_TOL = 2;
const LM_TOL = 1;

/** Main detector pass + landmarks on the face-api crop (clipped box), i.e. exactly face-api's pipeline. */
async function ours(stage: FaceStage, img: RgbImage): Promise<RefFace[]> {
  const dets = await stage.detectBoxes(img);
  const crops = dets.map((d) => faceCropRect(d, img.width, img.height)!);
  const lms = await stage.landmarker.predict(img, crops);
  return dets.map((d, i) => ({ box: { x: d.x, y: d.y, width: d.width, height: d.height }, score: d.score, landmarks: lms[i]! }));
}

function assertClose(ref: RefFace[], got: RefFace[], what: string, scale: number): { box: number; lm: number } {
  assert.equal(got.length, ref.length, `${what}: face count`);
  let box = 0;
  let lm = 0;
  ref.forEach((r, i) => {
    const g = got[i]!;
    box = Math.max(box, ...(['x', 'y', 'width', 'height'] as const).map((k) => Math.abs(g.box[k] - r.box[k]) * scale));
    assert.ok(Math.abs(g.score - r.score) < 1e-3, `${what}: score ${g.score} vs ${r.score}`);
    r.landmarks.forEach(([x, y], j) => {
      lm = Math.max(lm, Math.hypot(g.landmarks[j]![0] - x, g.landmarks[j]![1] - y) * scale);
    });
  });
  assert.ok(box <= BOX_TOL, `${what}: box deviation ${box} px`);
  assert.ok(lm <= LM_TOL, `${what}: landmark deviation ${lm} px`);
  return { box, lm };
}

test('matches the stored face-api reference (fixture)', { skip: !haveFaces && 'faces-v1 not available' }, async () => {
  const fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/faceapi-reference.json'), 'utf8')) as Fixture;
  const stage = await loadStage();
  assert.equal(stage.inputSize, fixture.inputSize);
  let faces = 0;
  for (const c of fixture.cases) {
    const img = await decodeToRgb(join(facesDir, c.file));
    assert.equal(img.width, c.size);
    assertClose(c.faces, await ours(stage, img), c.file, 256 / c.size);
    faces += c.faces.length;
  }
  assert.ok(faces >= 5, 'fixture should contain faces');
});

test('matches face-api computed live (TF.js CPU backend)', { skip: !haveFaces && 'faces-v1 not available' }, async () => {
  const require = createRequire(import.meta.url);
  const { loadFaceApi } = require(join(repoRoot, 'training/faceport/faceapi-node.cjs')) as {
    loadFaceApi: () => Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const faceapi = await loadFaceApi();
  const stage = await loadStage();
  for (const file of [sampleFaces.celebahq, sampleFaces.ciplab]) {
    const img = await decodeToRgb(join(facesDir, file));
    const t = faceapi.tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
    const res = await faceapi
      .detectAllFaces(t, new faceapi.TinyFaceDetectorOptions({ inputSize: stage.inputSize, scoreThreshold: stage.scoreThreshold }))
      .withFaceLandmarks();
    t.dispose();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const ref: RefFace[] = res.map((r: any) => {
      const b = r.detection.box;
      const crop = faceCropRect(b, img.width, img.height)!;
      return {
        box: { x: b.x, y: b.y, width: b.width, height: b.height },
        score: r.detection.score,
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        landmarks: r.unshiftedLandmarks.positions.map((p: any) => [p.x + crop.x, p.y + crop.y]),
      };
    });
    assert.ok(ref.length >= 1, `face-api finds a face in ${file}`);
    assertClose(ref, await ours(stage, img), file, 256 / img.width);
  }
});
