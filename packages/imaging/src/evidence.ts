import ExifReader from 'exifreader';

/**
 * Metadata evidence, reported apart from the pixel verdict: it is easy to strip or forge, so it
 * can support a verdict but never decide one.
 */
export interface MetadataEvidence {
  exif: { software: string | null; make: string | null; model: string | null; datetime: string | null };
  editing_software: string[];
  generator: { detected: boolean; hints: string[] };
  c2pa_present: boolean;
  icc_profile: string | null;
  /** What was not read, in plain words (metadata over the size or time budget); empty when all was. */
  skipped: string[];
}

/** Evidence with nothing found, for files whose metadata was not read. */
export function emptyEvidence(skipped: string[] = []): MetadataEvidence {
  return {
    exif: { software: null, make: null, model: null, datetime: null },
    editing_software: [],
    generator: { detected: false, hints: [] },
    c2pa_present: false,
    icc_profile: null,
    skipped,
  };
}

const EDITORS: Array<[RegExp, string]> = [
  [/photoshop/i, 'Adobe Photoshop'],
  [/lightroom/i, 'Adobe Lightroom'],
  [/facetune/i, 'Facetune'],
  [/meitu|beautycam/i, 'Meitu'],
  [/snapseed/i, 'Snapseed'],
  [/\bgimp\b/i, 'GIMP'],
  [/picsart/i, 'PicsArt'],
  [/airbrush/i, 'AirBrush'],
  [/faceapp/i, 'FaceApp'],
  [/perfect ?365/i, 'Perfect365'],
  [/youcam/i, 'YouCam'],
  [/pixelmator/i, 'Pixelmator'],
  [/affinity/i, 'Affinity Photo'],
  [/canva/i, 'Canva'],
  [/remini/i, 'Remini'],
  [/lensa/i, 'Lensa'],
  [/paint\.net/i, 'Paint.NET'],
];

const GENERATORS: Array<[RegExp, string]> = [
  [/stable ?diffusion|sd-metadata|negative prompt:|steps: \d+, sampler/i, 'Stable Diffusion'],
  [/comfyui|"class_type"/i, 'ComfyUI'],
  [/midjourney/i, 'Midjourney'],
  [/dall[-·]?e/i, 'DALL-E'],
  [/firefly/i, 'Adobe Firefly'],
  [/novelai/i, 'NovelAI'],
  [/invokeai|dream/i, 'InvokeAI'],
  [/trainedAlgorithmicMedia|compositeWithTrainedAlgorithmicMedia/i, 'IPTC digital source type: AI generated'],
];

// PNG text keywords that generators write their settings to.
const GENERATOR_KEYS = new Set(['parameters', 'prompt', 'workflow', 'Dream', 'sd-metadata', 'invokeai_metadata']);

function tagText(tags: Record<string, any>, name: string): string | null {
  const t = tags[name];
  if (!t) return null;
  const v = t.description ?? t.value;
  if (v === undefined || v === null) return null;
  const s = Array.isArray(v) ? v.join(' ') : String(v);
  return s.trim() === '' ? null : s.trim().slice(0, 200);
}

/** Finds a C2PA manifest store: a JUMBF box labelled c2pa (JPEG APP11, PNG caBX, ISO-BMFF uuid). */
export function hasC2pa(buf: Buffer): boolean {
  const jumb = buf.indexOf('jumb', 0, 'latin1');
  if (jumb >= 0 && buf.indexOf('c2pa', jumb, 'latin1') >= 0) return true;
  return buf.indexOf('caBX', 0, 'latin1') >= 0 && buf.indexOf('c2pa', 0, 'latin1') >= 0;
}

export function extractEvidence(buf: Buffer): MetadataEvidence {
  let tags: Record<string, any> = {};
  try {
    tags = ExifReader.load(buf, { expanded: false, includeUnknown: false }) as Record<string, any>;
  } catch {
    tags = {};
  }
  const software = tagText(tags, 'Software') ?? tagText(tags, 'CreatorTool') ?? tagText(tags, 'ProcessingSoftware');
  const texts: string[] = [];
  for (const name of ['Software', 'CreatorTool', 'ProcessingSoftware', 'HistorySoftwareAgent', 'softwareAgent', 'Description', 'ImageDescription', 'UserComment', 'DigitalSourceType', 'Comment']) {
    const t = tagText(tags, name);
    if (t) texts.push(t);
  }
  const generatorHints: string[] = [];
  for (const key of Object.keys(tags)) {
    if (GENERATOR_KEYS.has(key)) {
      generatorHints.push(`PNG text chunk "${key}"`);
      const t = tagText(tags, key);
      if (t) texts.push(t);
    }
  }
  const joined = texts.join('\n');
  const editing = [...new Set(EDITORS.filter(([re]) => re.test(joined)).map(([, name]) => name))];
  for (const [re, name] of GENERATORS) if (re.test(joined) && !generatorHints.includes(name)) generatorHints.push(name);
  return {
    exif: {
      software,
      make: tagText(tags, 'Make'),
      model: tagText(tags, 'Model'),
      datetime: tagText(tags, 'DateTimeOriginal') ?? tagText(tags, 'DateTime'),
    },
    editing_software: editing,
    generator: { detected: generatorHints.length > 0, hints: generatorHints },
    c2pa_present: hasC2pa(buf),
    icc_profile: tagText(tags, 'ICC Description') ?? tagText(tags, 'Profile Description'),
    skipped: [],
  };
}
