import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import multipart from '@fastify/multipart';
import { ApiError } from '../errors.js';
import type { AnalysisService, AnalysisView } from '../analysis-service.js';
import { errorRef, type ApiPlugin } from '../schemas.js';
import type { WebhookDispatcher } from '../webhooks/dispatcher.js';

export interface AnalysesRouteOptions {
  service: AnalysisService;
  maxUploadBytes: number;
  maxWaitSeconds: number;
  /** Where a `callback_url` is registered (absent: callbacks are accepted but not delivered). */
  webhooks?: Pick<WebhookDispatcher, 'register'>;
}

/** Reads the upload from multipart (field `image`) or a raw image body. */
export async function readUpload(req: FastifyRequest, maxBytes: number): Promise<Buffer> {
  if (req.isMultipart()) {
    const part = await req.file({ limits: { fileSize: maxBytes, files: 1 } });
    if (!part) throw new ApiError(400, 'missing_image', 'The multipart body has no file; send it in the field "image".');
    if (part.fieldname !== 'image') throw new ApiError(400, 'missing_image', `Send the file in the field "image", not "${part.fieldname}".`);
    const buf = await part.toBuffer();
    if (part.file.truncated) throw new ApiError(413, 'payload_too_large', `The upload exceeds ${maxBytes} bytes.`);
    return buf;
  }
  const body = req.body;
  if (!Buffer.isBuffer(body) || body.length === 0) throw new ApiError(400, 'empty_body', 'The request has no image; send multipart field "image" or a raw image/* body.');
  return body;
}

/**
 * POST /v1/analyses and GET /v1/analyses/:id. Who is calling (`req.principal`, auth plugin), the
 * callback URL policy and the job slot (`req.jobSlots`, `config.jobSlots`) come from route hooks
 * registered before this plugin (public-api.ts).
 */
const analyses: ApiPlugin<AnalysesRouteOptions> = async (app, opts) => {
  // Only images (raw or multipart) are bodies here; JSON and text get a 415 from Fastify.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  await app.register(multipart, { limits: { fileSize: opts.maxUploadBytes, files: 1, fields: 10, parts: 12 } });
  // Raw uploads: the declared type only routes the body here; the format is sniffed from the bytes.
  app.addContentTypeParser(/^image\/.*/, { parseAs: 'buffer', bodyLimit: opts.maxUploadBytes }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: opts.maxUploadBytes }, (_req, body, done) => done(null, body));

  const respond = (view: AnalysisView, reply: FastifyReply): AnalysisView => {
    const done = view.status === 'completed' || view.status === 'failed';
    reply.code(done ? 200 : 202);
    if (!done) reply.header('retry-after', '1');
    reply.header('location', view.links.self);
    return view;
  };

  app.post(
    '/v1/analyses',
    {
      bodyLimit: opts.maxUploadBytes + 64 * 1024,
      config: { jobSlots: 1 },
      schema: {
        summary: 'Submit an image for analysis',
        description:
          'Send the image as multipart/form-data (field `image`) or as a raw body with an image/* content type. The format is detected from the bytes. ' +
          'Answers 202 with a new analysis id (random, readable only by the API key that created it, or for anonymous callers by whoever holds the id), ' +
          'or 200 with the result when `wait` is given and the analysis ends in time. Identical pixels reuse the model computation; the metadata evidence is always read from this upload.',
        tags: ['analyses'],
        security: [{ bearer: [] }],
        consumes: ['multipart/form-data', 'image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'],
        querystring: {
          type: 'object',
          properties: {
            wait: { type: 'integer', minimum: 0, maximum: 30, default: 0, description: 'Seconds to wait for the result' },
            crop_faces: { type: 'boolean', default: true, description: 'Find and judge each face (false: the image is already a face crop)' },
            callback_url: { type: 'string', format: 'uri', description: 'Webhook called with the result when the analysis ends' },
          },
          additionalProperties: false,
        },
        response: { 200: { $ref: 'Analysis#' }, 202: { $ref: 'Analysis#' }, 400: errorRef, 401: errorRef, 403: errorRef, 413: errorRef, 415: errorRef, 422: errorRef, 429: errorRef, 503: errorRef },
      } as const,
    },
    async (req, reply) => {
      const q = req.query;
      const apiKeyId = req.principal?.keyId;
      const slot = req.jobSlots;
      let view: AnalysisView;
      try {
        const body = await readUpload(req, opts.maxUploadBytes);
        ({ view } = await opts.service.submit(body, { crop_faces: q.crop_faces }, { requestId: req.id, callbackUrl: q.callback_url, apiKeyId }));
        await slot?.commit(0, view.id);
      } finally {
        await slot?.releaseAll();
      }
      if (q.callback_url && opts.webhooks) await opts.webhooks.register(view, q.callback_url);
      const wait = Math.min(q.wait, opts.maxWaitSeconds);
      const final = wait > 0 && view.status !== 'completed' && view.status !== 'failed' ? ((await opts.service.wait(view.id, wait)) ?? view) : view;
      return respond(final, reply);
    },
  );

  app.get(
    '/v1/analyses/:id',
    {
      schema: {
        summary: 'Get an analysis',
        tags: ['analyses'],
        security: [{ bearer: [] }],
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] },
        querystring: { type: 'object', properties: { wait: { type: 'integer', minimum: 0, maximum: 30, default: 0 } }, additionalProperties: false },
        description: 'Analyses created with another API key answer 404, as unknown ids do.',
        response: { 200: { $ref: 'Analysis#' }, 202: { $ref: 'Analysis#' }, 400: errorRef, 401: errorRef, 403: errorRef, 404: errorRef, 429: errorRef, 503: errorRef },
      } as const,
    },
    async (req, reply) => {
      const reader = req.principal?.keyId ?? null;
      const { id } = req.params;
      const { wait } = req.query;
      const view = wait > 0 ? await opts.service.wait(id, Math.min(wait, opts.maxWaitSeconds), reader) : await opts.service.get(id, reader);
      if (!view) throw new ApiError(404, 'not_found', `No analysis with id ${id}.`);
      return respond(view, reply);
    },
  );
};

export const analysesRoutes = fp(analyses, { name: 'dfd-analyses-routes', encapsulate: true, dependencies: ['dfd-auth', 'dfd-callback-url', 'dfd-job-quota'] });
