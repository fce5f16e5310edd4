import type { RgbImage } from '@dfd/imaging';
import { OipClient, readOutput } from '@dfd/proto';
import type { EditTypeClassifier } from '@dfd/analysis';

/**
 * Calls the classifier model server over OIP with the region's raw pixels. The server decides
 * (its own model.json threshold) and names its outputs; nothing here restates a model's numbers.
 */
export function oipEditTypeClassifier(client: OipClient, modelName: string): EditTypeClassifier {
  return async (region: RgbImage, requestId: string) => {
    const res = await client.modelInfer({
      model_name: modelName,
      id: requestId,
      inputs: [{ name: 'image', datatype: 'UINT8', shape: [1, region.height, region.width, 3] }],
      raw_input_contents: [region.data],
    });
    const probs = readOutput(res, 'probabilities').values;
    const [label] = readOutput(res, 'label').strings;
    const names = JSON.parse(String(res.parameters?.labels?.string_param ?? '[]')) as string[];
    const score = (name: string): number => {
      const i = names.indexOf(name);
      if (i < 0 || probs[i] === undefined) throw new Error(`classifier answered without a "${name}" score`);
      return probs[i]!;
    };
    if (label !== 'deepfake' && label !== 'retouched' && label !== 'uncertain') throw new Error(`classifier answered an unknown label "${label}"`);
    return {
      label,
      deepfake: score('deepfake'),
      retouched: score('retouched'),
      threshold: Number(res.parameters?.threshold?.string_param ?? NaN),
      model: { name: res.model_name, version: res.model_version, sha256: String(res.parameters?.sha256?.string_param ?? '') },
    };
  };
}
