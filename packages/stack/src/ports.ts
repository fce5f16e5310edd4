/** Busy-port checks that name the port and the process holding it (Linux /proc; others: no name). */
import { createServer } from 'node:net';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export interface PortHolder {
  pid: number;
  command: string;
}

/** Can `host:port` be listened on right now? */
export function portFree(port: number, host = '0.0.0.0'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue; // 0A = LISTEN
      const local = f[1]!;
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) inodes.add(f[9]!);
    }
  }
  return inodes;
}

/** The process listening on `port`, when this machine lets us see it. */
export function portHolder(port: number): PortHolder | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1]!)) {
        let command = '';
        try {
          command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
        } catch {}
        return { pid: Number(pid), command };
      }
    }
  }
  return undefined;
}

export class PortBusyError extends Error {
  override name = 'PortBusyError';
  constructor(readonly busy: Array<{ port: number; what: string; holder?: PortHolder }>) {
    super(
      busy
        .map(({ port, what, holder }) =>
          holder
            ? `port ${port} (${what}) is already in use by pid ${holder.pid}: ${holder.command || '(command unknown)'}`
            : `port ${port} (${what}) is already in use by another process`,
        )
        .join('\n') +
        '\nStop that process (an earlier `npm start` still running?) or choose other ports (--port, --base-port).',
    );
  }
}

/** Throws PortBusyError naming every busy port and its holder. */
export async function assertPortsFree(ports: Array<{ port: number; what: string }>): Promise<void> {
  const busy: PortBusyError['busy'] = [];
  for (const p of ports) if (!(await portFree(p.port))) busy.push({ ...p, holder: portHolder(p.port) });
  if (busy.length) throw new PortBusyError(busy);
}
