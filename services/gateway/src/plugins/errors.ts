import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ImageRejected } from '@dfd/imaging';
import { ApiError } from '../errors.js';

const REDIS_DOWN = /enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|MaxRetriesPerRequest|Reached the max retries/i;

const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_REQ_FILE_TOO_LARGE: [413, 'payload_too_large'],
  FST_FILES_LIMIT: [413, 'too_many_files'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'empty_body'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [400, 'bad_multipart'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad_content_length'],
};

/** One error shape for every failure: `{ error: { code, message }, request_id }`. */
export const errorsPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    let status = 500;
    let code = 'internal_error';
    let message = 'Something went wrong on our side.';
    if (err instanceof ApiError) {
      status = err.statusCode;
      code = err.code;
      message = err.message;
      for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
    } else if (err instanceof ImageRejected) {
      status = err.status;
      code = err.code;
      message = err.message;
    } else if (err.validation) {
      status = 400;
      code = 'bad_request';
      message = err.message;
    } else if (err.code && FASTIFY_CODES[err.code]) {
      [status, code] = FASTIFY_CODES[err.code]!;
      message = err.message;
    } else if (REDIS_DOWN.test(err.message) || err.name === 'MaxRetriesPerRequestError') {
      status = 503;
      code = 'service_unavailable';
      message = 'The queue is unreachable; retry shortly.';
      reply.header('retry-after', '5');
    } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      code = 'bad_request';
      message = err.message;
    }
    if (status >= 500) req.log.error({ err: err.message, code }, 'request failed');
    reply.status(status).send({ error: { code, message }, request_id: req.id });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: { code: 'not_found', message: `No route for ${req.method} ${req.url.split('?')[0]}` }, request_id: req.id });
  });
});
