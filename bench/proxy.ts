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
import { freePortIn } from '../test/proxy/cli-helpers.js';
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
  /** Bulk throughput, MiB/s: client to server (up) and server to client (down). */
  bulkMiBps: number;
  bulkDownMiBps: number;
  /** Relay CPU seconds per 100k requests (50 connections, not pipelined; and pipelined). */
  cpuPer100k: number | null;
  cpuPer100kPipelined: number | null;
  /** Relay CPU seconds per GiB of bulk transfer (mean of the two directions). */
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

/** A free TCP port on 127.0.0.1 (20000-60000 unless a range is given). */
function freePort(accept: (p: number) => boolean = () => true, lo = 20000, hi = 60000): Promise<number> {
  return freePortIn(lo, hi, accept);
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

/** Upload: the source connects and sends, the sink (the server side) counts. */
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

/** Download: the server side sends as soon as a client connects; the client counts. */
const SERVER_SOURCE = `
const net = require('net');
const total = Number(process.argv[1]);
const buf = Buffer.alloc(1 << 20, 0x5a);
const s = net.createServer((c) => {
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      sent += buf.length;
      if (!c.write(buf)) return c.once('drain', pump);
    }
    c.end();
  };
  c.on('error', () => {});
  pump();
});
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));`;

const CLIENT_SINK = `
const net = require('net');
const [port, want] = process.argv.slice(1).map(Number);
let n = 0, t0 = 0;
const c = net.connect(port, '127.0.0.1');
c.on('data', (d) => {
  if (n === 0) t0 = performance.now();
  n += d.length;
  if (n >= want) { process.stdout.write(JSON.stringify({ bytes: n, ms: performance.now() - t0 }) + '\\n'); c.destroy(); }
});
c.on('error', () => {});`;

/** The listening side (sink for upload, source for download); resolves with its port and, for upload, a promise of {bytes, ms}. */
async function startSink(bytes: number, script = SINK): Promise<{ port: number; report: () => Promise<{ bytes: number; ms: number }>; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['-e', script, String(bytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = linesOf(proc);
  const port = Number(await lines.next());
  return { port, report: async () => JSON.parse(await lines.next()) as { bytes: number; ms: number }, proc };
}

/** Successive stdout lines of a child; rejects when it exits before writing the next one. */
function linesOf(proc: ChildProcess): { next: () => Promise<string> } {
  const queue: string[] = [];
  const waiting: Array<{ resolve: (l: string) => void; reject: (e: Error) => void }> = [];
  let buf = '';
  let exited: Error | null = null;
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (s: string) => {
    buf += s;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiting.shift();
      if (w) w.resolve(line);
      else queue.push(line);
    }
  });
  proc.once('exit', (code) => {
    exited = new Error(`a bulk helper exited with code ${code} before reporting`);
    for (const w of waiting.splice(0)) w.reject(exited);
  });
  return {
    next: () =>
      new Promise<string>((resolve, reject) => {
        const l = queue.shift();
        if (l !== undefined) resolve(l);
        else if (exited !== null) reject(exited);
        else waiting.push({ resolve, reject });
      }),
  };
}

/**
 * One bulk transfer of `bytes` through `relayTo(serverPort)` (a relay to the server side, or the
 * server itself): `up` from the connecting side to the server, `down` from the server to it.
 */
async function bulk(bytes: number, direction: 'up' | 'down', relayTo: (serverPort: number) => Promise<{ port: number; stop: () => void }>): Promise<{ mibps: number }> {
  const server = await startSink(bytes, direction === 'up' ? SINK : SERVER_SOURCE);
  const relay = await relayTo(server.port);
  let r: { bytes: number; ms: number };
  if (direction === 'up') {
    const source = spawn(process.execPath, ['-e', SOURCE, String(relay.port), String(bytes)], { stdio: 'ignore' });
    r = await server.report();
    source.kill();
  } else {
    const client = spawn(process.execPath, ['-e', CLIENT_SINK, String(relay.port), String(bytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
    r = JSON.parse(await linesOf(client).next()) as { bytes: number; ms: number };
    client.kill();
  }
  relay.stop();
  server.proc.kill();
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
    type Round = { set: number; get: number; setP: number; getP: number; p50: number; mibps: number; mibpsDown: number; cpu: number | null; cpuP: number | null; cpuBulk: number | null };
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
        // Bulk, both directions: a fresh relay of the same kind in front of the server side.
        const up = await bulkThrough(o, t.name, socatPath, bulkBytes, 'up');
        const down = await bulkThrough(o, t.name, socatPath, bulkBytes, 'down');
        const nPlain = 2 * o.requests;
        const nPiped = 2 * o.requests * 4;
        rounds.get(t.name)!.push({
          set: plain.get('SET')?.rps ?? NaN,
          get: plain.get('GET')?.rps ?? NaN,
          setP: piped.get('SET')?.rps ?? NaN,
          getP: piped.get('GET')?.rps ?? NaN,
          p50: lat.get('GET')?.p50 ?? NaN,
          mibps: up.mibps,
          mibpsDown: down.mibps,
          cpu: t.proc === null ? null : (cpuPlain / nPlain) * 1e5,
          cpuP: t.proc === null ? null : (cpuPiped / nPiped) * 1e5,
          cpuBulk: up.cpu === null || down.cpu === null ? null : (up.cpu + down.cpu) / 2 / (o.bulkMiB / 1024),
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
        bulkDownMiBps: median(r.map((x) => x.mibpsDown)),
        cpuPer100k: med(r.map((x) => x.cpu)),
        cpuPer100kPipelined: med(r.map((x) => x.cpuP)),
        cpuPerGiB: med(r.map((x) => x.cpuBulk)),
      };
    });
    notes.push('bulk: one connection per direction, 1 MiB writes, timed by the receiver from its first to its last byte; "vs socat" compares the sum of both directions');
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

/** One bulk transfer through a fresh relay of the target's kind; the relay's CPU seconds for it. */
async function bulkThrough(o: ProxyBenchOptions, target: string, socatPath: string | null, bytes: number, direction: 'up' | 'down'): Promise<{ mibps: number; cpu: number | null }> {
  let cpu: number | null = null;
  const r = await bulk(bytes, direction, async (serverPort) => {
    if (target === 'direct') return { port: serverPort, stop: () => {} };
    let proc: ChildProcess;
    let port: number;
    if (target === 'socat') {
      port = await freePort();
      proc = spawn(socatPath!, [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, `TCP:127.0.0.1:${serverPort}`], { stdio: 'ignore' });
      await waitForTcpOnce(port);
    } else {
      ({ port, proc } = await startPortsniff(o.cli, serverPort, target === 'portsniff' ? [] : ['--no-rules']));
    }
    const start = cpuSeconds(proc.pid!);
    return {
      port,
      stop: () => {
        cpu = readCpuOrNull(proc.pid!, start);
        proc.kill();
      },
    };
  });
  return { mibps: r.mibps, cpu };
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
  const header = ['target', 'SET/s', 'GET/s', 'vs direct', 'SET/s -P16', 'GET/s -P16', 'vs direct', 'p50 1 conn', 'added p50', 'bulk up MiB/s', 'bulk down MiB/s', 'vs socat', 'CPU s/100k req', 'CPU s/100k -P16', 'CPU s/GiB'];
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
    f(x.bulkDownMiBps, 0),
    socat !== null ? f((x.bulkMiBps + x.bulkDownMiBps) / (socat.bulkMiBps + socat.bulkDownMiBps), 2) : '-',
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
