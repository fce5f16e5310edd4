import fp from 'fastify-plugin';
import multipart from '@fastify/multipart';
import { ImageRejected } from '@dfd/imaging';
import { ApiError } from '../errors.js';
import type { AnalysisFailure, AnalysisService, AnalysisView } from '../analysis-service.js';
import { BATCH_ID, type BatchItemRecord, type BatchRecord, type BatchStore } from '../batch-store.js';
import { errorRef, type ApiPlugin, type BatchItemView, type BatchView } from '../schemas.js';

export interface BatchRouteOptions {
  service: AnalysisService;
  store: BatchStore;
  maxUploadBytes: number;
  maxFiles: number;
  maxBytes: number;
}

function itemView(rec: BatchItemRecord, view: AnalysisView | null | undefined): BatchItemView {
  const base = { index: rec.index, filename: rec.filename, analysis_id: rec.analysis_id };
  if (rec.error) return { ...base, status: 'failed', error: rec.error };
  if (!view) return { ...base, status: 'failed', error: { code: 'expired', message: 'The analysis is no longer stored.' } };
  const out: BatchItemView = { ...base, status: view.status, links: view.links };
  if (view.result) out.result = view.result;
  if (view.error) out.error = view.error;
  return out;
}

function batchView(batch: BatchRecord, items: BatchItemView[]): BatchView {
  const progress = { total: items.length, queued: 0, processing: 0, completed: 0, failed: 0 };
  for (const it of items) progress[it.status] += 1;
  return {
    id: batch.id,
    status: progress.queued + progress.processing === 0 ? 'completed' : 'processing',
    created_at: batch.created_at,
    progress,
    items,
    links: { self: `/v1/batches/${batch.id}` },
  };
}

function errorOf(err: unknown): AnalysisFailure {
  if (err instanceof ApiError) return { code: err.code, message: err.message };
  if (err instanceof ImageRejected) return { code: err.code, message: err.message };
  throw err; // infrastructure trouble fails the request (503 from the error handler)
}

/**
 * POST /v1/batches (many images in one multipart request) and GET /v1/batches/:id. The caller
 * (`req.principal`) comes from the auth hook; the job slots, one per readable file, from
 * `req.reserveJobs` (job-quota plugin), since their number is known only once the body is read.
 */
const batches: ApiPlugin<BatchRouteOptions> = async (app, opts) => {
  await app.register(multipart, {
    limits: { fileSize: opts.maxUploadBytes, files: opts.maxFiles, fields: 10, parts: opts.maxFiles + 10 },
    throwFileSizeLimit: false,
  });

  app.post(
    '/v1/batches',
    {
      schema: {
        summary: 'Submit many images at once',
        description:
          `multipart/form-data with up to ${opts.maxFiles} files in fields named \`image\` (${opts.maxBytes} bytes in all). ` +
          'Each file becomes one analysis; a file that cannot be read becomes an item with its error rather than failing the batch. ' +
          'The batch takes one concurrent-job slot per file, all or none (429 `too_many_jobs`).',
        tags: ['batches'],
        security: [{ bearer: [] }],
        consumes: ['multipart/form-data'],
        querystring: {
          type: 'object',
          properties: { crop_faces: { type: 'boolean', default: true, description: 'Find and judge each face' } },
          additionalProperties: false,
        },
        response: { 202: { $ref: 'Batch#' }, 400: errorRef, 401: errorRef, 403: errorRef, 413: errorRef, 415: errorRef, 429: errorRef, 503: errorRef },
      } as const,
    },
    async (req, reply) => {
      if (!req.isMultipart()) throw new ApiError(415, 'unsupported_media_type', 'Send the images as multipart/form-data, each in a field named "image".');
      const { crop_faces } = req.query;
      const files: Array<{ filename: string | null; body?: Buffer; error?: AnalysisFailure }> = [];
      let total = 0;
      for await (const part of req.files()) {
        const filename = part.filename || null;
        if (part.fieldname !== 'image') {
          part.file.resume();
          files.push({ filename, error: { code: 'missing_image', message: `Send files in the field "image", not "${part.fieldname}".` } });
          continue;
        }
        const body = await part.toBuffer();
        total += body.length;
        if (total > opts.maxBytes) throw new ApiError(413, 'payload_too_large', `The batch exceeds ${opts.maxBytes} bytes in all.`);
        if (part.file.truncated) files.push({ filename, error: { code: 'payload_too_large', message: `The file exceeds ${opts.maxUploadBytes} bytes.` } });
        else if (body.length === 0) files.push({ filename, error: { code: 'empty_body', message: 'The file is empty.' } });
        else files.push({ filename, body });
      }
      if (files.length === 0) throw new ApiError(400, 'missing_image', 'The batch has no files; send them in fields named "image".');

      const toSubmit = files.filter((f) => f.body).length;
      const slots = toSubmit > 0 ? await req.reserveJobs(toSubmit) : undefined;
      const batch: BatchRecord = { id: opts.store.newId(), created_at: new Date().toISOString(), owner: req.principal?.keyId ?? null, items: [] };
      const views: Array<AnalysisView | undefined> = [];
      try {
        let slot = 0;
        for (const [index, f] of files.entries()) {
          if (!f.body) {
            batch.items.push({ index, filename: f.filename, analysis_id: null, error: f.error! });
            views.push(undefined);
            continue;
          }
          const mine = slot++;
          try {
            const { view } = await opts.service.submit(f.body, { crop_faces }, { requestId: req.id, apiKeyId: req.principal?.keyId, batchId: batch.id });
            await slots?.commit(mine, view.id);
            batch.items.push({ index, filename: f.filename, analysis_id: view.id });
            views.push(view);
          } catch (err) {
            await slots?.release(mine);
            batch.items.push({ index, filename: f.filename, analysis_id: null, error: errorOf(err) });
            views.push(undefined);
          }
        }
      } finally {
        await slots?.releaseAll();
      }
      await opts.store.put(batch);
      reply.code(202).header('location', `/v1/batches/${batch.id}`);
      return batchView(batch, batch.items.map((it, i) => itemView(it, views[i])));
    },
  );

  app.get(
    '/v1/batches/:id',
    {
      schema: {
        summary: 'Get a batch with the status and result of each item',
        tags: ['batches'],
        security: [{ bearer: [] }],
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        response: { 200: { $ref: 'Batch#' }, 401: errorRef, 403: errorRef, 404: errorRef, 429: errorRef, 503: errorRef },
      } as const,
    },
    async (req) => {
      const { id } = req.params;
      const batch = BATCH_ID.test(id) ? await opts.store.get(id) : null;
      // Another key's batch is reported as missing, not as forbidden.
      if (!batch || (batch.owner !== null && batch.owner !== req.principal?.keyId)) throw new ApiError(404, 'not_found', `No batch with id ${id}.`);
      const views = await Promise.all(batch.items.map((it) => (it.analysis_id ? opts.service.get(it.analysis_id, batch.owner) : Promise.resolve(undefined))));
      return batchView(batch, batch.items.map((it, i) => itemView(it, views[i])));
    },
  );
};

export const batchRoutes = fp(batches, { name: 'dfd-batch-routes', encapsulate: true, dependencies: ['dfd-auth', 'dfd-job-quota'] });
