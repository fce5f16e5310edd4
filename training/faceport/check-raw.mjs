// Raw-tensor parity: original TF.js nets (face-api, CPU backend) vs the exported ONNX graphs,
// on one faces-v1 image. Usage: node training/faceport/check-raw.mjs [onnxDir] [image]
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
const require = createRequire(import.meta.url);
const faceRequire = createRequire(resolve(import.meta.dirname, '../../packages/face/package.json'));
const { loadFaceApi } = require('./faceapi-node.cjs');
const sharp = faceRequire('sharp');
const { ort } = await import(resolve(import.meta.dirname, '../../packages/model-runtime/dist/index.js'));

const onnxDir = resolve(process.argv[2] ?? '.cache/faceport/onnx');
const imgPath = process.argv[3] ?? '../shared/datasets/faces-v1/real/ffhq/' + (await import('node:fs')).readdirSync('../shared/datasets/faces-v1/real/ffhq')[0];
const faceapi = await loadFaceApi();
const tf = faceapi.tf;

async function rgb(size) {
  const { data } = await sharp(imgPath).resize(size, size, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return data;
}
function nchw(buf, s) {
  const out = new Float32Array(3 * s * s);
  for (let i = 0; i < s * s; i++) for (let c = 0; c < 3; c++) out[c * s * s + i] = buf[i * 3 + c];
  return out;
}
function maxdiff(a, b) { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; }

async function run(file, input, s) {
  const sess = await ort.InferenceSession.create(resolve(onnxDir, file), { intraOpNumThreads: 1 });
  const res = await sess.run({ image: new ort.Tensor('float32', nchw(input, s), [1, 3, s, s]) });
  return res;
}

// SSD (only if exported with port.py --ssd)
if ((await import('node:fs')).existsSync(resolve(onnxDir, 'ssd_mobilenetv1.onnx'))) {
  const buf = await rgb(512);
  const t = tf.tensor4d(buf, [1, 512, 512, 3], 'int32');
  const ni = await faceapi.toNetInput(t);
  const { boxes, scores } = faceapi.nets.ssdMobilenetv1.forwardInput(ni);
  const tb = boxes[0].dataSync(), ts = scores[0].dataSync();
  const o = await run('ssd_mobilenetv1.onnx', buf, 512);
  const best = ts.indexOf(Math.max(...ts));
  console.log('ssd boxes maxdiff', maxdiff(tb, o.boxes.data), 'scores maxdiff', maxdiff(ts, o.scores.data), 'best score', ts[best], o.scores.data[best]);
}
// Tiny (size-dynamic graph)
for (const S of [416, 320, 224]) {
  const buf = await rgb(S);
  const t = tf.tensor4d(buf, [1, S, S, 3], 'int32');
  const ni = await faceapi.toNetInput(t);
  const out = faceapi.nets.tinyFaceDetector.forwardInput(ni, S);
  const o = await run('tiny_face_detector.onnx', buf, S);
  console.log('tiny shape', out.shape, o.grid.dims, 'maxdiff', maxdiff(out.dataSync(), o.grid.data));
}
// Landmarks
{
  const buf = await rgb(112);
  const t = tf.tensor4d(buf, [1, 112, 112, 3], 'int32');
  const ni = await faceapi.toNetInput(t);
  const out = faceapi.nets.faceLandmark68Net.runNet(ni);
  const o = await run('face_landmark_68.onnx', buf, 112);
  console.log('landmarks maxdiff (fraction of crop)', maxdiff(out.dataSync(), o.landmarks.data));
}
