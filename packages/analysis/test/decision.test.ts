import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { combine, compose, decide, type Affine } from '../src/index.js';
import { sniffFormat } from '@dfd/imaging';

describe('decision rule', () => {
  const rule = { threshold: 0.5, band: [0.35, 0.65] as [number, number] };
  it('says uncertain inside the band and real/edited outside', () => {
    assert.equal(decide(0.1, rule).verdict, 'real');
    assert.equal(decide(0.4, rule).verdict, 'uncertain');
    assert.equal(decide(0.6, rule).verdict, 'uncertain');
    assert.equal(decide(0.9, rule).verdict, 'edited');
    assert.ok(Math.abs(decide(0.1, rule).confidence - 0.9) < 1e-9);
  });
  it('calls an image edited if any face is edited', () => {
    assert.equal(combine(['real', 'edited', 'uncertain']), 'edited');
    assert.equal(combine(['real', 'uncertain']), 'uncertain');
    assert.equal(combine(['real', 'real']), 'real');
  });
  it('composes affine maps', () => {
    const scale: Affine = [2, 0, 0, 0, 2, 0];
    const shift: Affine = [1, 0, 10, 0, 1, 5];
    assert.deepEqual(compose(shift, scale), [2, 0, 10, 0, 2, 5]);
  });
  it('sniffs formats from magic bytes only', () => {
    assert.equal(sniffFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0])), 'jpeg');
    assert.equal(sniffFormat(Buffer.from('RIFF\0\0\0\0WEBPVP8 ', 'latin1')), 'webp');
    assert.equal(sniffFormat(Buffer.from('\0\0\0\x1cftypavif\0\0\0\0avifmif1', 'latin1')), 'avif');
    assert.equal(sniffFormat(Buffer.from('<html><body>hi</body></html>')), null);
  });
});
