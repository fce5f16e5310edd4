import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, EnvReader } from '../src/index.js';

test('reads typed values and falls back when unset or blank', () => {
  const env = new EnvReader({ PORT: ' 8080 ', RATIO: '0.25', ON: 'yes', OFF: '0', MODE: 'b', LIST: 'a, b,,c', EMPTY: '  ' });
  assert.equal(env.int('PORT', 1), 8080);
  assert.equal(env.number('RATIO', 1), 0.25);
  assert.equal(env.bool('ON', false), true);
  assert.equal(env.bool('OFF', true), false);
  assert.equal(env.oneOf('MODE', ['a', 'b'] as const, 'a'), 'b');
  assert.deepEqual(env.list('LIST', []), ['a', 'b', 'c']);
  assert.equal(env.string('EMPTY', 'fallback'), 'fallback');
  assert.equal(env.int('MISSING', 7), 7);
  env.done();
});

test('one error names every bad variable', () => {
  const env = new EnvReader({ PORT: '80x', THREADS: '0', FLAG: 'maybe', URL: 'ftp://x', MODE: 'z' });
  env.int('PORT', 1);
  env.int('THREADS', 1, { min: 1 });
  env.bool('FLAG', false);
  env.url('URL', 'http://a', ['http:', 'https:']);
  env.oneOf('MODE', ['a'] as const, 'a');
  env.required('SECRET');
  assert.throws(() => env.done(), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    for (const name of ['PORT', 'THREADS', 'FLAG', 'URL', 'MODE', 'SECRET']) assert.match(err.message, new RegExp(`\\b${name}\\b`));
    assert.equal(err.problems.length, 6);
    return true;
  });
});
