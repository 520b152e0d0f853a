/**
 * Soak test of the long-running live sensor (needs root: live capture on lo). Runs
 * `portsniff live lo` with every fleet output on (metrics scraped every 5 s, IPFIX to a discarding
 * UDP socket, alerts and the flow log to files) while a separate process sends UDP at a steady
 * rate from `--sockets` source ports to `--ports` destination ports on 127.0.0.1, so that flows are
 * created and expire all the time (each 5-tuple comes back every sockets x ports / rate seconds).
 * Samples the sensor's RSS (/proc/PID/status) and its own metrics every `--sample` seconds and
 * prints the curve; at the end, SIGTERM and the summary's totals.
 *
 *   npx tsx bench/soak.ts [--minutes 10] [--rate 2000] [--sockets 8] [--ports 40000]
 *                         [--max-flows 100000] [--sample 10] [--json]
 *
 * Traffic stays on 127.0.0.1; the capture filter keeps only the generated datagrams.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');
const PORT_BASE = 20000;
/** Source ports of the sender's sockets: the capture filter keeps only them (other loopback traffic on a shared machine stays out). */
const SRC_BASE = 61000;

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '2000' },
    sockets: { type: 'string', default: '8' },
    ports: { type: 'string', default: '40000' },
    'max-flows': { type: 'string', default: '100000' },
    sample: { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
  },
});
const minutes = Number(args.minutes);
const rate = Number(args.rate);
const sockets = Number(args.sockets);
const ports = Number(args.ports);
const maxFlows = Number(args['max-flows']);
const sampleSec = Number(args.sample);

/** Steady sender: `rate` datagrams per second, round-robin over sockets x destination ports. */
const SENDER = `
const dgram = require('node:dgram');
const [rate, nsock, nports, base, seconds, srcBase] = process.argv.slice(1).map(Number);
const socks = Array.from({ length: nsock }, () => dgram.createSocket('udp4'));
const buf = Buffer.alloc(64, 0x61);
let sent = 0, i = 0;
const t0 = process.hrtime.bigint();
function tick() {
  const el = Number(process.hrtime.bigint() - t0) / 1e9;
  if (el >= seconds) { process.stdout.write(JSON.stringify({ sent }) + '\\n'); for (const s of socks) s.close(); return; }
  const due = Math.floor(el * rate);
  while (sent < due) {
    const s = i % nsock, p = Math.floor(i / nsock) % nports;
    socks[s].send(buf, base + p, '127.0.0.1');
    i++; sent++;
  }
  setTimeout(tick, 5);
}
let bound = 0;
socks.forEach((s, k) => s.bind(srcBase + k, '127.0.0.1', () => { if (++bound === nsock) tick(); }));
`;

