/**
 * Local load driver. Starts a multi-replica stack (or targets --url), runs N concurrent
 * connections for a bounded time, follows every accepted job to its end, and reports transport
 * errors, status counts, lost jobs, latencies, throughput, peak RSS and descriptors per process.
 *
 *   node --import tsx loadtest/src/drive.ts --connections 500 --duration 30 --detectors 2
 *   node --import tsx loadtest/src/drive.ts --connections 2000 --duration 30 --gateway-nofile 1024
 *   node --import tsx loadtest/src/drive.ts --url http://127.0.0.1:8080 --connections 200
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatLoad, runLoad } from './load.js';
import { formatProcesses, formatRssSeries, Monitor } from './monitor.js';
import { launchStack, type LoadStack } from './stack.js';
import { tcpCounters } from './stats.js';

const { values: a } = parseArgs({
  options: {
    url: { type: 'string' },
    connections: { type: 'string', default: '500' },
    duration: { type: 'string', default: '30' },
    ramp: { type: 'string', default: '0' },
    mode: { type: 'string', default: 'verdict' },
    wait: { type: 'string', default: '25' },
    think: { type: 'string', default: '0' },
    drain: { type: 'string', default: '120' },
    detectors: { type: 'string', default: '2' },
    classifiers: { type: 'string', default: '1' },
    'gateway-nofile': { type: 'string' },
    'gateway-env': { type: 'string', multiple: true, default: [] },
    'detector-env': { type: 'string', multiple: true, default: [] },
    tiny: { type: 'boolean', default: false },
    'api-key': { type: 'string' },
    json: { type: 'string' },
  },
});
const kv = (list: string[]) => Object.fromEntries(list.map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]));
const log = (l: string) => console.log(l);

let stack: LoadStack | undefined;
if (!a.url) {
  stack = await launchStack({
    detectors: Number(a.detectors),
    classifiers: Number(a.classifiers),
    tiny: a.tiny || undefined,
    gatewayNofile: a['gateway-nofile'] ? Number(a['gateway-nofile']) : undefined,
    gatewayEnv: kv(a['gateway-env']!),
    detectorEnv: kv(a['detector-env']!),
    log,
  });
}
const stopStack = async () => stack?.stop();
process.once('SIGINT', () => void stopStack().then(() => process.exit(130)));
const monitor = stack ? new Monitor(stack.services).start() : undefined;
let code = 0;
try {
  const url = a.url ?? stack!.url;
  log(`[load] ${a.connections} connections for ${a.duration} s against ${url} (mode ${a.mode}${a['gateway-nofile'] ? `, gateway ulimit -n ${a['gateway-nofile']}` : ''})`);
  const tcp0 = tcpCounters();
  const report = await runLoad({
    url,
    connections: Number(a.connections),
    durationS: Number(a.duration),
    rampS: Number(a.ramp),
    mode: a.mode === 'submit' ? 'submit' : 'verdict',
    waitS: Number(a.wait),
    thinkMs: Number(a.think),
    drainS: Number(a.drain),
    apiKey: a['api-key'],
    log,
  });
  const procs = monitor?.stop() ?? [];
  console.log(`\n== load: ${a.connections} connections ==\n${formatLoad(report)}`);
  const tcp1 = tcpCounters();
  console.log(`  kernel TCP   ${Object.keys(tcp1).map((k) => `${k} +${(tcp1[k] ?? 0) - (tcp0[k] ?? 0)}`).join(', ')} (whole host)`);
  const cpu = process.cpuUsage();
  console.log(`  load driver  CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  if (procs.length) console.log(`  processes\n${formatProcesses(procs)}\n  RSS over time\n${formatRssSeries(procs)}`);
  const dead = procs.filter((p) => !p.alive).map((p) => p.name);
  if (dead.length) console.log(`  DEAD processes: ${dead.join(', ')}`);
  if (a.json) writeFileSync(a.json, JSON.stringify({ report, processes: procs }, null, 2));
  const gw = stack?.services.find((s) => s.kind === 'gateway');
  const shedLines = gw ? gw.proc.output.split('\n').filter((l) => l.includes('connection limit reached')) : [];
  if (shedLines.length) console.log(`  gateway shed log (last): ${shedLines.at(-1)!.slice(0, 300)}`);
  if (gw && /EMFILE|ENFILE/.test(gw.proc.output)) console.log(`  gateway log mentions EMFILE:\n${gw.proc.output.split('\n').filter((l) => /EMFILE|ENFILE/.test(l)).slice(0, 3).join('\n')}`);
  code = report.transportErrorCount || report.serverErrors || report.lost || dead.length ? 1 : 0;
} finally {
  await stopStack();
}
process.exit(code);
