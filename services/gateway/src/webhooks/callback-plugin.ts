import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors.js';
import { CallbackForbidden, checkCallbackUrl, type CallbackPolicy } from './ssrf.js';

export interface CallbackUrlOptions {
  policy: CallbackPolicy;
}

/**
 * Refuses a `callback_url` the webhook worker would not call (SSRF policy: private, loopback and
 * metadata addresses, non-HTTPS in production) with 400 `callback_url_forbidden`, in a preHandler
 * hook: after the query is validated, before any slot is taken or the upload is read.
 */
export const callbackUrlPlugin = fp(
  async (app: FastifyInstance, opts: CallbackUrlOptions) => {
    app.addHook('preHandler', async (req) => {
      const url = (req.query as { callback_url?: unknown } | undefined)?.callback_url;
      if (typeof url !== 'string') return;
      try {
        await checkCallbackUrl(url, opts.policy);
      } catch (err) {
        if (err instanceof CallbackForbidden) throw new ApiError(400, 'callback_url_forbidden', err.message);
        throw err;
      }
    });
  },
  { name: 'dfd-callback-url' },
);
