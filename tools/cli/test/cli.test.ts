/**
 * dfd analyze, as a real process: against a real stack (redis, classifier, detector, gateway with
 * tiny models), embedded with the same tiny models and no services, against a scripted server for
 * 429/503/reset retries and face rows, and the exit codes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type Stack } from '@dfd/test-support/stack';
import { freePort, repoRoot } from '@dfd/test-support/processes';
import { RED, colourImage } from '@dfd/test-support/images';
import { writeTinyModelSet } from '@dfd/test-support/tiny-onnx';
import { parseRetryAfter } from '../src/remote.js';
import { csvLine, rowsFor } from '../src/output.js';
import { formatSummary } from '../src/analyze.js';
import { outcomes, parseCsv, runCli, writeSampleFolder } from './support.js';

function matchesExpected(got: Record<string, string>, expected: Record<string, string>) {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(expected).sort(), 'one row per file, hidden files skipped');
  for (const [path, want] of Object.entries(expected)) {
    if (want.startsWith('error:')) assert.ok(got[path]!.startsWith(want), `${path}: ${got[path]} should start with ${want}`);
    else assert.equal(got[path], want, path);
  }
}

describe('dfd analyze', () => {
  let work: string;
  let photos: string;
  let expected: Record<string, string>;
  let stack: Stack | undefined;
  let remoteVerdicts: Record<string, string> = {};

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'dfd-cli-'));
    photos = join(work, 'photos');
    expected = await writeSampleFolder(photos);
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('analyses a folder through the gateway: CSV rows for every file, error rows for bad ones', async () => {
    const out = join(work, 'results.csv');
    const run = await runCli(['analyze', photos, '--url', stack!.url, '--out', out, '--summary', '--concurrency', '3']);
    assert.equal(run.code, 0, run.stderr);
    const rows = parseCsv(readFileSync(out, 'utf8'));
    assert.deepEqual(Object.keys(rows[0]!), ['path', 'verdict', 'edit_type', 'score_edited', 'score_deepfake', 'score_retouched', 'confidence', 'faces', 'error', 'x', 'y', 'w', 'h']);
    remoteVerdicts = outcomes(rows, photos);
    matchesExpected(remoteVerdicts, expected);
    const red = rows.find((r) => r.path!.endsWith('red.jpg'))!;
    assert.equal(red.edit_type, 'retouched');
    assert.ok(Number(red.score_edited) > 0.9 && Number(red.score_retouched) > 0.9 && Number(red.confidence) > 0.9);
    assert.equal(red.faces, '0', 'face stage is off in the test stack: no face rows');
    const blue = rows.find((r) => r.path!.endsWith('blue.png'))!;
    assert.equal(blue.score_deepfake, '', 'not classified when real');
    // Rows come out in input (sorted walk) order whatever the completion order.
    assert.deepEqual(rows.map((r) => r.path), [...rows.map((r) => r.path)].sort());
    // Each file in one of real/edited/uncertain/error, and those add up to the total.
    assert.match(run.stdout, /real\s+2\nedited\s+2  = 0 deepfake \+ 2 retouched\nuncertain\s+0\nerror\s+3\ntotal\s+7  = real \+ edited \+ uncertain \+ error\n/);
    assert.match(run.stderr, /progress 7\/7\s+100%\s+[\d.]+ files\/s\s+ETA 0:00\s+3 errors/);
    assert.match(run.stderr, /done: 7 files in/);
  });

  it('writes JSON lines to --out x.jsonl, and CSV to stdout when there is no --out', async () => {
    const out = join(work, 'results.jsonl');
    const run = await runCli(['analyze', join(photos, 'red.jpg'), join(photos, 'notes.txt'), '--url', stack!.url, '--out', out, '--no-crop', '-q']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '', '--quiet: nothing on stderr');
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    assert.equal(lines[0].verdict, 'edited');
    assert.equal(typeof lines[0].score_edited, 'number');
    assert.match(lines[1].error, /^415 unsupported_media_type/, 'a file named explicitly is sent and the server decides');
    const toStdout = await runCli(['analyze', join(photos, 'blue.png'), '--url', stack!.url, '-q']);
    assert.equal(toStdout.code, 0);
    assert.equal(parseCsv(toStdout.stdout)[0]!.verdict, 'real');
  });

  it('gives the same verdicts embedded (models in-process, no Redis, no services)', async () => {
    const models = join(work, 'models');
    writeTinyModelSet(models);
    const out = join(work, 'embedded.csv');
    const run = await runCli(['analyze', photos, '--embedded', '--models', models, '--out', out, '--threads', '1']);
    assert.equal(run.code, 0, run.stderr);
    const got = outcomes(parseCsv(readFileSync(out, 'utf8')), photos);
    matchesExpected(got, expected);
    assert.deepEqual(got, remoteVerdicts, 'embedded and gateway agree, errors included');
  });

  it('exits 1 when the gateway is unreachable, or the models are missing', async () => {
    const port = await freePort();
    const run = await runCli(['analyze', photos, '--url', `http://127.0.0.1:${port}`, '--out', join(work, 'never.csv')]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED/);
    const noModels = await runCli(['analyze', photos, '--embedded', '--models', join(work, 'nope')]);
    assert.equal(noModels.code, 1);
    assert.match(noModels.stderr, /models folder .* does not exist/);
  });

  it('takes relative paths from where the user is: `npm run dfd` and the bin/dfd command, from any directory', async () => {
    const run = (cmd: string, args: string[], env: Record<string, string> = {}) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(cmd, args, { cwd: work, env: { ...process.env, DFD_API_KEY: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('close', (code) => resolve({ code, out }));
      });
    // npm from outside the repository (--prefix), as `npm run dfd -- analyze ./photos` typed in `work`.
    const viaNpm = await run('npm', ['--prefix', repoRoot, 'run', 'dfd', '--', 'analyze', './photos', '--url', stack!.url, '--out', 'npm.csv', '-q']);
    assert.equal(viaNpm.code, 0, viaNpm.out);
    const npmRows = parseCsv(readFileSync(join(work, 'npm.csv'), 'utf8'));
    assert.ok(npmRows.length >= 7 && npmRows.every((r) => r.path!.startsWith('photos/')), npmRows.map((r) => r.path).join(' '));
    // The bin, linked into a folder on PATH as the README says.
    const binDir = join(work, 'bin');
    mkdirSync(binDir);
    symlinkSync(join(repoRoot, 'bin', 'dfd'), join(binDir, 'dfd'));
    const viaBin = await run('dfd', ['analyze', './photos', '--url', stack!.url, '--out', 'bin.csv', '-q'], { PATH: `${binDir}:${process.env.PATH}` });
    assert.equal(viaBin.code, 0, viaBin.out);
    assert.deepEqual(outcomes(parseCsv(readFileSync(join(work, 'bin.csv'), 'utf8')), 'photos'), outcomes(npmRows, 'photos'));
  });

  it('exits 2 on usage errors and 1 on bad option values', async () => {
    for (const args of [[], ['analyze'], ['frobnicate', photos], ['analyze', photos, '--bogus'], ['analyze', photos, join(photos, 'missing.jpg')]]) {
      const run = await runCli(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /Usage: dfd analyze/);
    }
    const missing = await runCli(['analyze', './no-such-folder', '--url', stack!.url]);
    assert.match(missing.stderr, /no such file or folder: \.\/no-such-folder \(relative paths are taken from /);
    assert.equal(missing.stdout, '', 'no rows at all');
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes: 0 the run finished/);
    assert.equal((await runCli(['analyze', photos, '--out', join(work, 'x.xlsx')])).code, 1);
    assert.equal((await runCli(['analyze', photos, '--concurrency', 'many'])).code, 1);
    assert.equal((await runCli(['analyze', photos, '--url', 'not a url'])).code, 1);
  });
});

/** A scripted gateway: each upload answers from a script, then GET polls succeed. */
describe('dfd analyze retries (scripted server)', () => {
  let server: Server;
  let url: string;
  let work: string;
  const log: Array<{ at: number; method: string; url: string; auth?: string }> = [];
  let script: Array<(res: import('node:http').ServerResponse, req: import('node:http').IncomingMessage) => void> = [];
  const result = (withFaces: boolean) => ({
    verdict: 'edited',
    edit_type: 'deepfake',
    scores: { edited: 0.97, deepfake: 0.8, retouched: 0.2 },
    confidence: 0.97,
    thresholds: { edited: 0.5, uncertain_band: [0.4, 0.6], retouched: 0.5 },
    faces: withFaces
      ? [
          { box: { x: 10, y: 20, width: 100, height: 120 }, score: 0.99, landmarks: [], verdict: 'edited', edit_type: 'deepfake', scores: { edited: 0.97, deepfake: 0.8, retouched: 0.2 }, confidence: 0.97, heatmap: null },
          { box: { x: 300, y: 40, width: 90, height: 100 }, score: 0.95, landmarks: [], verdict: 'real', edit_type: null, scores: { edited: 0.1, deepfake: null, retouched: null }, confidence: 0.9, heatmap: null },
        ]
      : [],
    notes: [],
    heatmap: null,
    image: { width: 512, height: 384, format: 'jpeg', original_width: 1024, original_height: 768 },
    models: [],
    timings: {},
    evidence: { metadata: {} },
  });

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'dfd-cli-retry-'));
    server = createServer((req, res) => {
      log.push({ at: Date.now(), method: req.method!, url: req.url!, auth: req.headers.authorization });
      req.resume();
      req.on('end', () => {
        if (req.url === '/healthz') return res.end('{"status":"ok"}');
        if (req.headers.authorization === 'Bearer wrong') {
          res.writeHead(401, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'Unknown API key.' } }));
        }
        if (req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ id: 'abc', status: 'completed', links: { self: '/v1/analyses/abc' }, result: result(true) }));
        }
        const step = script.shift();
        if (step) return step(res, req);
        res.writeHead(202, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ id: 'abc', status: 'queued', links: { self: '/v1/analyses/abc' } }));
      });
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(work, { recursive: true, force: true });
  });

  it('honours Retry-After on 429, backs off on 503 and connection resets, then polls to the result', async () => {
    const img = join(work, 'one.jpg');
    (await import('node:fs')).writeFileSync(img, await colourImage('jpeg', RED, 64, 31));
    log.length = 0;
    script = [
      (res) => {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ error: { code: 'rate_limited', message: 'Slow down.' } }));
      },
      (res) => {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'service_unavailable', message: 'Queue away.' } }));
      },
      (res) => res.socket?.destroy(), // ECONNRESET / socket hang up
    ];
    const out = join(work, 'retry.csv');
    const run = await runCli(['analyze', img, '--url', url, '--out', out, '--api-key', 'k1']);
    assert.equal(run.code, 0, run.stderr);
    const posts = log.filter((l) => l.method === 'POST');
    assert.equal(posts.length, 4, '429, 503, reset, then 202');
    assert.ok(posts[1]!.at - posts[0]!.at >= 1000, `waited ${posts[1]!.at - posts[0]!.at} ms after Retry-After: 1`);
    assert.ok(log.some((l) => l.method === 'GET' && l.url === '/v1/analyses/abc?wait=25'), 'polled links.self');
    assert.ok(posts.every((p) => p.auth === 'Bearer k1'));
    // The 429 rate_limited is pacing (waited for, not a retry); the 503 and the reset are retries.
    assert.match(run.stderr, /2 retries/);
    const rows = parseCsv(readFileSync(out, 'utf8'));
    assert.deepEqual(
      rows.map((r) => [r.path!.slice(work.length + 1), r.verdict, r.edit_type, r.faces, r.x, r.y, r.w, r.h]),
      [
        ['one.jpg', 'edited', 'deepfake', '2', '', '', '', ''],
        ['one.jpg#face1', 'edited', 'deepfake', '', '20', '40', '200', '240'],
        ['one.jpg#face2', 'real', '', '', '600', '80', '180', '200'],
      ],
      'one row per face, boxes in original-image pixels',
    );
  });

  it('gives an error row (not a crash) when retries run out', async () => {
    const img = join(work, 'busy.jpg');
    (await import('node:fs')).writeFileSync(img, await colourImage('jpeg', RED, 64, 32));
    script = Array.from({ length: 3 }, () => (res: import('node:http').ServerResponse) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end(JSON.stringify({ error: { code: 'queue_full', message: 'Full.' } }));
    });
    const run = await runCli(['analyze', img, '--url', url, '--retries', '2', '-q']);
    assert.equal(run.code, 3, 'never a silent give-up: exit 3 when the server kept refusing');
    const [row] = parseCsv(run.stdout);
    assert.match(row!.error!, /^429 queue_full: Full\. \(gave up after 3 attempts\)/);
    assert.match(run.stderr, /1 file\(s\) were not analysed: the server kept answering 429/);
    script = [];
  });

  it('exits 1 when the API key is refused (DFD_API_KEY)', async () => {
    const img = join(work, 'key.jpg');
    (await import('node:fs')).writeFileSync(img, await colourImage('jpeg', RED, 64, 33));
    const run = await runCli(['analyze', img, '--url', url], { DFD_API_KEY: 'wrong' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /refused the API key \(401 unauthorized: Unknown API key\.\)/);
  });

  it('parses Retry-After and writes CSV safely', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(Date.now() + 5000).toUTCString(), Date.now())! > 3000, true);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(csvLine(['a,b', 'say "hi"', null, 1.5]), '"a,b","say ""hi""",,1.5\n');
    const [row] = rowsFor({ path: 'x.jpg', error: 'boom' });
    assert.equal(row!.error, 'boom');
  });
});

