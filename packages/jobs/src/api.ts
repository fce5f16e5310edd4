/**
 * The public API's result shapes, written once as JSON schema. The gateway validates and
 * serialises with these schemas and generates its OpenAPI document from them (Fastify's
 * json-schema-to-ts type provider derives its handler types from the same objects); the types
 * below are derived from them too, and the producer's `AnalysisResult` (types.ts) is checked
 * against the derived type at compile time (end of this file).
 */
import type { FromSchema } from 'json-schema-to-ts';
import type { AnalysisResult } from './types.js';

const probability = { type: 'number', minimum: 0, maximum: 1 } as const;
const nullableProbability = { type: ['number', 'null'], minimum: 0, maximum: 1 } as const;
const nullableString = { type: ['string', 'null'] } as const;

export const scoresSchema = {
  type: 'object',
  required: ['edited', 'deepfake', 'retouched'],
  additionalProperties: false,
  properties: {
    edited: probability,
    edited_probability: {
      ...probability,
      description: 'P(edited) for the edited score, measured on validation at the base rate of edited photos the detector states (its model card: the rate at which its threshold is even odds); confidence is read from it. Absent from results made before it existed.',
    },
    deepfake: nullableProbability,
    retouched: nullableProbability,
  },
} as const;

const heatmapSchema = {
  type: ['object', 'null'],
  description: 'Class activation map of the edited class; to_image maps grid cell coordinates to working-image pixels.',
  required: ['width', 'height', 'values', 'to_image'],
  additionalProperties: false,
  properties: {
    width: { type: 'integer' },
    height: { type: 'integer' },
    values: { type: 'array', items: { type: 'number' } },
    to_image: { type: 'array', items: { type: 'number' }, minItems: 6, maxItems: 6 },
  },
} as const;

const boxSchema = {
  type: 'object',
  required: ['x', 'y', 'width', 'height'],
  additionalProperties: false,
  properties: { x: { type: 'number' }, y: { type: 'number' }, width: { type: 'number' }, height: { type: 'number' } },
} as const;

const verdictSchema = { type: 'string', enum: ['real', 'edited', 'uncertain'] } as const;
const editTypeSchema = { type: ['string', 'null'], enum: ['deepfake', 'retouched', null] } as const;

const faceSchema = {
  type: 'object',
  required: ['box', 'score', 'landmarks', 'verdict', 'edit_type', 'scores', 'confidence', 'heatmap'],
  additionalProperties: false,
  properties: {
    box: boxSchema,
    score: { type: 'number' },
    landmarks: { type: 'array', items: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 } },
    verdict: verdictSchema,
    edit_type: editTypeSchema,
    scores: scoresSchema,
    confidence: probability,
    heatmap: heatmapSchema,
  },
} as const;

export const metadataEvidenceSchema = {
  type: 'object',
  required: ['exif', 'editing_software', 'generator', 'c2pa_present', 'icc_profile', 'skipped'],
  additionalProperties: false,
  properties: {
    exif: {
      type: 'object',
      required: ['software', 'make', 'model', 'datetime'],
      additionalProperties: false,
      properties: { software: nullableString, make: nullableString, model: nullableString, datetime: nullableString },
    },
    editing_software: { type: 'array', items: { type: 'string' } },
    generator: {
      type: 'object',
      required: ['detected', 'hints'],
      additionalProperties: false,
      properties: { detected: { type: 'boolean' }, hints: { type: 'array', items: { type: 'string' } } },
    },
    c2pa_present: { type: 'boolean' },
    icc_profile: nullableString,
    skipped: { type: 'array', items: { type: 'string' }, description: 'Metadata that was not read (over the size or time budget), in plain words' },
  },
} as const;

