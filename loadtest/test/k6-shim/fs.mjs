// k6/experimental/fs shim: files resolved against globalThis.__k6shim.base (the scenario's folder), as k6 resolves them against the script (tests only).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const SeekMode = { Start: 0, Current: 1, End: 2 };

export async function open(path) {
  const data = readFileSync(resolve(globalThis.__k6shim?.base ?? '.', path));
  let pos = 0;
  return {
    async stat() {
      return { name: path, size: data.length };
    },
    async seek(offset, whence) {
      pos = whence === SeekMode.Start ? offset : whence === SeekMode.Current ? pos + offset : data.length + offset;
      return pos;
    },
    async read(p) {
      if (pos >= data.length) return null;
      const n = Math.min(p.length, data.length - pos);
      p.set(data.subarray(pos, pos + n));
      pos += n;
      return n;
    },
  };
}
export default { open, SeekMode };
