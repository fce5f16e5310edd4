// A TCP proxy in front of the gateway that injects faults into uploads (tests only; its own
// process, because the k6/http shim blocks the test's event loop while curl runs).
//   node fault-proxy.mjs <target port> <action for POST 1>,<action for POST 2>,...
// actions: reset (drop the connection once the request is in), 429 (answer 429, Retry-After 1), pass.
// Prints "listening <port>", then "post <bytes>:<sha256 of the body>" for every POST.
import { createHash } from 'node:crypto';
import { createServer, connect } from 'node:net';

const target = Number(process.argv[2]);
const plan = (process.argv[3] ?? '').split(',').filter(Boolean);
let posts = 0;
const server = createServer((client) => {
  let buf = Buffer.alloc(0);
  let decided = false;
  client.on('error', () => undefined);
  client.on('data', (d) => {
    if (decided) return;
    buf = Buffer.concat([buf, d]);
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = buf.subarray(0, end).toString('latin1');
    const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    if (buf.length < end + 4 + len) return;
    decided = true;
    let action = 'pass';
    if (head.startsWith('POST ')) {
      process.stdout.write(`post ${len}:${createHash('sha256').update(buf.subarray(end + 4, end + 4 + len)).digest('hex')}\n`);
      action = plan[posts++] ?? 'pass';
    }
    if (action === 'reset') return void client.resetAndDestroy();
    if (action === '429') {
      const body = JSON.stringify({ error: { code: 'overloaded', message: 'injected' }, request_id: 'proxy' });
      return void client.end(`HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
    }
    const up = connect(target, '127.0.0.1', () => {
      up.write(buf);
      client.pipe(up);
      up.pipe(client);
    });
    up.on('error', () => client.destroy());
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
