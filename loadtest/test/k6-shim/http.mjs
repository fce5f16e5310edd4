// k6/http shim over curl: synchronous like k6's API (tests only; slow, fine for a few requests).
import { execFileSync } from 'node:child_process';

const canonical = (name) => name.toLowerCase().replace(/(^|-)([a-z])/g, (_, d, c) => d + c.toUpperCase());

function request(method, url, body, params = {}) {
  const args = ['-sS', '-i', '-X', method, '-H', 'Expect:', '--max-time', String(parseInt(params.timeout ?? '60', 10)), '-w', '\n%{time_connect} %{time_total}'];
  for (const [k, v] of Object.entries(params.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (body !== undefined && body !== null) args.push('--data-binary', '@-');
  args.push(url);
  const input = body instanceof ArrayBuffer ? Buffer.from(body) : typeof body === 'string' ? Buffer.from(body) : undefined;
  let out;
  try {
    out = execFileSync('curl', args, { input, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    return { status: 0, error: String(err.message), error_code: 1000, headers: {}, body: null, timings: { duration: 0, blocked: 0, connecting: 0, tls_handshaking: 0 }, json: () => { throw new Error('no body'); } };
  }
  const text = out.toString('utf8');
  const nl = text.lastIndexOf('\n');
  const [connect, total] = text.slice(nl + 1).split(' ').map(Number);
  const raw = text.slice(0, nl);
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).split('\r\n');
  const resBody = raw.slice(split + 4);
  const status = Number(head[0].split(' ')[1]);
  const headers = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    headers[canonical(line.slice(0, i).trim())] = line.slice(i + 1).trim();
  }
  return {
    status,
    headers,
    body: resBody,
    error_code: 0,
    timings: { duration: (total - connect) * 1000, blocked: 0, connecting: connect * 1000, tls_handshaking: 0 },
    json: () => JSON.parse(resBody),
  };
}

export const post = (url, body, params) => request('POST', url, body, params);
export const get = (url, params) => request('GET', url, undefined, params);
export function expectedStatuses() {
  return {};
}
export function setResponseCallback() {}
export default { post, get, expectedStatuses, setResponseCallback };