describe('dfd analyze against a rate limit (scripted fixed-window limiter with RateLimit-* headers)', () => {
  let server: Server;
  let url: string;
  let work: string;
  let limit = 6;
  const windowMs = 2_000;
  let windowStart = 0;
  let used = 0;
  let answered429 = 0;
  let requests = 0;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'dfd-cli-rate-'));
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/healthz') return res.end('{"status":"ok"}');
        requests++;
        const now = Date.now();
        if (now - windowStart >= windowMs) {
          windowStart = now;
          used = 0;
        }
        const reset = Math.ceil((windowStart + windowMs - now) / 1000);
        const allowed = used < limit;
        if (allowed) used++;
        const headers = { 'content-type': 'application/json', 'ratelimit-limit': String(limit), 'ratelimit-remaining': String(limit - used), 'ratelimit-reset': String(reset) };
        if (!allowed) {
          answered429++;
          res.writeHead(429, { ...headers, 'retry-after': String(reset) });
          return res.end(JSON.stringify({ error: { code: 'rate_limited', message: `Rate limit of ${limit} requests per window exceeded.` } }));
        }
        res.writeHead(200, headers);
        res.end(JSON.stringify({ id: 'x', status: 'completed', links: { self: '/v1/analyses/x' }, result: { verdict: 'real', edit_type: null, scores: { edited: 0.1, deepfake: null, retouched: null }, confidence: 0.9, faces: [], image: { width: 64, height: 64 } } }));
      });
    });
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${port}`;
    const { writeFileSync } = await import('node:fs');
    mkdirSync(join(work, 'many'));
    for (let i = 0; i < 20; i++) writeFileSync(join(work, 'many', `f${String(i).padStart(2, '0')}.png`), await colourImage('png', RED, 32, 4000 + i));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(work, { recursive: true, force: true });
  });

  it('paces a batch to the RateLimit-* headers: every file analysed, hardly any 429, exit 0', async () => {
    answered429 = 0;
    requests = 0;
    const run = await runCli(['analyze', join(work, 'many'), '--url', url, '--concurrency', '4', '--summary', '--out', join(work, 'paced.csv')], {}, 90_000);
    assert.equal(run.code, 0, run.stderr);
    const rows = parseCsv(readFileSync(join(work, 'paced.csv'), 'utf8'));
    assert.equal(rows.length, 20);
    assert.ok(rows.every((r) => r.verdict === 'real' && !r.error), 'no file given up');
    // 20 files at 6 per 2 s window need at least 3 waits for a new window.
    assert.ok(run.ms >= 5_000, `paced, not burst: ${run.ms} ms`);
    assert.ok(answered429 <= 4, `waited for windows instead of retrying blindly: ${answered429} answers 429 for ${requests} requests`);
    assert.equal(requests, 20 + answered429);
  });

  it('does not give up silently: files the limit never let through are rows that say so, and exit 3', async () => {
    limit = 0; // a key with no budget at all
    const run = await runCli(['analyze', join(work, 'many', 'f00.png'), join(work, 'many', 'f01.png'), '--url', url, '--timeout', '3', '--summary', '--out', join(work, 'refused.csv')], {}, 60_000);
    limit = 6;
    assert.equal(run.code, 3, run.stderr);
    const rows = parseCsv(readFileSync(join(work, 'refused.csv'), 'utf8'));
    assert.ok(rows.every((r) => /^429 rate_limited/.test(r.error!)), rows.map((r) => r.error).join('\n'));
    assert.match(run.stderr, /2 file\(s\) were not analysed/);
    assert.match(run.stdout, /error\s+2  \(2 refused by the server's rate or queue limits: not analysed\)/);
  });

  it('emits a face row only where it adds information; summary counts add up', () => {
    const face = (x: number, verdict: string, edited: number) => ({ box: { x, y: 10, width: 50, height: 60 }, score: 0.9, landmarks: [], verdict, edit_type: null, scores: { edited, deepfake: null, retouched: null }, confidence: 0.9, heatmap: null });
    const base = { verdict: 'real', edit_type: null, scores: { edited: 0.1, deepfake: null, retouched: null }, confidence: 0.9, image: { width: 256, height: 128, original_width: 512, original_height: 256 } };
    const one = rowsFor({ path: 'a.jpg', result: { ...base, faces: [face(20, 'real', 0.1)] } as never });
    assert.equal(one.length, 1, 'one face judged like the image: no duplicate #face1 row');
    assert.deepEqual([one[0]!.faces, one[0]!.x, one[0]!.y, one[0]!.w, one[0]!.h], [1, 40, 20, 100, 120], 'its box on the image row, original pixels');
    const two = rowsFor({ path: 'b.jpg', result: { ...base, faces: [face(200, 'real', 0.2), face(20, 'real', 0.1)] } as never });
    assert.deepEqual(two.map((r) => [r.path, r.x]), [['b.jpg', null], ['b.jpg#face1', 40], ['b.jpg#face2', 400]], 'numbered left to right');
    const differs = rowsFor({ path: 'c.jpg', result: { ...base, faces: [face(20, 'uncertain', 0.5)] } as never });
    assert.equal(differs.length, 2, 'a single face judged differently keeps its row');
    const text = formatSummary({ files: 10, counts: { real: 3, edited: 4, uncertain: 2, error: 1, 'edited:deepfake': 3, 'edited:retouched': 1, 'uncertain:deepfake': 2 } });
    assert.match(text, /^real\s+3\nedited\s+4  = 3 deepfake \+ 1 retouched\nuncertain\s+2  = 2 deepfake \+ 0 retouched \(the leaning, not a verdict\)\nerror\s+1\ntotal\s+10  = real \+ edited \+ uncertain \+ error\n$/);
  });
});
