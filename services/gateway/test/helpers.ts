/** Shared bits for the gateway's tests: a gateway on a real Redis, answered through inject(). */
import { buildGateway, type Gateway } from '../src/app.js';
import { loadGatewayConfig } from '../src/config.js';

export { startRedis, startService, freePort, sleep, waitFor, type RedisServer, type ServiceHandle } from '../../../test/support/processes.js';
export { colourImage, RED, BLUE } from '../../../test/support/images.js';

export const PEPPER = 'test-pepper-0123456789abcdef';
export const SECRET = 'test-webhook-secret-0123456789';

export async function gatewayOn(redisUrl: string, env: Record<string, string> = {}): Promise<Gateway> {
  const cfg = loadGatewayConfig({ LOG_LEVEL: 'silent', REDIS_URL: redisUrl, QUEUE_NAME: 'analyses', ...env });
  return buildGateway(cfg);
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
