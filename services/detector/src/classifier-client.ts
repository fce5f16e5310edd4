import type { RgbImage } from '@dfd/imaging';
import { OipClient, readOutput } from '@dfd/proto';
import type { EditTypeClassifier } from '@dfd/analysis';

/** Calls the classifier model server over OIP with the region's raw pixels. */
export function oipEditTypeClassifier(client: OipClient, modelName: string): EditTypeClassifier {
  return async (region: RgbImage, requestId: string) => {
    const res = await client.modelInfer({
      model_name: modelName,
      id: requestId,
      inputs: [{ name: 'image', datatype: 'UINT8', shape: [1, region.height, region.width, 3] }],
      raw_input_contents: [region.data],
    });
    const probs = readOutput(res, 'probabilities').values;
    if (probs.length < 2) throw new Error('classifier answered without probabilities');
    // Labels of the classifier model are [deepfake, retouched].
    return { deepfake: probs[0]!, retouched: probs[1]!, model: { name: res.model_name, version: res.model_version, sha256: String(res.parameters?.sha256?.string_param ?? '') } };
  };
}
