/**
 * A generated corpus of bad input for the upload path (issue 11): hostile and malformed files,
 * malformed multipart, bad queries and ids, and protocol-level garbage. Everything is built at
 * test time from a few real encoded images; nothing binary is committed.
 */
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { BLUE, RED, colourImage } from './images.js';
import {
  jpegHeaderOnly,
  jpegWithBigXmp,
  jpegWithExifSegments,
  pngChunk,
  pngWithChunks,
  pngWithTextChunks,
  pngWithXmp,
  pngWithZtxtBomb,
  tiffWithStrips,
} from './hostile.js';
import { rawExchange } from './raw-http.js';

export interface BadInputContext {
  api: string;
  port: number;
}

export interface BadInputOutcome {
  status: number;
}

export interface BadInput {
  name: string;
  run(ctx: BadInputContext): Promise<BadInputOutcome>;
}

async function post(ctx: BadInputContext, body: Buffer | string, type: string | null, path = '/v1/analyses', headers: Record<string, string> = {}): Promise<BadInputOutcome> {
  const res = await fetch(`${ctx.api}${path}`, { method: 'POST', body, headers: { ...(type ? { 'content-type': type } : {}), ...headers } });
  await res.arrayBuffer();
  return { status: res.status };
}

async function get(ctx: BadInputContext, path: string, headers: Record<string, string> = {}): Promise<BadInputOutcome> {
  const res = await fetch(`${ctx.api}${path}`, { headers });
  await res.arrayBuffer();
  return { status: res.status };
}

