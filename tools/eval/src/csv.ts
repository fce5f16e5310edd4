/**
 * The one CSV dialect the evaluation reads and writes (RFC 4180 without embedded newlines): fields
 * separated by commas, quoted when they hold a comma or a quote, a quote inside doubled. The
 * datasets' manifests, the split files and the eval's own scores files all go through it, so a
 * file name with a comma reads back as the file it names.
 */

/** A field as written: quoted when it holds a comma, a quote or a newline. */
export function csvField(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The fields of one line. */
export function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') cells.push(cell), (cell = '');
    else cell += c;
  }
  cells.push(cell);
  return cells;
}

/** A file's header and rows (blank lines skipped). */
export function csvTable(text: string): { header: string[]; rows: string[][] } {
  const [head, ...lines] = text.split(/\r?\n/).filter(Boolean);
  return { header: csvCells(head ?? ''), rows: lines.map(csvCells) };
}

/** A file's rows as records keyed by the header's names (a missing cell reads as ''). */
export function csvRecords(text: string): Array<Record<string, string>> {
  const { header, rows } = csvTable(text);
  return rows.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
}
