/**
 * The proxy benchmark (`npm run bench:proxy`): `portsniff proxy` against direct connections and
 * socat, all in one run, paired round by round (round 1 of every target, then round 2, ...), so
 * drifts in machine load hit every target alike.
 *
 *   npm run bench:proxy                          # 3 rounds, 200k requests per redis-benchmark test
 *   npm run bench:proxy -- --rounds 5 --requests 400000 --bulk-mib 2048
 *   npm run bench:proxy -- --json                # also the raw figures as JSON
 *
 * Targets: `direct` (redis-server itself), `portsniff` (the built CLI, shipped rules: every
 * connection classified), `portsniff --no-rules` (relay only), `socat` (TCP-LISTEN,fork; skipped
 * with a note when not installed: `apt-get install socat`, needed for the benchmark only).
 * redis-server listens on a free port of Redis Enterprise's documented database range, so the
 * classifying proxy verifies RESP on every connection, as in production.
 *
 * Per target and round:
 *   - `redis-benchmark -t set,get -c 50 -n N` and the same with `-P 16` (pipelined): requests/s;
 *   - `redis-benchmark -t get -c 1 -n M`: p50 latency (the added latency of the relay);
 *   - bulk: one TCP connection carrying B MiB from a source process through the target to a sink
 *     process, throughput measured by the sink from its first to its last byte;
 *   - the relay's CPU time (user + system from /proc/PID/stat, children included, so socat's
 *     per-connection processes count) during each test: CPU per 100k requests, per GiB.
 * Medians over the rounds. Client, server and relay share the machine's cores: compare ratios
 * within one run, never figures across runs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gitCommit, median, REPO, which } from './run.js';

export interface ProxyBenchOptions {
  rounds: number;
  /** Requests per redis-benchmark test at 50 connections (each of SET and GET). */
  requests: number;
  /** Requests of the one-connection latency test. */
  latencyRequests: number;
  bulkMiB: number;
  cli: string;
  socat: boolean;
  log: (line: string) => void;
}

export interface TargetFigures {
  target: string;
  /** Requests/s, medians: SET and GET at 50 connections, and pipelined (-P 16). */
  setRps: number;
  getRps: number;
  setRpsPipelined: number;
  getRpsPipelined: number;
  /** GET p50 at one connection, ms. */
  p50Ms: number;
  /** Bulk throughput, MiB/s. */
  bulkMiBps: number;
  /** Relay CPU seconds per 100k requests (50 connections, not pipelined; and pipelined). */
  cpuPer100k: number | null;
  cpuPer100kPipelined: number | null;
  /** Relay CPU seconds per GiB of bulk transfer. */
  cpuPerGiB: number | null;
}

export interface ProxyBenchResult {
  rounds: number;
  requests: number;
  bulkMiB: number;
  figures: TargetFigures[];
  notes: string[];
  machine: { cores: number; cpu: string; node: string; redis: string; socat: string | null; commit: string; loadBefore: string; loadAfter: string };
}

const CLK_TCK = 100;

/** CPU seconds of a process and its waited-for children (utime + stime + cutime + cstime). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLK_TCK;
}

async function freePort(accept: (p: number) => boolean = () => true, lo = 20000, hi = 60000): Promise<number> {
  for (let i = 0; i < 500; i++) {
    const port = lo + Math.floor(Math.random() * (hi - lo));
    if (!accept(port)) continue;
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`no free port in ${lo}-${hi}`);
}

async function waitForTcp(port: number, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Target {
  name: string;
  port: number;
  /** The relay process (null for direct). */
  proc: ChildProcess | null;
}

async function startPortsniff(cli: string, upstream: number, extra: string[]): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [cli, 'proxy', '--map', `0=127.0.0.1:${upstream}`, '--json', '--top', '0', '--no-progress', '--max-connections', '1000', ...extra], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    proc.stderr!.on('data', (s: string) => {
      err += s;
      const m = /proxy tcp 127\.0\.0\.1:(\d+) ->/.exec(err);
      if (m && /relaying/.test(err)) resolve({ port: Number(m[1]), proc });
    });
    proc.once('exit', (code) => reject(new Error(`portsniff proxy exited ${code}: ${err}`)));
  });
}

