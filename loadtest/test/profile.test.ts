import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { codeOwner, formatThreads, profilesByPid, summariseCpuProfile, threadCpu, threadDelta, threadGroup } from '../src/profile.js';

test('threadCpu sees this process\'s main thread spend the CPU it just burned', () => {
  const before = threadCpu(process.pid);
  const until = process.cpuUsage().user + 200_000;
  let x = 0;
  while (process.cpuUsage().user < until) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
  const d = threadDelta(threadCpu(process.pid), before);
  assert.ok((d.get('main') ?? 0) >= 0.1, `main thread delta ${d.get('main')}`);
  assert.match(formatThreads('me', d, 10), /^ {2}me +\d+\.\d\d ms\/verdict: main /);
});

test('thread names lose their ordinals; frames are attributed to packages, workspace code and V8', () => {
  assert.equal(threadGroup('libuv-worker'), 'libuv-worker');
  assert.equal(threadGroup('vips-3'), 'vips');
  assert.equal(threadGroup('V8 DefaultWorke'), 'V8 DefaultWorke');
  assert.equal(codeOwner('file:///r/node_modules/.pnpm/bullmq@5.1.0/node_modules/bullmq/dist/esm/classes/job.js', 'f'), 'bullmq');
  assert.equal(codeOwner('file:///r/node_modules/.pnpm/@fastify+ajv@1/node_modules/@fastify/ajv-compiler/index.js', 'f'), '@fastify/ajv-compiler');
  assert.equal(codeOwner('file:///r/services/gateway/dist/app.js', 'f'), 'services/gateway');
  assert.equal(codeOwner('node:internal/streams/readable', 'f'), 'node:internal');
  assert.equal(codeOwner('', '(garbage collector)'), '(garbage collector)');
});

test('a real V8 CPU profile is summed by self time: the busy function comes out on top', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dfd-prof-'));
  try {
    const script = join(dir, 'busy.js');
    writeFileSync(script, 'function spinHard(ms){const t=Date.now();let x=0;while(Date.now()-t<ms)x+=Math.sqrt(x+1);return x}\nspinHard(400);\n');
    const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const profiles = profilesByPid(dir);
    assert.equal(profiles.size, 1);
    const s = summariseCpuProfile([...profiles.values()][0]!);
    assert.ok(s.busyMs >= 300, `busy ${s.busyMs} ms`);
    assert.match(s.byFunction[0]![0], /^spinHard busy\.js:1$/);
    assert.equal(s.byPackage[0]![0], 'busy.js');
    assert.ok(s.byPackage[0]![1] / s.busyMs > 0.5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
