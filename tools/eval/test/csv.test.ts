import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvCells, csvField, csvRecords } from '../src/csv.js';
import { loadDataset } from '../src/dataset.js';
import { readScores } from '../src/compare.js';

// Manifests, split files and scores files are read with one CSV reader. Before it, the dataset
// reader split lines on every comma, so a quoted file name holding a comma shifted every column
// after it (its label became part of the name and the row was dropped as unlabelled).
describe('the evaluation\'s CSV', () => {
  it('writes a field quoted only when it must, and reads back what it wrote', () => {
    const fields = ['plain', 'a,b', 'say "hi"', '', 'x"y,z'];
    assert.deepEqual(fields.map(csvField), ['plain', '"a,b"', '"say ""hi"""', '', '"x""y,z"']);
    assert.deepEqual(csvCells(fields.map(csvField).join(',')), fields);
    assert.deepEqual(csvRecords('file,label\r\n"a,b.jpg",real\n\nc.jpg\n'), [{ file: 'a,b.jpg', label: 'real' }, { file: 'c.jpg', label: '' }]);
  });

  it('loads a manifest and a split file whose file names hold commas and quotes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfd-csv-'));
    const data = join(dir, 'faces');
    mkdirSync(data);
    const names = ['real/cam/one, two.jpg', 'real/cam/"quoted".jpg', 'deepfake/gan/plain.jpg'];
    writeFileSync(join(data, 'manifest.csv'), [
      'file,label,source,group',
      `${csvField(names[0]!)},real,cam,"sitter:1,a"`,
      `${csvField(names[1]!)},real,cam,sitter:2`,
      `${names[2]},deepfake,gan,`,
    ].join('\n') + '\n');
    const split = join(dir, 'split.csv');
    writeFileSync(split, ['dataset,file,split', ...names.map((n, i) => `faces,${csvField(n)},${i === 2 ? 'val' : 'test'}`)].join('\n') + '\n');

    const all = loadDataset(data);
    assert.deepEqual(all.map((s) => [s.file, s.label, s.source, s.group]), [
      [names[0], 'real', 'cam', 'sitter:1,a'],
      [names[1], 'real', 'cam', 'sitter:2'],
      [names[2], 'deepfake', 'gan', undefined],
    ]);
    assert.equal(all[0]!.path, join(data, names[0]!));
    assert.deepEqual(loadDataset(data, { splitFile: split }).map((s) => s.file), names.slice(0, 2));
    assert.deepEqual(loadDataset(data, { splitFile: split, split: 'val' }).map((s) => s.file), [names[2]]);
  });

  it('reads a scores file back with the names and groups it was written with', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfd-csv-'));
    const path = join(dir, 'run-scores.csv');
    writeFileSync(path, ['file,label,source,group,edited,verdict,confidence', `${csvField('a, b.jpg')},real,cam,${csvField('v:1,2')},0.250000,real,0.9`].join('\n') + '\n');
    assert.deepEqual(readScores(path), [{ file: 'a, b.jpg', label: 'real', source: 'cam', group: 'v:1,2', edited: 0.25 }]);
  });
});
