import type { RgbImage } from '@dfd/imaging';
import type { ImageClassifierModel } from '@dfd/model-runtime';
import type { EditTypeClassifier } from './analyser.js';
import type { FaceFinder } from './face-finder.js';

/** The classifier run in-process (embedded CLI mode, tests) instead of over gRPC. */
export function localEditTypeClassifier(model: ImageClassifierModel): EditTypeClassifier {
  const ref = { name: model.spec.name, version: model.spec.version, sha256: model.sha256 };
  return async (region: RgbImage) => {
    const [pred] = await model.predict([region]);
    const i = model.spec.labels.indexOf('retouched');
    const retouched = pred!.probabilities[i]!;
    return { deepfake: 1 - retouched, retouched, model: ref };
  };
}

/**
 * Loads the face stage (@dfd/face) when its package and models are present. Imported by name so
 * everything still runs, in whole-image mode, where they are not.
 */
export async function loadFaceFinder(modelsDir: string, threads: number): Promise<{ faces?: FaceFinder; error?: string }> {
  try {
    const mod = (await import('@dfd/face' as string)) as { FaceStage: { load(dir: string, o: { threads: number }): Promise<FaceFinder> } };
    return { faces: await mod.FaceStage.load(modelsDir, { threads }) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}
