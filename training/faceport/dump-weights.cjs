// Dumps the dequantised TF.js weights of @vladmandic/face-api nets (as face-api itself loads them)
// into <out>/<net>.json (tensor index) + <out>/<net>.bin (float32 little-endian), for port.py.
// Usage: node training/faceport/dump-weights.cjs [outDir=.cache/faceport]
const fs = require('fs');
const path = require('path');
const { loadFaceApi, MODEL_DIR } = require('./faceapi-node.cjs');

function flatten(obj, prefix, out) {
  for (const [k, v] of Object.entries(obj)) {
    const p = prefix ? `${prefix}/${k}` : k;
    if (v && typeof v.dataSync === 'function') out.push([p, v]);
    else if (v && typeof v === 'object') flatten(v, p, out);
  }
  return out;
}

async function main() {
  const outDir = path.resolve(process.argv[2] || '.cache/faceport');
  fs.mkdirSync(outDir, { recursive: true });
  const faceapi = await loadFaceApi();
  const nets = {
    ssd_mobilenetv1: faceapi.nets.ssdMobilenetv1,
    tiny_face_detector: faceapi.nets.tinyFaceDetector,
    face_landmark_68: faceapi.nets.faceLandmark68Net,
  };
  for (const [name, net] of Object.entries(nets)) {
    const tensors = flatten(net.params, '', []);
    if (net.faceFeatureExtractor) flatten(net.faceFeatureExtractor.params, 'feature_extractor', tensors);
    const index = [];
    const chunks = [];
    let offset = 0;
    for (const [p, t] of tensors) {
      const data = Float32Array.from(t.dataSync());
      index.push({ name: p, shape: t.shape, offset, length: data.length });
      chunks.push(Buffer.from(data.buffer));
      offset += data.length;
    }
    fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(index, null, 1));
    fs.writeFileSync(path.join(outDir, `${name}.bin`), Buffer.concat(chunks));
    console.log(name, index.length, 'tensors', offset, 'floats');
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