export const resultSchema = {
  $id: 'AnalysisResult',
  type: 'object',
  required: ['verdict', 'edit_type', 'scores', 'confidence', 'thresholds', 'faces', 'notes', 'heatmap', 'image', 'models', 'timings', 'evidence'],
  additionalProperties: false,
  properties: {
    verdict: verdictSchema,
    edit_type: editTypeSchema,
    scores: scoresSchema,
    confidence: probability,
    thresholds: {
      type: 'object',
      required: ['edited', 'uncertain_band', 'retouched'],
      additionalProperties: false,
      properties: {
        edited: probability,
        uncertain_band: { type: 'array', items: probability, minItems: 2, maxItems: 2 },
        retouched: nullableProbability,
      },
    },
    faces: { type: 'array', items: faceSchema },
    notes: { type: 'array', items: { type: 'string' } },
    heatmap: heatmapSchema,
    image: {
      type: 'object',
      required: ['width', 'height', 'format', 'original_width', 'original_height'],
      additionalProperties: false,
      properties: {
        width: { type: 'integer' },
        height: { type: 'integer' },
        format: { type: 'string' },
        original_width: { type: 'integer' },
        original_height: { type: 'integer' },
      },
    },
    models: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'version', 'sha256'],
        additionalProperties: false,
        properties: { name: { type: 'string' }, version: { type: 'string' }, sha256: { type: 'string' } },
      },
    },
    timings: {
      type: 'object',
      required: ['queue_wait_ms', 'decode_ms', 'face_ms', 'detector_ms', 'classifier_ms', 'total_ms'],
      additionalProperties: false,
      properties: {
        queue_wait_ms: { type: 'number' },
        decode_ms: { type: 'number' },
        face_ms: { type: 'number' },
        detector_ms: { type: 'number' },
        classifier_ms: { type: 'number' },
        total_ms: { type: 'number' },
      },
    },
    evidence: { type: 'object', required: ['metadata'], additionalProperties: false, properties: { metadata: metadataEvidenceSchema } },
  },
} as const;

export const failureSchema = {
  type: 'object',
  required: ['code', 'message'],
  additionalProperties: false,
  properties: { code: { type: 'string' }, message: { type: 'string' } },
} as const;

export const analysisStatusSchema = { type: 'string', enum: ['queued', 'processing', 'completed', 'failed'] } as const;

export const analysisSchema = {
  $id: 'Analysis',
  type: 'object',
  required: ['id', 'status', 'created_at', 'finished_at', 'attempts', 'links'],
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    status: analysisStatusSchema,
    created_at: { type: 'string', format: 'date-time' },
    finished_at: nullableString,
    attempts: { type: 'integer' },
    links: { type: 'object', required: ['self'], additionalProperties: false, properties: { self: { type: 'string' } } },
    result: { $ref: 'AnalysisResult#' },
    error: failureSchema,
  },
} as const;

/** The schemas that others reference by `$id` (`{ $ref: 'AnalysisResult#' }`). */
export type ApiSchemaReferences = [typeof resultSchema, typeof analysisSchema];

/** The result as the API describes it (GET /v1/analyses/:id → result, webhooks, batch items). */
export type ApiAnalysisResult = FromSchema<typeof resultSchema>;
/** One analysis as the API answers it. */
export type AnalysisView = FromSchema<typeof analysisSchema, { references: ApiSchemaReferences }>;
export type AnalysisStatus = FromSchema<typeof analysisStatusSchema>;
export type AnalysisFailure = FromSchema<typeof failureSchema>;

// Compile-time check: the producer's AnalysisResult (types.ts, written by packages/analysis) and
// the schema-derived type accept the same values. Tuples are compared as arrays (JSON schema
// for OpenAPI 3.0 has no tuples; minItems/maxItems say the length).
type Widen<T> = T extends readonly (infer E)[] ? Array<Widen<E>> : T extends object ? { [K in keyof T]: Widen<T[K]> } : T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const resultTypesAgree: Same<Widen<AnalysisResult>, Widen<ApiAnalysisResult>> = true;
void resultTypesAgree;
