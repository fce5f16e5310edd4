/** Shared bits for the gateway's tests: a gateway on a real Redis, answered through inject(). */
import { buildGateway, type Gateway } from '../src/app.js';
import { loadGatewayConfig } from '../src/config.js';
import type { AnalysisResult } from '@dfd/jobs';

export { startRedis, startService, freePort, sleep, waitFor, type RedisServer, type ServiceHandle } from '@dfd/test-support/processes';
export { colourImage, RED, BLUE } from '@dfd/test-support/images';

export const PEPPER = 'test-pepper-0123456789abcdef';
export const SECRET = 'test-webhook-secret-0123456789';

/** A complete result, as a detector returns it (the API's schema requires every field). */
export const sampleResult: AnalysisResult = {
  verdict: 'real',
  edit_type: null,
  scores: { edited: 0.1, deepfake: null, retouched: null },
  confidence: 0.9,
  thresholds: { edited: 0.5, uncertain_band: [0.35, 0.65], retouched: null },
  faces: [],
  notes: [],
  heatmap: null,
  image: { width: 32, height: 32, format: 'png', original_width: 32, original_height: 32 },
  models: [{ name: 'detector', version: '1.0.0', sha256: '0'.repeat(64) }],
  timings: { queue_wait_ms: 1, decode_ms: 1, face_ms: 0, detector_ms: 1, classifier_ms: 0, total_ms: 3 },
  evidence: { metadata: { exif: { software: null, make: null, model: null, datetime: null }, editing_software: [], generator: { detected: false, hints: [] }, c2pa_present: false, icc_profile: null, skipped: [] } },
};

export async function gatewayOn(redisUrl: string, env: Record<string, string> = {}): Promise<Gateway> {
  const cfg = loadGatewayConfig({ LOG_LEVEL: 'silent', REDIS_URL: redisUrl, QUEUE_NAME: 'analyses', ...env });
  const gw = await buildGateway(cfg);
  // As a deployment waits for /readyz before sending traffic: the connections fail fast (503)
  // while they are still being made.
  await gw.connected();
  return gw;
}

/** A multipart body with the given files (name, bytes) in fields named `field`. */
export function multipart(files: Array<{ name: string; body: Buffer; type?: string }>, field = 'image'): FormData {
  const form = new FormData();
  for (const f of files) form.append(field, new Blob([f.body], { type: f.type ?? 'application/octet-stream' }), f.name);
  return form;
}

/** inject() wants a payload and headers; Request serialises the FormData for us. */
export async function formPayload(form: FormData): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const req = new Request('http://x/', { method: 'POST', body: form });
  return { payload: Buffer.from(await req.arrayBuffer()), headers: { 'content-type': req.headers.get('content-type')! } };
}