/** redis-benchmark --csv: rows of test, rps, avg, min, p50, p95, p99, max. */
function redisBenchmark(port: number, args: string[]): Map<string, { rps: number; p50: number }> {
  const r = spawnSync('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '--csv', ...args], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`redis-benchmark ${args.join(' ')} on ${port} failed: ${r.stderr}`);
  const out = new Map<string, { rps: number; p50: number }>();
  for (const line of r.stdout.split('\n')) {
    const cells = line.split(',').map((c) => c.replace(/"/g, ''));
    if (cells.length < 5 || cells[0] === 'test') continue;
    out.set(cells[0]!, { rps: Number(cells[1]), p50: Number(cells[4]) });
  }
  return out;
}

const SINK = `
const net = require('net');
const want = Number(process.argv[1]);
const s = net.createServer((c) => {
  let n = 0, t0 = 0;
  c.on('data', (d) => {
    if (n === 0) t0 = performance.now();
    n += d.length;
    if (n >= want) { process.stdout.write(JSON.stringify({ bytes: n, ms: performance.now() - t0 }) + '\\n'); c.destroy(); s.close(); }
  });
});
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));`;

const SOURCE = `
const net = require('net');
const [port, total] = process.argv.slice(1).map(Number);
const buf = Buffer.alloc(1 << 20, 0x5a);
const c = net.connect(port, '127.0.0.1', () => {
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      sent += buf.length;
      if (!c.write(buf)) return c.once('drain', pump);
    }
    c.end();
  };
  pump();
});
c.on('error', () => {});`;

/** The sink, listening; resolves with its port and a promise of {bytes, ms}. */
async function startSink(bytes: number): Promise<{ port: number; done: Promise<{ bytes: number; ms: number }>; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['-e', SINK, String(bytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.setEncoding('utf8');
  let resolveDone: (v: { bytes: number; ms: number }) => void = () => {};
  const done = new Promise<{ bytes: number; ms: number }>((r) => (resolveDone = r));
  const port = await new Promise<number>((resolve) => {
    proc.stdout!.on('data', (s: string) => {
      out += s;
      const lines = out.split('\n');
      if (lines.length > 1 && !out.startsWith('{')) resolve(Number(lines[0]));
      const j = lines.find((l) => l.startsWith('{'));
      if (j !== undefined) resolveDone(JSON.parse(j) as { bytes: number; ms: number });
    });
  });
  return { port, done, proc };
}

/** One bulk transfer of `bytes` through `via(sinkPort)` (a relay to the sink, or the sink itself). */
async function bulk(bytes: number, relayTo: (sinkPort: number) => Promise<{ port: number; stop: () => void }>): Promise<{ mibps: number }> {
  const sink = await startSink(bytes);
  const relay = await relayTo(sink.port);
  const source = spawn(process.execPath, ['-e', SOURCE, String(relay.port), String(bytes)], { stdio: 'ignore' });
  const r = await sink.done;
  source.kill();
  relay.stop();
  sink.proc.kill();
  return { mibps: r.bytes / (1 << 20) / (r.ms / 1000) };
}

export async function runProxyBench(o: ProxyBenchOptions): Promise<ProxyBenchResult> {
  const notes: string[] = [];
  for (const tool of ['redis-server', 'redis-benchmark']) {
    if (which(tool) === null) throw new Error(`${tool} is not installed (apt-get install redis-server redis-tools)`);
  }
  const socatPath = o.socat ? which('socat') : null;
  if (o.socat && socatPath === null) notes.push('socat is not installed (apt-get install socat): its rows are missing');
  const loadBefore = loadavg().map((x) => x.toFixed(2)).join(' ');
  // A free port where only Redis Enterprise's database-endpoints rule applies (10000-19999, not
  // 10070-10079 and friends): the classifying proxy verifies RESP there.
  const redisPort = await freePort((p) => p < 10070 || (p > 10110 && p < 18000), 10000, 20000);
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const children: ChildProcess[] = [redis];
  try {
    await waitForTcp(redisPort);
    const targets: Target[] = [{ name: 'direct', port: redisPort, proc: null }];
    const on = await startPortsniff(o.cli, redisPort, []);
    const off = await startPortsniff(o.cli, redisPort, ['--no-rules']);
    children.push(on.proc, off.proc);
    targets.push({ name: 'portsniff', port: on.port, proc: on.proc }, { name: 'portsniff --no-rules', port: off.port, proc: off.proc });
    if (socatPath !== null) {
      const port = await freePort();
      const proc = spawn(socatPath, [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `TCP:127.0.0.1:${redisPort}`], { stdio: 'ignore' });
      children.push(proc);
      await waitForTcp(port);
      targets.push({ name: 'socat', port, proc });
    }
    type Round = { set: number; get: number; setP: number; getP: number; p50: number; mibps: number; cpu: number | null; cpuP: number | null; cpuBulk: number | null };
    const rounds = new Map<string, Round[]>(targets.map((t) => [t.name, []]));
    const bulkBytes = o.bulkMiB * (1 << 20);
    for (let round = 1; round <= o.rounds; round++) {
      for (const t of targets) {
        o.log(`round ${round}/${o.rounds}: ${t.name}`);
        const cpu = (): number => (t.proc !== null ? cpuSeconds(t.proc.pid!) : 0);
        let c0 = cpu();
        const plain = redisBenchmark(t.port, ['-t', 'set,get', '-c', '50', '-n', String(o.requests)]);
        const cpuPlain = cpu() - c0;
        c0 = cpu();
        const piped = redisBenchmark(t.port, ['-t', 'set,get', '-c', '50', '-n', String(o.requests * 4), '-P', '16']);
        const cpuPiped = cpu() - c0;
        const lat = redisBenchmark(t.port, ['-t', 'get', '-c', '1', '-n', String(o.latencyRequests)]);
        // Bulk: a fresh relay of the same kind in front of the sink (direct: the sink itself).
        let cpuBulk: number | null = null;
        const b = await bulk(bulkBytes, async (sinkPort) => {
          if (t.name === 'direct') return { port: sinkPort, stop: () => {} };
          if (t.name === 'socat') {
            const port = await freePort();
            const proc = spawn(socatPath!, [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, `TCP:127.0.0.1:${sinkPort}`], { stdio: 'ignore' });
            await waitForTcpOnce(port);
            const start = cpuSeconds(proc.pid!);
            return {
              port,
              stop: () => {
                cpuBulk = readCpuOrNull(proc.pid!, start);
                proc.kill();
              },
            };
          }
          const r = await startPortsniff(o.cli, sinkPort, t.name === 'portsniff' ? [] : ['--no-rules']);
          const start = cpuSeconds(r.proc.pid!);
          return {
            port: r.port,
            stop: () => {
              cpuBulk = readCpuOrNull(r.proc.pid!, start);
              r.proc.kill();
            },
          };
        });
        const nPlain = 2 * o.requests;
        const nPiped = 2 * o.requests * 4;
        rounds.get(t.name)!.push({
          set: plain.get('SET')?.rps ?? NaN,
          get: plain.get('GET')?.rps ?? NaN,
          setP: piped.get('SET')?.rps ?? NaN,
          getP: piped.get('GET')?.rps ?? NaN,
          p50: lat.get('GET')?.p50 ?? NaN,
          mibps: b.mibps,
          cpu: t.proc === null ? null : (cpuPlain / nPlain) * 1e5,
          cpuP: t.proc === null ? null : (cpuPiped / nPiped) * 1e5,
          cpuBulk: cpuBulk === null ? null : (cpuBulk as number) / (o.bulkMiB / 1024),
        });
      }
    }
    const med = (xs: Array<number | null>): number | null => (xs.some((x) => x === null) ? null : median(xs as number[]));
    const figures: TargetFigures[] = targets.map((t) => {
      const r = rounds.get(t.name)!;
      return {
        target: t.name,
        setRps: median(r.map((x) => x.set)),
        getRps: median(r.map((x) => x.get)),
        setRpsPipelined: median(r.map((x) => x.setP)),
        getRpsPipelined: median(r.map((x) => x.getP)),
        p50Ms: median(r.map((x) => x.p50)),
        bulkMiBps: median(r.map((x) => x.mibps)),
        cpuPer100k: med(r.map((x) => x.cpu)),
        cpuPer100kPipelined: med(r.map((x) => x.cpuP)),
        cpuPerGiB: med(r.map((x) => x.cpuBulk)),
      };
    });
    notes.push('bulk: one connection, source -> target -> sink, 1 MiB writes; the sink times its first to last byte');
    notes.push('CPU: the relay process only (user + system, children included for socat fork); 10 ms resolution');
    const redisVersion = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ')[2] ?? '?';
    const socatVersion = socatPath ? (/socat version (\S+)/.exec(spawnSync(socatPath, ['-V'], { encoding: 'utf8' }).stdout)?.[1] ?? '?') : null;
    return {
      rounds: o.rounds,
      requests: o.requests,
      bulkMiB: o.bulkMiB,
      figures,
      notes,
      machine: {
        cores: cpus().length,
        cpu: cpus()[0]?.model ?? '?',
        node: process.version,
        redis: redisVersion,
        socat: socatVersion,
        commit: gitCommit(),
        loadBefore,
        loadAfter: loadavg().map((x) => x.toFixed(2)).join(' '),
      },
    };
  } finally {
    for (const c of children) c.kill();
  }
}

function readCpuOrNull(pid: number, start: number): number | null {
  try {
    return cpuSeconds(pid) - start;
  } catch {
    return null;
  }
}

async function waitForTcpOnce(port: number): Promise<void> {
  // socat without fork serves one connection: wait for the listening socket without connecting.
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    const r = spawnSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' });
    if (r.status !== 0) break;
    if (r.stdout.trim() !== '') return;
    await new Promise((res) => setTimeout(res, 20));
  }
  await new Promise((res) => setTimeout(res, 200));
}

function f(x: number | null, digits: number): string {
  return x === null || Number.isNaN(x) ? '-' : x.toFixed(digits);
}

export function formatProxyTable(r: ProxyBenchResult): string {
  const direct = r.figures.find((x) => x.target === 'direct')!;
  const socat = r.figures.find((x) => x.target === 'socat') ?? null;
  const header = ['target', 'SET/s', 'GET/s', 'vs direct', 'SET/s -P16', 'GET/s -P16', 'vs direct', 'p50 1 conn', 'added p50', 'bulk MiB/s', 'vs socat', 'CPU s/100k req', 'CPU s/100k -P16', 'CPU s/GiB'];
  const rows = r.figures.map((x) => [
    x.target,
    f(x.setRps, 0),
    f(x.getRps, 0),
    f((x.setRps + x.getRps) / (direct.setRps + direct.getRps), 2),
    f(x.setRpsPipelined, 0),
    f(x.getRpsPipelined, 0),
    f((x.setRpsPipelined + x.getRpsPipelined) / (direct.setRpsPipelined + direct.getRpsPipelined), 2),
    `${f(x.p50Ms, 3)} ms`,
    x.target === 'direct' ? '-' : `+${f(x.p50Ms - direct.p50Ms, 3)} ms`,
    f(x.bulkMiBps, 0),
    socat !== null ? f(x.bulkMiBps / socat.bulkMiBps, 2) : '-',
    f(x.cpuPer100k, 2),
    f(x.cpuPer100kPipelined, 3),
    f(x.cpuPerGiB, 2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i === 0 ? ':' : '') + '-'.repeat(w + 1) + (i === 0 ? '' : ':')).join('|')}|`, ...rows.map(line)].join('\n');
}

export function parseProxyBenchArgs(argv: string[]): ProxyBenchOptions & { json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string' },
      requests: { type: 'string' },
      'latency-requests': { type: 'string' },
      'bulk-mib': { type: 'string' },
      cli: { type: 'string' },
      'no-socat': { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const int = (v: string | undefined, name: string, dflt: number): number => {
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`--${name} must be a positive whole number, got '${v}'`);
    return Number(v);
  };
  return {
    rounds: int(values.rounds, 'rounds', 3),
    requests: int(values.requests, 'requests', 200_000),
    latencyRequests: int(values['latency-requests'], 'latency-requests', 20_000),
    bulkMiB: int(values['bulk-mib'], 'bulk-mib', 1024),
    cli: values.cli ?? join(REPO, 'dist/cli/main.js'),
    socat: values['no-socat'] !== true,
    json: values.json === true,
    log: (line) => process.stderr.write(`bench:proxy: ${line}\n`),
  };
}

async function main(): Promise<void> {
  const o = parseProxyBenchArgs(process.argv.slice(2));
  const r = await runProxyBench(o);
  const m = r.machine;
  process.stdout.write(
    [
      `portsniff proxy benchmark: ${r.rounds} rounds (medians), ${r.requests} requests per redis-benchmark test (-P 16: ${r.requests * 4}), bulk ${r.bulkMiB} MiB`,
      `machine: ${m.cores} cores, ${m.cpu}, node ${m.node}, redis ${m.redis}, socat ${m.socat ?? 'not installed'}, commit ${m.commit}, load ${m.loadBefore} -> ${m.loadAfter}`,
      '',
      formatProxyTable(r),
      '',
      ...r.notes.map((n) => `note: ${n}`),
      '',
    ].join('\n'),
  );
  if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
}

if (process.argv[1] !== undefined && /bench\/proxy\.ts$/.test(process.argv[1])) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench:proxy: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
