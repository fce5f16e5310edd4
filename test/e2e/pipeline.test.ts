import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from '@dfd/test-support/stack';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BLUE, RED, colourImage } from '@dfd/test-support/images';
import { jpegWithExifSegments } from '@dfd/test-support/hostile';
import { waitFor } from '@dfd/test-support/processes';

async function upload(url: string, body: Buffer, type: string, query = '') {
  const res = await fetch(`${url}/v1/analyses${query}`, { method: 'POST', body, headers: { 'content-type': type } });
  return { status: res.status, json: (await res.json()) as any, headers: res.headers };
}

async function uploadMultipart(url: string, body: Buffer, field = 'image', query = '') {
  const form = new FormData();
  form.append(field, new Blob([body]), 'photo.bin');
  const res = await fetch(`${url}/v1/analyses${query}`, { method: 'POST', body: form });
  return { status: res.status, json: (await res.json()) as any };
}

describe('upload → verdict through gateway, Redis, detector and classifier', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('judges a JPEG as edited and names the edit type (multipart, ?wait)', async () => {
    const { status, json } = await uploadMultipart(stack.url, await colourImage('jpeg', RED, 96, 1), 'image', '?wait=20');
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.status, 'completed');
    assert.equal(json.result.verdict, 'edited');
    assert.equal(json.result.edit_type, 'retouched');
    assert.ok(json.result.scores.edited > 0.9);
    assert.ok(json.result.scores.retouched > 0.9);
    assert.equal(json.result.models.length, 2);
    assert.match(json.result.models[0].sha256, /^[a-f0-9]{64}$/);
    assert.equal(json.result.heatmap.values.length, json.result.heatmap.width * json.result.heatmap.height);
    assert.ok(json.result.timings.total_ms >= json.result.timings.detector_ms);
  });

  it('judges a PNG as real without calling the classifier (raw body)', async () => {
    const { status, json } = await upload(stack.url, await colourImage('png', BLUE, 80, 2), 'image/png', '?wait=20');
    assert.equal(status, 200);
    assert.equal(json.result.verdict, 'real');
    assert.equal(json.result.edit_type, null);
    assert.equal(json.result.scores.deepfake, null);
    assert.equal(json.result.models.length, 1);
  });

  it('accepts WebP, then answers 202 + polling when not waiting', async () => {
    const { status, json } = await upload(stack.url, await colourImage('webp', RED, 64, 3), 'image/webp');
    assert.equal(status, 202);
    assert.equal(json.links.self, `/v1/analyses/${json.id}`);
    let view: any;
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${stack.url}${json.links.self}`);
      view = await res.json();
      if (view.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(view.status, 'completed');
    assert.equal(view.result.image.format, 'webp');
  });

  it('gives each upload its own analysis; identical pixels reuse the model computation, evidence is each file\'s own', async () => {
    const jpeg = await colourImage('jpeg', BLUE, 72, 4);
    // Same pixels, different EXIF.
    const canon = jpegWithExifSegments(jpeg, 1, 0, { 271: 'Canon', 272: 'EOS R5' });
    const nikon = jpegWithExifSegments(jpeg, 1, 0, { 271: 'Nikon' });
    const a = await upload(stack.url, canon, 'image/jpeg', '?wait=20');
    const b = await upload(stack.url, nikon, 'image/jpeg', '?wait=20');
    assert.equal(a.json.status, 'completed');
    assert.equal(b.json.status, 'completed');
    assert.notEqual(a.json.id, b.json.id, 'another upload is another analysis');
    assert.equal(a.json.result.evidence.metadata.exif.make, 'Canon');
    assert.equal(a.json.result.evidence.metadata.exif.model, 'EOS R5');
    assert.equal(b.json.result.evidence.metadata.exif.make, 'Nikon', 'evidence is read from the caller\'s own file');
    assert.equal(b.json.result.evidence.metadata.exif.model, null);
    assert.deepEqual(b.json.result.scores, a.json.result.scores);
    assert.ok(!a.json.result.notes.some((n: string) => n.startsWith('reused:')));
    assert.ok(b.json.result.notes.some((n: string) => n.startsWith('reused:')), 'the model computation was reused');
    const c = await upload(stack.url, canon, 'image/jpeg', '?crop_faces=false&wait=20');
    assert.ok(!c.json.result.notes.some((n: string) => n.startsWith('reused:')), 'other options are computed afresh');
  });

  it('does not reuse model results across a model upgrade', async () => {
    const img = await colourImage('png', RED, 64, 44);
    const first = await upload(stack.url, img, 'image/png', '?wait=20');
    const v0 = first.json.result.models.find((m: any) => m.name === 'classifier').version as string;
    const again = await upload(stack.url, img, 'image/png', '?wait=20');
    assert.ok(again.json.result.notes.some((n: string) => n.startsWith('reused:')));
    // Upgrade the classifier: a new version directory wins when the model server restarts.
    const from = join(stack.modelsDir, 'classifier', v0);
    const to = join(stack.modelsDir, 'classifier', '9.9.9');
    cpSync(from, to, { recursive: true });
    const spec = JSON.parse(readFileSync(join(to, 'model.json'), 'utf8'));
    writeFileSync(join(to, 'model.json'), JSON.stringify({ ...spec, version: '9.9.9' }));
    const classifier = stack.classifiers[0]!;
    await classifier.stop('SIGTERM');
    classifier.start();
    const detector = stack.detectors[0]!;
    await waitFor('detector ready', async () => (await fetch(`http://127.0.0.1:${detector.httpPort}/readyz`)).ok, 30_000, 200);
    const after = await waitFor('the new model version', async () => {
      const r = await upload(stack.url, img, 'image/png', '?wait=20');
      return r.json.result?.models.some((m: any) => m.version === '9.9.9') ? r : undefined;
    }, 30_000, 1_000);
    assert.ok(!after.json.result.notes.some((n: string) => n.startsWith('reused:')), 'judged afresh by the new model');
  });

  it('answers 404 for an unknown analysis', async () => {
    const res = await fetch(`${stack.url}/v1/analyses/${'0'.repeat(32)}`);
    assert.equal(res.status, 404);
    const body = (await res.json()) as any;
    assert.equal(body.error.code, 'not_found');
  });

  it('exposes metrics and readiness', async () => {
    const ready = await fetch(`${stack.url}/readyz`);
    assert.equal(ready.status, 200);
    // Metrics only on the gateway's ops port, never on the API port the Ingress exposes.
    assert.equal((await fetch(`${stack.url}/metrics`)).status, 404);
    const metrics = await (await fetch(`http://127.0.0.1:${stack.gateway.opsPort}/metrics`)).text();
    assert.match(metrics, /dfd_event_loop_delay_seconds\{[^}]*quantile="0.99"/);
    assert.match(metrics, /dfd_http_request_duration_seconds_bucket/);
    assert.match(metrics, /dfd_open_fds/);
    assert.match(metrics, /dfd_queue_jobs\{[^}]*state="completed"/);
    const det = await (await fetch(`http://127.0.0.1:${stack.detectors[0]!.httpPort}/metrics`)).text();
    assert.match(det, /dfd_job_duration_seconds_count\{[^}]*outcome="completed"[^}]*\} [1-9]/);
    const detReady = await fetch(`http://127.0.0.1:${stack.detectors[0]!.httpPort}/readyz`);
    assert.equal(detReady.status, 200);
  });
});
