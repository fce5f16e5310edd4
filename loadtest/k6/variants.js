// @ts-check
/**
 * Unique uploads from a few committed sample files, in plain JavaScript so that k6 (goja) and
 * Node share it. The gateway dedups by decoded pixels, so a load test that re-sent the same file
 * would measure a cache. Each sample's manifest entry names "spots": bytes that may take any value
 * in [lo, hi] and still decode (JPEG quantisation-table entries, PNG/GIF palette bytes, raw TIFF
 * pixels), and the CRCs to recompute afterwards. Variant n writes n in mixed radix over the spots,
 * so distinct n below `capacity` give distinct pixels.
 */

/**
 * @typedef {{ offset: number, lo: number, hi: number, step?: number }} Spot  step (coprime with hi-lo+1): digit d writes lo + (d * step) mod (hi-lo+1), so neighbouring variants differ by more than one level (raw pixels that the gateway's downscaling would otherwise average away)
 * @typedef {{ start: number, end: number, at: number }} CrcFix
 * @typedef {{ file: string, format: string, mime: string, width: number, height: number, bytes: number, spots: Spot[], crcs: CrcFix[] }} SampleMeta
 */

/** @type {Uint32Array | undefined} */
let crcTable;

/** @param {Uint8Array} buf @param {number} start @param {number} end */
export function crc32(buf, start, end) {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  const table = crcTable;
  for (let i = start; i < end; i++) crc = /** @type {number} */ (table[(crc ^ /** @type {number} */ (buf[i])) & 0xff]) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** How many distinct variants a sample has. @param {SampleMeta} meta */
export function capacity(meta) {
  let n = 1;
  for (const s of meta.spots) n *= s.hi - s.lo + 1;
  return n;
}

/**
 * A copy of `template` made unique by `n` (taken modulo the sample's capacity).
 * @param {Uint8Array} template @param {SampleMeta} meta @param {number} n
 * @returns {Uint8Array}
 */
export function variant(template, meta, n) {
  const out = new Uint8Array(template.length);
  out.set(template);
  return variantInPlace(out, meta, n);
}

/**
 * Makes `buf` (a fresh copy of the sample) variant `n` in place; returns it. Saves a copy of a
 * large sample per upload where the caller already holds its own copy (k6 reads one per upload).
 * @param {Uint8Array} out @param {SampleMeta} meta @param {number} n
 * @returns {Uint8Array}
 */
export function variantInPlace(out, meta, n) {
  let rest = Math.floor(Math.abs(n)) % capacity(meta);
  for (const s of meta.spots) {
    const radix = s.hi - s.lo + 1;
    out[s.offset] = s.lo + (((rest % radix) * (s.step ?? 1)) % radix);
    rest = Math.floor(rest / radix);
  }
  for (const c of meta.crcs) {
    const v = crc32(out, c.start, c.end);
    out[c.at] = (v >>> 24) & 0xff;
    out[c.at + 1] = (v >>> 16) & 0xff;
    out[c.at + 2] = (v >>> 8) & 0xff;
    out[c.at + 3] = v & 0xff;
  }
  return out;
}
