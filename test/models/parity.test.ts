import { describe, it } from 'node:test';
import { join } from 'node:path';
import { resolveModelDir } from '@dfd/model-runtime';
import { repoRoot } from '@dfd/test-support/processes';
import { checkInt8AgainstQdq, checkParity } from '@dfd/test-support/parity';

describe('shipped ONNX models reproduce their reference outputs (PyTorch within 1e-4; an int8 network its recorded onnxruntime outputs)', () => {
  for (const name of ['detector', 'classifier']) {
    it(`${name}: onnxruntime-node through the serving code gives the reference logits and CAM`, async (t) => {
      const diff = await checkParity(resolveModelDir(join(repoRoot, 'models'), name));
      t.diagnostic(`${name}: max |Δlogit| ${diff.logits.toExponential(2)}, max |ΔCAM| ${diff.cam.toExponential(2)}`);
    });
  }
});

describe('an int8 network gives the same outputs on every CPU', () => {
  for (const name of ['detector', 'classifier']) {
    it(`${name}: onnxruntime's fused integer kernels on this CPU compute what the network's QDQ graph says`, async (t) => {
      const diffs = await checkInt8AgainstQdq(resolveModelDir(join(repoRoot, 'models'), name));
      for (const d of diffs) t.diagnostic(`${d.file}: max |Δlogit| ${d.logits.toExponential(2)}, max |ΔCAM| ${d.cam.toExponential(2)}`);
      if (diffs.length === 0) t.diagnostic(`${name}: float network, nothing to check`);
    });
  }
});
