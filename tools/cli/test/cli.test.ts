/**
 * dfd analyze, as a real process: against a real stack (redis, classifier, detector, gateway with
 * tiny models), embedded with the same tiny models and no services, against a scripted server for
 * 429/503/reset retries and face rows, and the exit codes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type Stack } from '../../../test/support/stack.js';
import { freePort } from '../../../test/support/processes.js';
import { RED, colourImage } from '../../../test/support/images.js';
import { writeTinyModelSet } from '../../../test/support/tiny-onnx.js';
import { parseRetryAfter } from '../src/remote.js';
import { csvLine, rowsFor } from '../src/output.js';
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
    assert.match(run.stdout, /edited\s+2\n\s+deepfake\s+0\n\s+retouched\s+2\nuncertain\s+0\nreal\s+2\nerror\s+3\ntotal\s+7/);
    assert.match(run.stderr, /progress 7\/7\s+100%\s+[\d.]+ files\/s\s+ETA 0:00\s+3 errors/);
    assert.match(run.stderr, /done: 7 files in/);
  });

  it('writes JSON lines to --out x.jsonl, and CSV to stdout when there is no --out', async () => {
    const out = join(work, 'results.jsonl');
    const run = await runCli(['analyze', join(photos, 'red.jpg'), join(photos, 'notes.txt'), join(photos, 'missing.jpg'), '--url', stack!.url, '--out', out, '--no-crop', '-q']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '', '--quiet: nothing on stderr');
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.equal(lines[0].verdict, 'edited');
    assert.equal(typeof lines[0].score_edited, 'number');
    assert.match(lines[1].error, /^415 unsupported_media_type/, 'a file named explicitly is sent and the server decides');
    assert.match(lines[2].error, /^unreadable: ENOENT/);
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

  it('exits 2 on usage errors and 1 on bad option values', async () => {
    for (const args of [[], ['analyze'], ['frobnicate', photos], ['analyze', photos, '--bogus']]) {
      const run = await runCli(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /Usage: dfd analyze/);
    }
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
    assert.match(run.stderr, /3 retries/);
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
    assert.equal(run.code, 0, run.stderr);
    const [row] = parseCsv(run.stdout);
    assert.match(row!.error!, /^429 queue_full: Full\. \(gave up after 3 attempts\)/);
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
