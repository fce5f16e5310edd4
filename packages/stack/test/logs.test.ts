/** The development log view: pino JSON in, one readable line per event, one line per request. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { devLogFormatter } from '../src/logs.js';

describe('devLogFormatter', () => {
  it('prints a request as one line (method, path, status, time) and drops successful health probes', () => {
    const f = devLogFormatter();
    const t = '2026-01-01T10:00:00.000Z';
    assert.equal(f('gateway', JSON.stringify({ level: 30, time: t, reqId: 'r1', req: { method: 'POST', url: '/v1/analyses?wait=5' }, msg: 'incoming request' })), undefined);
    const line = f('gateway', JSON.stringify({ level: 30, time: t, reqId: 'r1', res: { statusCode: 202 }, responseTime: 12.345, msg: 'request completed' }));
    assert.match(line!, /^\d\d:\d\d:\d\d gateway\s+POST \/v1\/analyses\?wait=5 → 202 12\.3 ms$/);
    f('gateway', JSON.stringify({ level: 30, reqId: 'r2', req: { method: 'GET', url: '/readyz' }, msg: 'incoming request' }));
    assert.equal(f('gateway', JSON.stringify({ level: 30, reqId: 'r2', res: { statusCode: 200 }, responseTime: 1, msg: 'request completed' })), undefined);
    f('gateway', JSON.stringify({ level: 30, reqId: 'r3', req: { method: 'GET', url: '/readyz' }, msg: 'incoming request' }));
    assert.match(f('gateway', JSON.stringify({ level: 30, reqId: 'r3', res: { statusCode: 503 }, responseTime: 1, msg: 'request completed' }))!, /GET \/readyz → 503/);
  });

  it('keeps levels and fields readable, passes plain lines through, hides redis start-up chatter', () => {
    const f = devLogFormatter();
    assert.match(f('detector-0', JSON.stringify({ level: 40, time: '2026-01-01T10:00:00Z', pid: 1, service: 'detector', jobId: 'abc', err: 'boom', msg: 'analysis failed' }))!, /detector-0\s+WARN analysis failed  jobId=abc err=boom$/);
    assert.match(f('classifier-0', 'not json at all')!, /classifier-0\s+not json at all$/);
    assert.equal(f('redis', '1:M 01 Jan 2026 10:00:00.000 # Server initialized'), undefined);
    assert.match(f('redis', '1:M 01 Jan 2026 10:00:00.000 # Bad file format reading the append only file')!, /Bad file format/);
  });
});
