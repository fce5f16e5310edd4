import { open, readdir, realpath, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { sniffFormat } from '@dfd/imaging';
import { describeError } from './errors.js';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.avif', '.tif', '.tiff', '.heic', '.heif']);

/** One input: a file to analyse, or one that already has its error (unreadable, not an image). */
export interface Entry {
  path: string;
  error?: string;
}

async function sniffs(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(64);
    const { bytesRead } = await fh.read(buf, 0, 64, 0);
    return sniffFormat(buf.subarray(0, bytesRead)) !== null;
  } finally {
    await fh.close();
  }
}

/**
 * Expands the command line into files, in a stable order. Files named on the command line are
 * always analysed (the server decides). In folders (walked recursively, hidden entries skipped),
 * a file is analysed when it has an image extension or its first bytes are an image; any other
 * file gets an error row saying it was skipped, so every file in the folder is accounted for.
 */
export async function collectFiles(inputs: string[]): Promise<Entry[]> {
  const out: Entry[] = [];
  const seen = new Set<string>();
  const visitedDirs = new Set<string>();

  const addFile = async (path: string, explicit: boolean) => {
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      real = path;
    }
    if (seen.has(real)) return;
    seen.add(real);
    if (explicit || IMAGE_EXTENSIONS.has(extname(path).toLowerCase())) {
      out.push({ path });
      return;
    }
    try {
      if (await sniffs(path)) out.push({ path });
      else out.push({ path, error: 'not_an_image: skipped (no image extension and the content is not a supported image)' });
    } catch (err) {
      out.push({ path, error: `unreadable: ${describeError(err)}` });
    }
  };

  const walk = async (dir: string) => {
    let real: string;
    try {
      real = await realpath(dir);
    } catch (err) {
      out.push({ path: dir, error: `unreadable: ${describeError(err)}` });
      return;
    }
    if (visitedDirs.has(real)) return; // symlink loop
    visitedDirs.add(real);
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
    } catch (err) {
      out.push({ path: dir, error: `unreadable: ${describeError(err)}` });
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      let st;
      try {
        st = await stat(path);
      } catch (err) {
        out.push({ path, error: `unreadable: ${describeError(err)}` });
        continue;
      }
      if (st.isDirectory()) await walk(path);
      else if (st.isFile()) await addFile(path, false);
    }
  };

  for (const input of inputs) {
    let st;
    try {
      st = await stat(input);
    } catch (err) {
      out.push({ path: input, error: `unreadable: ${describeError(err)}` });
      continue;
    }
    if (st.isDirectory()) await walk(input);
    else await addFile(input, true);
  }
  return out;
}
