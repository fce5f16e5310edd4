/**
 * The API's JSON schemas, the single definition of its shapes: Fastify validates and serialises
 * with them, @fastify/swagger writes docs/openapi.json from them, and the handler types come from
 * them through the json-schema-to-ts type provider (`TypeProvider`, `ApiPlugin`). The analysis
 * result and view live in @dfd/jobs (the CLI and the producer share them); errors and batches here.
 */
import type { FastifyPluginOptions } from 'fastify';
import type { FastifyPluginAsyncJsonSchemaToTs, JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import type { FromSchema } from 'json-schema-to-ts';
import { analysisSchema, analysisStatusSchema, failureSchema, resultSchema } from '@dfd/jobs';

export { analysisSchema, resultSchema };
export type { AnalysisStatus, AnalysisView } from '@dfd/jobs';

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error'],
  properties: {
    error: failureSchema,
    request_id: { type: 'string' },
  },
} as const;

export const errorRef = { $ref: 'Error#' } as const;

const counts = {
  type: 'object',
  required: ['total', 'queued', 'processing', 'completed', 'failed'],
  additionalProperties: false,
  properties: {
    total: { type: 'integer' },
    queued: { type: 'integer' },
    processing: { type: 'integer' },
    completed: { type: 'integer' },
    failed: { type: 'integer' },
  },
} as const;

const selfLink = { type: 'object', required: ['self'], additionalProperties: false, properties: { self: { type: 'string' } } } as const;

export const batchSchema = {
  $id: 'Batch',
  type: 'object',
  required: ['id', 'status', 'created_at', 'progress', 'items', 'links'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: ['processing', 'completed'], description: 'completed once every item has ended (completed or failed)' },
    created_at: { type: 'string', format: 'date-time' },
    progress: counts,
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'filename', 'analysis_id', 'status'],
        additionalProperties: false,
        properties: {
          index: { type: 'integer' },
          filename: { type: ['string', 'null'] },
          analysis_id: { type: ['string', 'null'] },
          status: analysisStatusSchema,
          result: { $ref: 'AnalysisResult#' },
          error: failureSchema,
          links: selfLink,
        },
      },
    },
    links: selfLink,
  },
} as const;

/** Every schema that routes reference by `$id`; registered once in app.ts. */
export const sharedSchemas = [errorSchema, resultSchema, analysisSchema, batchSchema] as const;
type References = [typeof errorSchema, typeof resultSchema, typeof analysisSchema, typeof batchSchema];
type SchemaOptions = { references: References };

export type BatchView = FromSchema<typeof batchSchema, SchemaOptions>;
export type BatchItemView = BatchView['items'][number];

/** Handler types derived from the route schemas (querystring, params, replies). */
export type TypeProvider = JsonSchemaToTsProvider<{ ValidatorSchemaOptions: SchemaOptions; SerializerSchemaOptions: SchemaOptions }>;
/** A plugin whose routes get their types from their schemas. */
export type ApiPlugin<O extends FastifyPluginOptions> = FastifyPluginAsyncJsonSchemaToTs<{ Options: O; ValidatorSchemaOptions: SchemaOptions; SerializerSchemaOptions: SchemaOptions }>;
