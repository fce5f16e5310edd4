/** JSON schemas shared by validation, serialisation and the OpenAPI document. */
const probability = { type: 'number', minimum: 0, maximum: 1 } as const;
const nullableProbability = { type: ['number', 'null'], minimum: 0, maximum: 1 } as const;

export const scoresSchema = {
  type: 'object',
  properties: { edited: probability, deepfake: nullableProbability, retouched: nullableProbability },
} as const;

const heatmapSchema = {
  type: ['object', 'null'],
  description: 'Class activation map of the edited class; to_image maps grid cell coordinates to working-image pixels.',
  properties: {
    width: { type: 'integer' },
    height: { type: 'integer' },
    values: { type: 'array', items: { type: 'number' } },
    to_image: { type: 'array', items: { type: 'number' }, minItems: 6, maxItems: 6 },
  },
} as const;

const boxSchema = {
  type: 'object',
  properties: { x: { type: 'number' }, y: { type: 'number' }, width: { type: 'number' }, height: { type: 'number' } },
} as const;

const verdictSchema = { type: 'string', enum: ['real', 'edited', 'uncertain'] } as const;
const editTypeSchema = { type: ['string', 'null'], enum: ['deepfake', 'retouched', null] } as const;

export const resultSchema = {
  $id: 'AnalysisResult',
  type: 'object',
  properties: {
    verdict: verdictSchema,
    edit_type: editTypeSchema,
    scores: scoresSchema,
    confidence: probability,
    thresholds: {
      type: 'object',
      properties: {
        edited: probability,
        uncertain_band: { type: 'array', items: probability },
        retouched: nullableProbability,
      },
    },
    faces: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          box: boxSchema,
          score: { type: 'number' },
          landmarks: { type: 'array', items: { type: 'array', items: { type: 'number' } } },
          verdict: verdictSchema,
          edit_type: editTypeSchema,
          scores: scoresSchema,
          confidence: probability,
          heatmap: heatmapSchema,
        },
      },
    },
    notes: { type: 'array', items: { type: 'string' } },
    heatmap: heatmapSchema,
    image: {
      type: 'object',
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
      items: { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' }, sha256: { type: 'string' } } },
    },
    timings: {
      type: 'object',
      properties: {
        queue_wait_ms: { type: 'number' },
        decode_ms: { type: 'number' },
        face_ms: { type: 'number' },
        detector_ms: { type: 'number' },
        classifier_ms: { type: 'number' },
        total_ms: { type: 'number' },
      },
    },
    evidence: {
      type: 'object',
      properties: {
        metadata: {
          type: 'object',
          properties: {
            exif: {
              type: 'object',
              properties: {
                software: { type: ['string', 'null'] },
                make: { type: ['string', 'null'] },
                model: { type: ['string', 'null'] },
                datetime: { type: ['string', 'null'] },
              },
            },
            editing_software: { type: 'array', items: { type: 'string' } },
            generator: { type: 'object', properties: { detected: { type: 'boolean' }, hints: { type: 'array', items: { type: 'string' } } } },
            c2pa_present: { type: 'boolean' },
            icc_profile: { type: ['string', 'null'] },
            skipped: { type: 'array', items: { type: 'string' }, description: 'Metadata that was not read (over the size or time budget), in plain words' },
          },
        },
      },
    },
  },
} as const;

export const analysisSchema = {
  $id: 'Analysis',
  type: 'object',
  required: ['id', 'status', 'links'],
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: ['queued', 'processing', 'completed', 'failed'] },
    created_at: { type: 'string', format: 'date-time' },
    finished_at: { type: ['string', 'null'] },
    attempts: { type: 'integer' },
    links: { type: 'object', properties: { self: { type: 'string' } } },
    result: { $ref: 'AnalysisResult#' },
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;
