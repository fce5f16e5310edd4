import type { RgbImage } from '@dfd/imaging';
import { decideLabel, type ImageClassifierModel } from '@dfd/model-runtime';
import type { EditTypeAnswer, EditTypeClassifier } from './analyser.js';

/**
 * The classifier run in-process (embedded CLI mode, eval, bench) instead of over gRPC, with the
 * same postprocessing as its model server (decideLabel on its own model.json).
 */
export function localEditTypeClassifier(model: ImageClassifierModel): EditTypeClassifier {
  const ref = { name: model.spec.name, version: model.spec.version, sha256: model.sha256 };
  return async (region: RgbImage) => {
    const [pred] = await model.predict([region]);
    const d = decideLabel(model.spec, pred!.probabilities);
    return { label: d.label as EditTypeAnswer['label'], deepfake: d.scores.deepfake!, retouched: d.scores.retouched!, threshold: d.threshold, model: ref };
  };
}
