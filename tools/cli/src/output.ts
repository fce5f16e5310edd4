import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import type { AnalysisResult } from '@dfd/jobs';
import { FatalError } from './errors.js';

export const COLUMNS = ['path', 'verdict', 'edit_type', 'score_edited', 'score_deepfake', 'score_retouched', 'confidence', 'faces', 'error', 'x', 'y', 'w', 'h'] as const;
export type Column = (typeof COLUMNS)[number];
export type Row = Record<Column, string | number | null>;

export type Format = 'csv' | 'jsonl';

/** What happened to one input file. */
export interface Outcome {
  path: string;
  result?: AnalysisResult;
  error?: string;
}

/** Scores to 4 decimals: enough to re-threshold, short enough to read. */
const r4 = (v: number | null | undefined): number | null => (typeof v === 'number' ? Math.round(v * 1e4) / 1e4 : null);

const blank = (): Row => Object.fromEntries(COLUMNS.map((c) => [c, null])) as Row;

/** The judgement columns, the same for the image row and each face row. */
function setJudgement(
  row: Row,
  j: { verdict: string; edit_type: string | null; confidence: number; scores: { edited: number; deepfake: number | null; retouched: number | null } },
): void {
  row.verdict = j.verdict;
  row.edit_type = j.edit_type;
  row.score_edited = r4(j.scores.edited);
  row.score_deepfake = r4(j.scores.deepfake);
  row.score_retouched = r4(j.scores.retouched);
  row.confidence = r4(j.confidence);
}

/**
 * The image row, then one row per face (`path#face1`, ... numbered left to right, as on the web
 * page) with its box. A single face whose judgement is the image's own adds nothing but its box:
 * the box goes on the image row instead of a duplicate `#face1` row. Boxes are given in the
 * original image's pixels (EXIF rotation applied); the API reports them on the working image.
 */
export function rowsFor(o: Outcome): Row[] {
  const row = blank();
  row.path = o.path;
  if (!o.result) {
    row.error = o.error ?? 'unknown error';
    return [row];
  }
  const r = o.result;
  setJudgement(row, r);
  const faces = (Array.isArray(r.faces) ? [...r.faces] : []).sort((a, b) => a.box.x - b.box.x || a.box.y - b.box.y);
  row.faces = faces.length;
  const longWork = Math.max(r.image?.width ?? 0, r.image?.height ?? 0);
  const longOrig = Math.max(r.image?.original_width ?? 0, r.image?.original_height ?? 0);
  const scale = longWork > 0 && longOrig > 0 ? longOrig / longWork : 1;
  const setBox = (target: Row, box: { x: number; y: number; width: number; height: number }) => {
    target.x = Math.round(box.x * scale);
    target.y = Math.round(box.y * scale);
    target.w = Math.round(box.width * scale);
    target.h = Math.round(box.height * scale);
  };
  const faceRows = faces.map((f, i) => {
    const fr = blank();
    fr.path = `${o.path}#face${i + 1}`;
    setJudgement(fr, f);
    setBox(fr, f.box);
    return fr;
  });
  const sameAsImage = (fr: Row) => (['verdict', 'edit_type', 'score_edited', 'score_deepfake', 'score_retouched', 'confidence'] as const).every((k) => fr[k] === row[k]);
  if (faces.length === 1 && sameAsImage(faceRows[0]!)) {
    setBox(row, faces[0]!.box);
    return [row];
  }
  return [row, ...faceRows];
}

/**
 * One CSV record (RFC 4180, csv-stringify): empty for null, quoted when it holds a comma, quote or
 * line break, and also when it starts or ends with white space, which spreadsheets would trim.
 */
export const csvLine = (values: Array<string | number | null>): string => stringify([values], { quoted_match: /^\s|\s$/ });

export function formatFor(out: string | undefined, explicit: string | undefined): Format | undefined {
  if (explicit) return explicit === 'csv' || explicit === 'jsonl' ? explicit : undefined;
  if (!out || out === '-') return 'csv';
  if (/\.csv$/i.test(out)) return 'csv';
  if (/\.(jsonl|ndjson)$/i.test(out)) return 'jsonl';
  return undefined;
}

/** Streams rows to a file (or stdout) as they are ready. */
export class RowWriter {
  private failure: Error | undefined;

  private constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly format: Format,
    private readonly ownsStream: boolean,
  ) {
    // A full disk or a closed pipe: remember it and fail the run at close (exit 1), not crash.
    stream.on('error', (err: Error) => (this.failure ??= err));
  }

  static async open(out: string | undefined, format: Format): Promise<RowWriter> {
    let w: RowWriter;
    if (!out || out === '-') {
      w = new RowWriter(process.stdout, format, false);
    } else {
      // Opened up front so an unwritable path stops the run before any upload.
      let fd: number;
      try {
        fd = openSync(out, 'w');
      } catch (err) {
        throw new FatalError(`cannot write ${out}: ${(err as Error).message}`);
      }
      const stream: WriteStream = createWriteStream('', { fd, autoClose: true });
      w = new RowWriter(stream, format, true);
    }
    if (format === 'csv') w.stream.write(csvLine([...COLUMNS]));
    return w;
  }

  write(o: Outcome): void {
    for (const row of rowsFor(o)) {
      this.stream.write(this.format === 'csv' ? csvLine(COLUMNS.map((c) => row[c])) : JSON.stringify(row) + '\n');
    }
  }

  async close(): Promise<void> {
    if (this.ownsStream && !this.failure) {
      await new Promise<void>((resolve) => {
        this.stream.once('error', () => resolve());
        this.stream.end(() => resolve());
      });
    }
    if (this.failure) throw new FatalError(`cannot write the results: ${this.failure.message}`);
  }
}
