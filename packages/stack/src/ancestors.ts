/**
 * `npm start` runs as npm → sh → node. A signal to npm's pid reaches the shell, which dies
 * without passing it on; a closed terminal may take the chain down without any signal to us. So
 * the launcher watches its ancestors up to npm and stops the stack as soon as one is gone.
 */
import { readFileSync } from 'node:fs';

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The parent, and when started by npm (npm_lifecycle_event set) every ancestor up to npm itself. */
export function launchAncestors(startPpid = process.ppid): number[] {
  const chain = [startPpid];
  if (!process.env.npm_lifecycle_event) return chain;
  let pid = startPpid;
  for (let depth = 0; depth < 4 && !/\bnpm\b|npm-cli/.test(commandOf(pid)); depth++) {
    const up = parentOf(pid);
    if (!up || up <= 1) break;
    chain.push(up);
    pid = up;
  }
  return chain;
}

/** Calls `onGone` once when the parent (or an npm ancestor) is gone; returns a stop function. */
export function watchAncestors(onGone: (pid: number) => void, chain = launchAncestors(), everyMs = 500): () => void {
  const watched = chain.filter((p) => p > 1);
  if (watched.length === 0) return () => undefined;
  const timer = setInterval(() => {
    const gone = process.ppid !== watched[0] ? watched[0] : watched.find((p) => !alive(p));
    if (gone !== undefined) {
      clearInterval(timer);
      onGone(gone);
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