function multipartBody(boundary: string, parts: Array<{ name: string; filename?: string; type?: string; body: Buffer | string }>, close = true): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) {
    out.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`));
    out.push(Buffer.isBuffer(p.body) ? p.body : Buffer.from(p.body));
    out.push(Buffer.from('\r\n'));
  }
  if (close) out.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(out);
}

const raw = (bytes: string | Buffer) => async (ctx: BadInputContext) => ({ status: (await rawExchange(ctx.port, bytes)).status });

function pngIhdr(png: Buffer, width: number, height: number, opts: { badCrc?: boolean; depth?: number; colour?: number } = {}): Buffer {
  const data = Buffer.from(png.subarray(16, 29));
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  if (opts.depth !== undefined) data[8] = opts.depth;
  if (opts.colour !== undefined) data[9] = opts.colour;
  return Buffer.concat([png.subarray(0, 8), pngChunk('IHDR', data, { badCrc: opts.badCrc }), png.subarray(33)]);
}

function jpegSof(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let o = 2; o + 9 < out.length; ) {
    if (out[o] !== 0xff) break;
    const marker = out[o + 1]!;
    const len = out.readUInt16BE(o + 2);
    if (marker >= 0xc0 && marker <= 0xc2) {
      out.writeUInt16BE(height, o + 5);
      out.writeUInt16BE(width, o + 7);
      return out;
    }
    o += 2 + len;
  }
  return out;
}

/** At least 60 kinds of bad input. */
export async function badInputs(): Promise<BadInput[]> {
  const png = await colourImage('png', RED, 64, 7001);
  const jpeg = await colourImage('jpeg', RED, 64, 7002);
  const webp = await colourImage('webp', BLUE, 64, 7003);
  const gif = await colourImage('gif', BLUE, 64, 7004);
  const tiff = await colourImage('tiff', BLUE, 64, 7005);
  const avif = await colourImage('avif', BLUE, 64, 7006);
  const rnd = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < rnd.length; i++) rnd[i] = (i * 2654435761) >>> 24;
  const cmyk = await sharp({ create: { width: 48, height: 48, channels: 3, background: { r: 200, g: 10, b: 10 } } }).toColourspace('cmyk').jpeg().toBuffer();
  const png16 = await sharp({ create: { width: 32, height: 32, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 0.5 } } }).png({ compressionLevel: 9 }).toColourspace('rgb16').toBuffer();
  const interlaced = await sharp(png).png({ progressive: true }).toBuffer();
  const tall = await sharp({ create: { width: 1, height: 60_000, channels: 3, background: { r: 9, g: 9, b: 9 } } }).png().toBuffer();
  const animated = await sharp({ create: { width: 16, height: 16 * 3, channels: 3, background: { r: 9, g: 99, b: 9 } } }).gif({ loop: 0 }).toBuffer();

  const kinds: BadInput[] = [
    // ---- bodies that are not images at all
    { name: 'empty body', run: (c) => post(c, Buffer.alloc(0), 'image/png') },
    { name: 'one byte', run: (c) => post(c, Buffer.from([0xff]), 'image/jpeg') },
    { name: 'JPEG magic only', run: (c) => post(c, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0]), 'image/jpeg') },
    { name: 'plain text as image/jpeg', run: (c) => post(c, 'hello world, not a picture', 'image/jpeg') },
    { name: 'HTML as octet-stream', run: (c) => post(c, '<!doctype html><script>alert(1)</script>', 'application/octet-stream') },
    { name: 'JSON body', run: (c) => post(c, '{"image":"x"}', 'application/json') },
    { name: 'no content type', run: (c) => post(c, png, null) },
    { name: 'valid PNG as text/plain', run: (c) => post(c, png, 'text/plain') },
    { name: '1 MB of noise', run: (c) => post(c, rnd, 'image/png') },
    { name: 'SVG', run: (c) => post(c, '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', 'image/svg+xml') },
    { name: 'BMP', run: (c) => post(c, Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]), 'image/bmp') },
    { name: 'PDF', run: (c) => post(c, '%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF', 'application/octet-stream') },
    { name: 'ZIP', run: (c) => post(c, Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(100)]), 'application/octet-stream') },
    { name: 'gzip of a PNG', run: (c) => post(c, gzipSync(png), 'image/png') },
    { name: 'PNG after 300 bytes of junk', run: (c) => post(c, Buffer.concat([Buffer.alloc(300, 0x20), png]), 'image/png') },
    // ---- PNG structure
    { name: 'PNG truncated in half', run: (c) => post(c, png.subarray(0, png.length >> 1), 'image/png') },
    { name: 'PNG signature only', run: (c) => post(c, png.subarray(0, 8), 'image/png') },
    { name: 'PNG IHDR with bad CRC', run: (c) => post(c, pngIhdr(png, 64, 64, { badCrc: true }), 'image/png') },
    { name: 'PNG claiming 65535x65535', run: (c) => post(c, pngIhdr(png, 65535, 65535), 'image/png') },
    { name: 'PNG claiming 2^31 width', run: (c) => post(c, pngIhdr(png, 0x7fffffff, 1), 'image/png') },
    { name: 'PNG of zero width', run: (c) => post(c, pngIhdr(png, 0, 64), 'image/png') },
    { name: 'PNG with bit depth 3', run: (c) => post(c, pngIhdr(png, 64, 64, { depth: 3 }), 'image/png') },
    { name: 'PNG with colour type 7', run: (c) => post(c, pngIhdr(png, 64, 64, { colour: 7 }), 'image/png') },
    { name: 'PNG chunk length 0xFFFFFFFF', run: (c) => post(c, Buffer.concat([png.subarray(0, 33), Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from('tEXt'), Buffer.alloc(64)]), 'image/png') },
    { name: 'PNG with no IDAT', run: (c) => post(c, Buffer.concat([png.subarray(0, 33), pngChunk('IEND', Buffer.alloc(0))]), 'image/png') },
    { name: 'PNG with 10,000 text chunks', run: (c) => post(c, pngWithTextChunks(png, 10_000), 'image/png') },
    { name: 'PNG with 1 MB XMP', run: (c) => post(c, pngWithXmp(png, 65_000), 'image/png') },
    { name: 'PNG with 17 MB XMP (1.1 M attributes)', run: (c) => post(c, pngWithXmp(png, 1_100_000), 'image/png') },
    { name: 'PNG with a 50 MB zTXt bomb', run: (c) => post(c, pngWithZtxtBomb(png, 50_000_000), 'image/png') },
    { name: 'PNG with 2,000 unknown private chunks', run: (c) => post(c, pngWithChunks(png, Array.from({ length: 2_000 }, (_, i) => pngChunk('prVt', Buffer.from(`x${i}`)))), 'image/png') },
    { name: 'PNG with 500 eXIf chunks', run: (c) => post(c, pngWithChunks(png, Array.from({ length: 500 }, () => pngChunk('eXIf', Buffer.from('MM\0*\0\0\0\x08\0\0', 'latin1')))), 'image/png') },
    // ---- JPEG structure
    { name: 'JPEG truncated in half', run: (c) => post(c, jpeg.subarray(0, jpeg.length >> 1), 'image/jpeg') },
    { name: 'JPEG header claiming 7000x7000, no scan', run: (c) => post(c, jpegHeaderOnly(7000, 7000, null), 'image/jpeg') },
    { name: 'JPEG header claiming 7000x7000, tiny scan', run: (c) => post(c, jpegHeaderOnly(7000, 7000, 200), 'image/jpeg') },
    { name: 'JPEG SOF claiming 0x0', run: (c) => post(c, jpegSof(jpeg, 0, 0), 'image/jpeg') },
    { name: 'JPEG SOF claiming 65535x65535', run: (c) => post(c, jpegSof(jpeg, 65535, 65535), 'image/jpeg') },
    { name: 'JPEG with a zero-length segment', run: (c) => post(c, Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xe1, 0, 0]), jpeg.subarray(2)]), 'image/jpeg') },
    { name: 'JPEG segment running past the end', run: (c) => post(c, Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xe1, 0xff, 0xff]), Buffer.alloc(100)]), 'image/jpeg') },
    { name: 'JPEG with 60 EXIF segments', run: (c) => post(c, jpegWithExifSegments(jpeg, 60, 3_500), 'image/jpeg') },
    { name: 'JPEG with 1 MB extended XMP', run: (c) => post(c, jpegWithBigXmp(jpeg, 1_000_000), 'image/jpeg') },
    { name: 'JPEG with 5 MB of junk after EOI', run: (c) => post(c, Buffer.concat([jpeg, Buffer.alloc(5 * 1024 * 1024, 0x11)]), 'image/jpeg') },
    { name: 'JPEG in CMYK', run: (c) => post(c, cmyk, 'image/jpeg') },
    // ---- other containers
    { name: 'TIFF claiming 100 million strips', run: (c) => post(c, tiffWithStrips(100_000_000), 'image/tiff') },
    { name: 'TIFF with IFD offset past the end', run: (c) => post(c, Buffer.concat([Buffer.from([0x49, 0x49, 0x2a, 0, 0xff, 0xff, 0xff, 0x7f]), Buffer.alloc(64)]), 'image/tiff') },
    { name: 'big-endian TIFF header only', run: (c) => post(c, Buffer.concat([Buffer.from([0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8]), Buffer.alloc(8)]), 'image/tiff') },
    { name: 'TIFF truncated', run: (c) => post(c, tiff.subarray(0, 200), 'image/tiff') },
    { name: 'GIF header only', run: (c) => post(c, Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0])]), 'image/gif') },
    { name: 'GIF truncated', run: (c) => post(c, gif.subarray(0, gif.length >> 1), 'image/gif') },
    { name: 'animated GIF', run: (c) => post(c, animated, 'image/gif') },
    { name: 'WebP RIFF header only', run: (c) => post(c, Buffer.concat([Buffer.from('RIFF', 'latin1'), Buffer.from([0xff, 0xff, 0xff, 0x7f]), Buffer.from('WEBPVP8 ', 'latin1')]), 'image/webp') },
    { name: 'WebP truncated', run: (c) => post(c, webp.subarray(0, webp.length >> 1), 'image/webp') },
    { name: 'AVIF truncated', run: (c) => post(c, avif.subarray(0, avif.length >> 1), 'image/avif') },
    { name: 'HEIC ftyp only', run: (c) => post(c, Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheicmif1heic', 'latin1'), Buffer.alloc(8)]), 'image/heic') },
    { name: 'ftyp box claiming 4 GB', run: (c) => post(c, Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from('ftypavifavif', 'latin1'), Buffer.alloc(32)]), 'image/avif') },
    { name: 'valid 16-bit PNG with alpha', run: (c) => post(c, png16, 'image/png') },
    { name: 'valid interlaced PNG', run: (c) => post(c, interlaced, 'image/png') },
    { name: '1x60000 PNG', run: (c) => post(c, tall, 'image/png') },
    { name: 'over MAX_UPLOAD_BYTES', run: (c) => post(c, Buffer.concat([png, Buffer.alloc(21 * 1024 * 1024)]), 'image/png') },
    // ---- multipart
    { name: 'multipart without boundary', run: (c) => post(c, multipartBody('abc', [{ name: 'image', filename: 'a.png', body: png }]), 'multipart/form-data') },
    { name: 'multipart with a 300-character boundary', run: (c) => post(c, multipartBody('b'.repeat(300), [{ name: 'image', filename: 'a.png', body: png }]), `multipart/form-data; boundary=${'b'.repeat(300)}`) },
    { name: 'multipart without closing boundary', run: (c) => post(c, multipartBody('abc', [{ name: 'image', filename: 'a.png', body: png }], false), 'multipart/form-data; boundary=abc') },
    { name: 'multipart with the wrong field', run: (c) => post(c, multipartBody('abc', [{ name: 'photo', filename: 'a.png', body: png }]), 'multipart/form-data; boundary=abc') },
    { name: 'multipart with two files', run: (c) => post(c, multipartBody('abc', [{ name: 'image', filename: 'a.png', body: png }, { name: 'image', filename: 'b.png', body: png }]), 'multipart/form-data; boundary=abc') },
    { name: 'multipart with an empty file', run: (c) => post(c, multipartBody('abc', [{ name: 'image', filename: 'a.png', body: '' }]), 'multipart/form-data; boundary=abc') },
    { name: 'multipart with garbage part headers', run: (c) => post(c, `--abc\r\n${'X'.repeat(20_000)}\r\n\r\nzz\r\n--abc--\r\n`, 'multipart/form-data; boundary=abc') },
    { name: 'multipart with 1,000 fields', run: (c) => post(c, multipartBody('abc', Array.from({ length: 1_000 }, (_, i) => ({ name: `f${i}`, body: 'x' }))), 'multipart/form-data; boundary=abc') },
    { name: 'batch without files', run: (c) => post(c, multipartBody('abc', [{ name: 'note', body: 'hi' }]), 'multipart/form-data; boundary=abc', '/v1/batches') },
    { name: 'batch of bad files', run: (c) => post(c, multipartBody('abc', [{ name: 'image', filename: 'a', body: 'nope' }, { name: 'image', filename: 'b', body: tiffWithStrips(100_000_000) }, { name: 'image', filename: 'c', body: png }]), 'multipart/form-data; boundary=abc', '/v1/batches') },
    { name: 'batch without closing boundary', run: (c) => post(c, multipartBody('abc', [{ name: 'image', filename: 'a.png', body: png }], false), 'multipart/form-data; boundary=abc', '/v1/batches') },
    { name: 'batch as raw body', run: (c) => post(c, png, 'image/png', '/v1/batches') },
    // ---- queries, ids, headers
    { name: 'wait=abc', run: (c) => post(c, png, 'image/png', '/v1/analyses?wait=abc') },
    { name: 'wait=99999', run: (c) => post(c, png, 'image/png', '/v1/analyses?wait=99999') },
    { name: 'unknown query parameter', run: (c) => post(c, png, 'image/png', '/v1/analyses?foo=bar') },
    { name: 'callback_url to loopback', run: (c) => post(c, png, 'image/png', `/v1/analyses?callback_url=${encodeURIComponent('http://127.0.0.1:22/x')}`) },
    { name: 'callback_url not a URI', run: (c) => post(c, png, 'image/png', '/v1/analyses?callback_url=%%%') },
    { name: 'GET non-hex id', run: (c) => get(c, '/v1/analyses/not-an-id') },
    { name: 'GET random unknown id', run: (c) => get(c, `/v1/analyses/${'ab'.repeat(16)}`) },
    { name: 'GET id of 10 KB', run: (c) => get(c, `/v1/analyses/${'a'.repeat(10_000)}`) },
    { name: 'GET batch with bad id', run: (c) => get(c, '/v1/batches/bat_zz') },
    { name: 'malformed Authorization', run: (c) => post(c, png, 'image/png', '/v1/analyses', { authorization: 'Basic Zm9vOmJhcg==' }) },
    { name: 'unknown bearer key', run: (c) => post(c, png, 'image/png', '/v1/analyses', { authorization: 'Bearer dfd_nope' }) },
    { name: 'unknown method', run: async (c) => ({ status: (await fetch(`${c.api}/v1/analyses`, { method: 'PATCH' })).status }) },
    // ---- protocol level
    { name: 'raw: oversized headers', run: raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`) },
    { name: 'raw: garbage request line', run: raw('\x00\x01\x02 / HTTP/1.1\r\n\r\n') },
    { name: 'raw: HTTP/9.9', run: raw('GET / HTTP/9.9\r\nHost: x\r\n\r\n') },
    { name: 'raw: Content-Length with Transfer-Encoding', run: raw('POST /v1/analyses HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n') },
    { name: 'raw: two Content-Lengths', run: raw('POST /v1/analyses HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd') },
    { name: 'raw: negative Content-Length', run: raw('POST /v1/analyses HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n') },
    { name: 'raw: bad chunk size', run: raw('POST /v1/analyses HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n') },
    { name: 'raw: undecodable URL', run: raw('GET /v1/analyses/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n') },
    { name: 'raw: body shorter than Content-Length', run: async (c) => {
      const r = await rawExchange(c.port, `POST /v1/analyses HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(10)}`, 25_000).catch(() => ({ status: 0 }));
      return { status: r.status };
    } },
  ];
  return kinds;
}
