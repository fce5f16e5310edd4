import { connect } from 'node:net';

/** Sends raw bytes, returns what came back (status line, headers, body) once the server closes. */
export function rawExchange(port: number, bytes: Buffer | string, timeoutMs = 10_000): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer in time'));
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), headers: head, body: rest.join('\r\n\r\n') });
    });
    socket.on('connect', () => {
      socket.write(bytes);
      // Half-close so keep-alive answers end too.
      setTimeout(() => socket.end(), 200);
    });
  });
}
