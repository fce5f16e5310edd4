import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ImageRejected } from '@dfd/imaging';
import { ApiError } from '../errors.js';
import { REDIS_FULL } from '../redis-health.js';

const REDIS_DOWN = /enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|MaxRetriesPerRequest|Reached the max retries/i;

// busboy's and @fastify/multipart's words for a multipart body it cannot parse.
const BAD_MULTIPART = /^(Multipart: Boundary not found|The needle cannot have a length|Unexpected end of (form|multipart data)|Malformed part header|Malformed urlencoded form|Part terminated early|Unsupported content type|Missing Content-Type)/i;

const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_REQ_FILE_TOO_LARGE: [413, 'payload_too_large'],
  FST_FILES_LIMIT: [413, 'too_many_files'],
  FST_PARTS_LIMIT: [413, 'too_many_parts'],
  FST_FIELDS_LIMIT: [413, 'too_many_fields'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad_content_length'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'empty_body'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [400, 'bad_multipart'],
  FST_PROTO_VIOLATION: [400, 'bad_multipart'],
  FST_ERR_BAD_URL: [400, 'bad_url'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'bad_request'],
};

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 413: 'Payload Too Large', 414: 'URI Too Long', 431: 'Request Header Fields Too Large' };

/**
 * Protocol-level errors (the request could not even be parsed: oversized headers, a bad request
 * line, conflicting Content-Length and Transfer-Encoding) are answered by Node's HTTP parser before
 * Fastify has a request. This writes the same error shape as every other answer.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let code = 'bad_request';
  let message = 'The request could not be parsed as HTTP/1.1.';
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    code = 'headers_too_large';
    message = 'The request headers are too large.';
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    code = 'request_timeout';
    message = 'The request took too long to arrive.';
  } else if (err.code === 'HPE_UNEXPECTED_CONTENT_LENGTH' || err.code === 'HPE_INVALID_CONTENT_LENGTH' || err.code === 'HPE_INVALID_TRANSFER_ENCODING') {
    code = 'bad_content_length';
    message = 'Content-Length and Transfer-Encoding are missing, invalid or in conflict.';
  } else if (err.code === 'HPE_INVALID_METHOD' || err.code === 'HPE_INVALID_URL' || err.code === 'HPE_INVALID_VERSION') {
    code = 'bad_request_line';
    message = 'The request line is not valid HTTP/1.1.';
  }
  if (!socket.writable || socket.bytesWritten > 0) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message }, request_id: randomUUID() });
  socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Bad Request'}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  setTimeout(() => socket.destroy(), 1_000).unref();
}

/**
 * A client that writes its whole body before reading (Node's http.request, many SDKs) gets EPIPE
 * if the server closes while the body is still coming. After a 413 the rest of the body is read
 * and dropped (up to `maxDrainBytes`, for at most 15 s) behind a half-closed socket, so the
 * client reads the answer; then the connection closes.
 */
function drainAfterAnswer(raw: IncomingMessage, maxDrainBytes: number): void {
  if (raw.complete) return;
  const declared = Number(raw.headers['content-length'] ?? 0);
  if (declared > maxDrainBytes) return; // not worth reading: close as before
  const socket = raw.socket as Socket & { destroySoon?: () => void };
  if (!socket || socket.destroyed) return;
  // Node ends a `connection: close` response with destroySoon(), which would reset a socket the
  // client is still writing to. Half-close instead and read on until the client is done.
  socket.destroySoon = () => {
    socket.end();
    let seen = 0;
    const timer = setTimeout(() => socket.destroy(), 15_000);
    timer.unref();
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxDrainBytes) socket.destroy();
    });
    socket.once('end', () => socket.destroy());
    socket.once('close', () => clearTimeout(timer));
    socket.resume();
  };
  raw.resume();
}

export interface ErrorsOptions {
  /** Called when Redis refused a write for lack of memory. */
  onRedisFull?: () => void;
  /** Most bytes read and dropped after a 413 (default 64 MiB). */
  maxDrainBytes?: number;
  /** The upload limit, named in 413 answers so callers (and the web page) can say it. */
  maxUploadBytes?: number;
}

export function errorBody(req: FastifyRequest, code: string, message: string) {
  return { error: { code, message }, request_id: req.id };
}

/**
 * A multipart/form-data request must name a boundary of 1 to 70 characters (RFC 2046); checked
 * before any body is read, so the parser never sees one it cannot handle.
 */
export function checkMultipartBoundary(contentType: string | undefined): void {
  if (!contentType || !/^\s*multipart\//i.test(contentType)) return;
  const m = /;\s*boundary=(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  const boundary = m ? (m[1] ?? m[2] ?? '') : undefined;
  if (boundary === undefined || boundary === '') throw new ApiError(400, 'bad_multipart', 'The multipart Content-Type has no boundary parameter.');
  if (boundary.length > 70) throw new ApiError(400, 'bad_multipart', `The multipart boundary is ${boundary.length} characters long; at most 70 are allowed.`);
}

/** One error shape for every failure: `{ error: { code, message }, request_id }`. */
export const errorsPlugin = fp(async (app: FastifyInstance, opts: ErrorsOptions) => {
  const maxDrainBytes = opts.maxDrainBytes ?? 64 * 1024 * 1024;
  app.addHook('onRequest', async (req) => checkMultipartBoundary(req.headers['content-type']));
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
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
      message = code === 'payload_too_large' && opts.maxUploadBytes ? `The upload exceeds ${opts.maxUploadBytes} bytes.` : err.message;
    } else if (BAD_MULTIPART.test(err.message ?? '') || (err.code === 'ERR_STREAM_PREMATURE_CLOSE' && /^\s*multipart\//i.test(req.headers['content-type'] ?? ''))) {
      // Newer busboy/@fastify/multipart end a body without its closing boundary as "Premature close".
      status = 400;
      code = 'bad_multipart';
      message = `The multipart body could not be read: ${err.message}. Send multipart/form-data with a boundary of 1 to 70 characters and a closing boundary.`;
    } else if (REDIS_FULL.test(err.message ?? '')) {
      opts.onRedisFull?.();
      status = 503;
      code = 'service_unavailable';
      message = 'The service cannot take new work right now (its queue storage is full); retry later.';
      reply.header('retry-after', '30');
    } else if (REDIS_DOWN.test(err.message ?? '') || err.name === 'MaxRetriesPerRequestError') {
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
    if (status === 413) drainAfterAnswer(req.raw, maxDrainBytes);
    reply.status(status).send(errorBody(req, code, message));
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send(errorBody(req, 'not_found', `No route for ${req.method} ${req.url.split('?')[0]}`));
  });
}, { name: 'dfd-errors' });

/** Fastify's `frameworkErrors` option: router-level failures (a URL that cannot be decoded). */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const [status, code] = (err.code && FASTIFY_CODES[err.code]) || [400, 'bad_request'];
  reply.status(status).send(errorBody(req, code, err.code === 'FST_ERR_BAD_URL' ? 'The URL could not be decoded.' : err.message));
}
