// Loads the original @vladmandic/face-api (TF.js, pure-JS CPU backend) in Node with the weights
// shipped inside the npm package. Nothing is downloaded. Used for weight dumps and parity references.
const path = require('path');
const { createRequire } = require('module');

const rootRequire = createRequire(path.join(__dirname, '../../packages/face/package.json'));
const FACEAPI_DIR = path.dirname(rootRequire.resolve('@vladmandic/face-api/package.json'));
const MODEL_DIR = path.join(FACEAPI_DIR, 'model');

let cached;
async function loadFaceApi() {
  if (cached) return cached;
  const faceapi = rootRequire(path.join(FACEAPI_DIR, 'dist/face-api.node-wasm.js'));
  await faceapi.tf.setBackend('cpu');
  await faceapi.tf.ready();
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(MODEL_DIR);
  await faceapi.nets.tinyFaceDetector.loadFromDisk(MODEL_DIR);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(MODEL_DIR);
  cached = faceapi;
  return faceapi;
}
module.exports = { loadFaceApi, MODEL_DIR, FACEAPI_DIR };