interface Sample {
  t: number;
  rssMB: number;
  heapMB: number;
  /** Memory outside the JS heap (ArrayBuffers, Buffers) as Node reports it. */
  externalMB: number;
  liveFlows: number;
  evicted: number;
  packets: number;
  kernelDrops: number | null;
  engineDrops: number | null;
}

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function metric(text: string, name: string, label?: string): number | null {
  let total: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    if (line[name.length] !== ' ' && line[name.length] !== '{') continue;
    if (label !== undefined && !line.includes(label)) continue;
    total = (total ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/soak.ts captures on lo: run it as root');
  const dir = mkdtempSync(join(tmpdir(), 'portsniff-soak-'));
  const sink = createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  sink.on('message', () => {});
  const ipfixPort = sink.address().port;
  const filter = `udp and src host 127.0.0.1 and src portrange ${SRC_BASE}-${SRC_BASE + sockets - 1} and dst portrange ${PORT_BASE}-${PORT_BASE + ports - 1}`;
  const sensor: ChildProcess = spawn(
    process.execPath,
    [MAIN, 'live', 'lo', '--filter', filter, '--no-progress', '--metrics', '127.0.0.1:0', '--ipfix', `127.0.0.1:${ipfixPort}`,
      '--alerts', join(dir, 'alerts.ndjson'), '--flows', join(dir, 'flows.ndjson'), '--max-flows', String(maxFlows), '--json', '--workers', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  sensor.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  sensor.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<void>((r) => sensor.once('close', () => r()));
  let metricsUrl: string | null = null;
  while (metricsUrl === null || !err.includes('capturing on lo')) {
    metricsUrl = /metrics at (http:\/\/\S+\/metrics)/.exec(err)?.[1] ?? null;
    if (sensor.exitCode !== null) throw new Error(`portsniff exited: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = minutes * 60;
  const sender = spawn(process.execPath, ['-e', SENDER, String(rate), String(sockets), String(ports), String(PORT_BASE), String(seconds), String(SRC_BASE)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let senderOut = '';
  sender.stdout!.setEncoding('utf8').on('data', (s: string) => (senderOut += s));
  const senderDone = new Promise<void>((r) => sender.once('close', () => r()));

  const samples: Sample[] = [];
  const t0 = Date.now();
  const take = async (): Promise<void> => {
    const text = await (await fetch(metricsUrl!)).text();
    samples.push({
      t: Math.round((Date.now() - t0) / 1000),
      rssMB: rssMB(sensor.pid!),
      heapMB: (metric(text, 'nodejs_heap_size_used_bytes') ?? NaN) / 2 ** 20,
      externalMB: (metric(text, 'nodejs_external_memory_bytes') ?? NaN) / 2 ** 20,
      liveFlows: metric(text, 'portsniff_live_flows') ?? 0,
      evicted: metric(text, 'portsniff_flows_evicted_total') ?? 0,
      packets: metric(text, 'portsniff_packets_total') ?? 0,
      kernelDrops: metric(text, 'portsniff_dropped_packets_total', 'stage="kernel"'),
      engineDrops: metric(text, 'portsniff_dropped_packets_total', 'stage="engine"'),
    });
    if (!args.json) {
      const s = samples.at(-1)!;
      process.stderr.write(`t=${s.t}s rss=${s.rssMB.toFixed(1)}MB heap=${s.heapMB.toFixed(1)}MB ext=${s.externalMB.toFixed(1)}MB live=${s.liveFlows} evicted=${s.evicted} packets=${s.packets} kdrop=${s.kernelDrops} edrop=${s.engineDrops}\n`);
    }
  };
  // The sensor's /metrics is scraped every 5 s like a Prometheus would; every `sample` s is recorded.
  let lastSample = -Infinity;
  while (Date.now() - t0 < seconds * 1000) {
    if (Date.now() - lastSample >= sampleSec * 1000) {
      lastSample = Date.now();
      await take();
    } else {
      await fetch(metricsUrl).then((r) => r.text());
    }
    await new Promise((r) => setTimeout(r, 5000 - ((Date.now() - t0) % 5000)));
  }
  await senderDone;
  await take();
  sensor.kill('SIGTERM');
  await exited;
  sink.close();
  const summary = JSON.parse(out) as { totals: { packets: number; flows: number; evictedFlows: number }; source: { live?: unknown } };
  const sent = (JSON.parse(senderOut) as { sent: number }).sent;
  const flowLogMB = statSync(join(dir, 'flows.ndjson')).size / 2 ** 20;
  const report = { minutes, rate, sockets, ports, maxFlows, sent, totals: summary.totals, live: summary.source.live, flowLogMB, samples };
  rmSync(dir, { recursive: true, force: true });
  if (args.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  const first = samples.find((s) => s.t >= 60) ?? samples[0]!;
  const last = samples.at(-1)!;
  process.stdout.write(
    [
      `soak: ${minutes} min at ${rate} datagrams/s, ${sockets} x ${ports} 5-tuples, --max-flows ${maxFlows}`,
      `sent ${sent}, captured ${summary.totals.packets}, flows ${summary.totals.flows}, evicted ${summary.totals.evictedFlows}, flow log ${flowLogMB.toFixed(0)} MB`,
      `RSS ${first.rssMB.toFixed(1)} MB at ${first.t} s -> ${last.rssMB.toFixed(1)} MB at ${last.t} s (max ${Math.max(...samples.map((s) => s.rssMB)).toFixed(1)} MB)`,
      '',
      't(s)   RSS(MB)  heap(MB)  ext(MB)  live flows  evicted    packets',
      ...samples.map((s) => `${String(s.t).padStart(4)}  ${s.rssMB.toFixed(1).padStart(8)}  ${s.heapMB.toFixed(1).padStart(8)}  ${s.externalMB.toFixed(1).padStart(7)}  ${String(s.liveFlows).padStart(10)}  ${String(s.evicted).padStart(7)}  ${String(s.packets).padStart(9)}`),
    ].join('\n') + '\n',
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`soak: ${(e as Error).message}\n`);
  process.exit(1);
});
