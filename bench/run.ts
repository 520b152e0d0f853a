/**
 * The benchmark suite (`npm run bench`): portsniff replay against tcpdump, ndpiReader and tshark on
 * the SAME generated capture in the SAME run, several runs each, medians reported.
 *
 *   npm run bench                                  # 5M small packets / 50k flows, 3 runs
 *   npm run bench -- --runs 5 --workers 0,1,2,4
 *   npm run bench -- --file /data/big.pcap         # measure an existing capture instead
 *   npm run bench -- --packets 1000000 --flows 1000000 --size mixed --tools portsniff,tcpdump
 *   npm run bench -- --record                      # also rewrite the figures in bench/README.md
 *
 * Options: --file PATH | (--packets N --flows N --size small|mixed|large --seed N) · --runs N
 * (default 3) · --workers LIST (default 0,1,2) · --tools LIST (default all: portsniff, no-rules
 * (`replay --no-rules --workers 0`), flow-log (`replay --flows /dev/null --workers 0`: one JSON line
 * per flow), metrics (`--metrics 127.0.0.1:0`: per-service counters of every flow record), ipfix
 * (`--ipfix` to a UDP socket this process holds and never reads: two IPFIX records per flow, each
 * message sent), tcpdump (`-w /dev/null`), tcpdump-filter (a BPF filter that
 * matches nothing: libpcap's read loop), ndpiReader, tshark, cat) · --cli PATH (portsniff entry, default dist/cli/main.js) · --keep (keep
 * the generated file) · --json (print the results as JSON after the table) · --note TEXT (added to the
 * report's notes; repeatable) · --record.
 *
 * What is measured, for each command: wall time (spawn to exit), packets/s and MB/s (file packets
 * and file bytes over the wall time) and peak RSS (GNU time's "Maximum resident set size" when
 * /usr/bin/time exists, else the child's VmHWM polled from /proc every 10 ms). Runs go round-robin
 * over the commands (run 1 of every command, then run 2, ...), each run preceded by an untimed read
 * that puts the file in the page cache, so every command reads from memory and drifts in machine
 * load are shared.
 * Missing tools are skipped with a note; a command that fails is reported as failed, not timed.
 *
 * Nothing is written into the repository unless --record is given.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, openSync, closeSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { delimiter, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_GEN, describeGen, generateCapture, type GenResult, type PacketSizeProfile } from './gen-capture.js';

export const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const README_PATH = join(REPO, 'bench', 'README.md');
export const FIGURES_START = '<!-- bench:figures:start -->';
export const FIGURES_END = '<!-- bench:figures:end -->';

export const ALL_TOOLS = ['portsniff', 'no-rules', 'flow-log', 'metrics', 'ipfix', 'tcpdump', 'tcpdump-filter', 'ndpiReader', 'tshark', 'cat'] as const;
export type ToolName = (typeof ALL_TOOLS)[number];

export interface SuiteOptions {
  file?: string;
  packets: number;
  flows: number;
  size: PacketSizeProfile;
  seed: number;
  runs: number;
  workers: number[];
  tools: ToolName[];
  cli: string;
  keep: boolean;
  /** Extra notes for the report (e.g. what else ran on the machine). */
  extraNotes?: string[];
  /** Finds an external tool on PATH (injected by tests; default which()). */
  findTool?: (cmd: string) => string | null;
  /** Progress lines (stderr by default). */
  log?: (line: string) => void;
  /** Puts the file in the page cache before each timed run (injected by tests; default reads it). */
  warm?: (file: string) => void;
}

export interface Measurement {
  wall: number;
  /**
   * CPU time of the command (user + system, all its threads and children, seconds) from GNU time;
   * null without it. On a machine with few cores this shows what wall time hides: extra threads
   * only pay when the CPU they add fits on idle cores.
   */
  cpu: number | null;
  /** Peak RSS in bytes, or null when it could not be read. */
  rss: number | null;
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Row {
  /**
   * Stable row id: portsniff-w0, portsniff-w1, portsniff, portsniff-no-rules, tcpdump, tcpdump-filter,
   * ndpiReader, tshark, cat.
   */
  id: string;
  label: string;
  /** The command as a shell line (the file shown as F). */
  command: string;
  runs: Measurement[];
  /** Set when the command failed in any run (then no figures). */
  failed: string | null;
  wall: number | null;
  /** Median CPU time (user + system), or null when GNU time is missing. */
  cpu: number | null;
  rss: number | null;
  pps: number | null;
  mbps: number | null;
  /** wall / wall(reference portsniff row), wall / wall(tcpdump -w), wall / wall(tcpdump filter), wall / wall(ndpiReader). */
  vsPortsniff: number | null;
  vsTcpdump: number | null;
  vsTcpdumpFilter: number | null;
  vsNdpi: number | null;
  /** Anything the command said about its own work (portsniff: flows and packets from --json). */
  detail: string | null;
}

export interface SuiteResult {
  file: string;
  fileBytes: number;
  packets: number;
  generated: GenResult | null;
  runs: number;
  rows: Row[];
  /** Row id the first ratio column divides by. */
  reference: string | null;
  notes: string[];
  rssMethod: 'gnu-time' | 'proc-vmhwm';
  machine: MachineInfo;
}

export interface MachineInfo {
  cores: number;
  cpu: string;
  memGb: number;
  node: string;
  tools: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Helpers

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Absolute path of an executable on PATH, or null. */
export function which(cmd: string): string | null {
  if (cmd.includes('/')) return existsSync(cmd) ? cmd : null;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

function readVmHwm(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** User + system seconds from a `/usr/bin/time -v` report, or null when either line is missing. */
export function cpuSecondsOf(report: string): number | null {
  const u = /User time \(seconds\): ([0-9.]+)/.exec(report);
  const s = /System time \(seconds\): ([0-9.]+)/.exec(report);
  return u && s ? Number(u[1]) + Number(s[1]) : null;
}

/**
 * Runs argv[0] with argv[1..], stdout to /dev/null unless captured, and measures wall time and peak
 * RSS. With GNU time, its report goes to a temp file (-o) so the command's own stderr stays clean.
 */
export function measure(argv: readonly string[], opts: { captureStdout: boolean; tmp: string }): Promise<Measurement> {
  const timeFile = join(opts.tmp, 'time.txt');
  const useTime = GNU_TIME !== null;
  const cmd = useTime ? GNU_TIME! : argv[0]!;
  const args = useTime ? ['-v', '-o', timeFile, ...argv] : argv.slice(1);
  const devNull = opts.captureStdout ? null : openSync('/dev/null', 'w');
  return new Promise((resolveP, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', devNull ?? 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let errLen = 0;
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => {
      // Keep the first 64 KiB: tools can be chatty on stderr, only the first lines matter.
      if (errLen < 65536) err.push(b);
      errLen += b.length;
    });
    let hwm: number | null = null;
    const poll = useTime ? null : setInterval(() => {
      const v = child.pid !== undefined ? readVmHwm(child.pid) : null;
      if (v !== null) hwm = v;
    }, 10);
    child.on('error', (e) => {
      if (poll) clearInterval(poll);
      if (devNull !== null) closeSync(devNull);
      reject(e);
    });
    child.on('close', (code, signal) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      if (poll) clearInterval(poll);
      if (devNull !== null) closeSync(devNull);
      let rss = hwm;
      let cpu: number | null = null;
      let exitCode = code ?? (signal ? 128 : 1);
      if (useTime) {
        try {
          const t = readFileSync(timeFile, 'utf8');
          const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(t);
          rss = m ? Number(m[1]) * 1024 : null;
          cpu = cpuSecondsOf(t);
          const e = /Exit status: (\d+)/.exec(t);
          if (e) exitCode = Number(e[1]);
          // GNU time reports a signal death as "Command terminated by signal N".
          if (/Command terminated by signal/.test(t)) exitCode = 128;
        } catch {
          rss = null;
        }
      }
      resolveP({ wall, cpu, rss, exitCode, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Reads the whole file (1 MiB at a time) so that the next timed command finds it in the page cache. */
export function warmPageCache(file: string): void {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    while (readSync(fd, buf, 0, buf.length, null) > 0) {
      // discard
    }
  } finally {
    closeSync(fd);
  }
}

function loadAverage(): string | null {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

function machineCores(): number {
  const r = spawnSync('nproc', { encoding: 'utf8' });
  return Number(r.stdout?.trim()) || cpus().length;
}

export function firstLine(s: string): string {
  return s.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
}

function toolVersion(argv: string[], pattern: RegExp): string {
  try {
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 10_000 });
    const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
    const m = pattern.exec(text);
    return m ? m[0].trim() : firstLine(text);
  } catch {
    return 'unknown';
  }
}

export function machineInfo(tools: readonly string[]): MachineInfo {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1]!.trim();
  } catch {
    // not Linux
  }
  let memGb = 0;
  try {
    const m = /MemTotal:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) memGb = Math.round(Number(m[1]) / 1024 / 1024);
  } catch {
    // not Linux
  }
  const cores = machineCores();
  const v: Record<string, string> = {};
  if ((tools.includes('tcpdump') || tools.includes('tcpdump-filter')) && which('tcpdump')) v['tcpdump'] = toolVersion(['tcpdump', '--version'], /tcpdump version \S+/);
  if (tools.includes('ndpiReader') && which('ndpiReader')) v['ndpiReader'] = toolVersion(['ndpiReader', '-h'], /nDPI \([^)]*\)|nDPI [0-9.]+/);
  if (tools.includes('tshark') && which('tshark')) v['tshark'] = toolVersion(['tshark', '--version'], /TShark \(Wireshark\) \S+/);
  return { cores, cpu, memGb, node: process.version, tools: v };
}

/** `git rev-parse --short HEAD`, plus "-dirty" when the work tree has changes (read-only git calls). */
export function gitCommit(): string {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) return 'unknown';
  const s = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO, encoding: 'utf8' });
  return r.stdout.trim() + (s.stdout?.trim() ? '-dirty' : '');
}

/** Does `portsniff replay --help` list --workers? */
export function cliHasWorkers(cli: string): boolean {
  const r = spawnSync(process.execPath, [cli, 'replay', '--help'], { encoding: 'utf8', timeout: 30_000 });
  return /--workers\b/.test(`${r.stdout ?? ''}${r.stderr ?? ''}`);
}

/**
 * What classification costs: `replay --json --workers 0` against the same with `--no-rules`, as a
 * ratio and per flow of the file (wall and CPU medians).
 */
export function classificationNote(full: Row, bare: Row, flows: number): string {
  const perFlow = (a: number | null, b: number | null): string =>
    a === null || b === null || flows <= 0 ? '-' : `${(((a - b) * 1e6) / flows).toFixed(2)} µs`;
  const ratio = (a: number | null, b: number | null): string => (a === null || b === null || b === 0 ? '-' : (a / b).toFixed(3));
  return (
    `classification: --workers 0 ÷ --no-rules ${ratio(full.wall, bare.wall)} wall, ${ratio(full.cpu, bare.cpu)} CPU; ` +
    `per flow (${flows >= 0 ? flows : '?'} flows) ${perFlow(full.wall, bare.wall)} wall, ${perFlow(full.cpu, bare.cpu)} CPU.`
  );
}

// ---------------------------------------------------------------------------------------------
// The suite

interface Planned {
  id: string;
  label: string;
  argv: string[];
  command: string;
  captureStdout: boolean;
  /** Checks a run's output; returns a detail string or throws with a reason. */
  check?: (m: Measurement) => string;
}

/**
 * A collector for `--ipfix` that costs nothing: a child process binds a UDP socket on loopback and
 * then sleeps in Atomics.wait, so its event loop never reads: the kernel takes each message and
 * drops what overflows the socket's buffer, and nothing answers with ICMP port unreachable (which
 * makes each send fail, a cost of its own). A sink that reads would take CPU from the measured run
 * on a 2-core machine. Returns the port; `cleanups` ends the child.
 */
async function ipfixSink(cleanups: Array<() => void>): Promise<number> {
  const script =
    "const s = require('node:dgram').createSocket('udp4');" +
    "s.bind(0, '127.0.0.1', () => { process.stdout.write(s.address().port + '\\n'); setImmediate(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)); });";
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => child.kill('SIGKILL'));
  return new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the IPFIX sink exited (${code})`)));
  });
}

export async function runSuite(o: SuiteOptions): Promise<SuiteResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const warm = o.warm ?? warmPageCache;
  const tmp = mkdtempSync(join(tmpdir(), 'portsniff-bench-'));
  const notes: string[] = [...(o.extraNotes ?? [])];
  const cleanups: Array<() => void> = [];
  try {
    let file = o.file;
    let generated: GenResult | null = null;
    let packets: number;
    if (file === undefined) {
      file = join(tmp, 'capture.pcap');
      log(`generating ${o.packets} packets / ${o.flows} flows (${o.size}, seed ${o.seed}) into ${file} ...`);
      generated = generateCapture({ packets: o.packets, flows: o.flows, size: o.size, seed: o.seed, out: file });
      log(describeGen(generated));
      packets = generated.packets;
    } else {
      packets = -1; // learned from portsniff's --json (or tcpdump) below
    }
    const fileBytes = statSync(file).size;
    const tools = o.tools;
    const planned: Planned[] = [];
    /** Flows the file holds, from portsniff's --json (for the per-flow classification figure). */
    let flows = -1;

    const checkPs = (expectWorkers: number | null) => (m: Measurement): string => {
      let j: { totals?: { packets?: number; flows?: number }; options?: { workers?: number } };
      try {
        j = JSON.parse(m.stdout) as typeof j;
      } catch {
        throw new Error('no JSON on stdout');
      }
      const p = j.totals?.packets;
      if (typeof p !== 'number') throw new Error('JSON without totals.packets');
      if (packets >= 0 && p !== packets) throw new Error(`counted ${p} packets, the file has ${packets}`);
      if (packets < 0) packets = p;
    if (typeof j.totals?.flows === 'number') flows = j.totals.flows;
      const w = j.options?.workers;
      const wNote = expectWorkers !== null && typeof w === 'number' && w !== expectWorkers ? ` (JSON says workers ${w})` : '';
      return `${p} packets, ${j.totals?.flows ?? '?'} flows${wNote}`;
    };
    const checkPackets = checkPs(null);
    if (tools.includes('portsniff')) {
      if (!existsSync(o.cli)) throw new Error(`portsniff entry ${o.cli} not found: run \`npm run build\` first (npm run bench does)`);
      const base = [process.execPath, o.cli, 'replay', file, '--json'];
      const rel = relative(REPO, o.cli);
      const shown = `node ${rel.startsWith('..') ? o.cli : rel}`;
      if (cliHasWorkers(o.cli)) {
        for (const w of o.workers) {
          planned.push({
            id: `portsniff-w${w}`,
            label: `portsniff --workers ${w}`,
            argv: [...base, '--workers', String(w)],
            command: `${shown} replay F --json --workers ${w}`,
            captureStdout: true,
            check: checkPs(w),
          });
        }
      } else {
        notes.push('portsniff: `replay --help` lists no --workers option; measured the default (in-process) pipeline only, worker rows skipped.');
        planned.push({
          id: 'portsniff',
          label: 'portsniff (no --workers)',
          argv: base,
          command: `${shown} replay F --json`,
          captureStdout: true,
          check: checkPs(null),
        });
      }
    }
    /** A row of portsniff with the full run's arguments plus `extra` (--workers 0 when the CLI has it). */
    const variant = (id: string, label: string, extra: string[]): void => {
      if (!existsSync(o.cli)) throw new Error(`portsniff entry ${o.cli} not found: run \`npm run build\` first (npm run bench does)`);
      const rel = relative(REPO, o.cli);
      const shown = `node ${rel.startsWith('..') ? o.cli : rel}`;
      const workersArgs = cliHasWorkers(o.cli) ? ['--workers', '0'] : [];
      planned.push({
        id,
        label,
        argv: [process.execPath, o.cli, 'replay', file, '--json', ...extra, ...workersArgs],
        command: `${shown} replay F --json ${extra.join(' ')}${workersArgs.length > 0 ? ' --workers 0' : ''}`,
        captureStdout: true,
        check: checkPackets,
      });
    };
    // The engine without classification: the cost of classification is the difference to --workers 0.
    if (tools.includes('no-rules')) variant('portsniff-no-rules', 'portsniff --no-rules', ['--no-rules']);
    // The flow log on top of the full pipeline: what writing one JSON record per flow costs.
    if (tools.includes('flow-log')) variant('portsniff-flow-log', 'portsniff --flows', ['--flows', '/dev/null']);
    // The fleet sensor's exports: what a record per flow costs when it goes to Prometheus or IPFIX.
    if (tools.includes('metrics')) variant('portsniff-metrics', 'portsniff --metrics', ['--metrics', '127.0.0.1:0']);
    if (tools.includes('ipfix')) variant('portsniff-ipfix', 'portsniff --ipfix', ['--ipfix', `127.0.0.1:${await ipfixSink(cleanups)}`]);
    const external: { id: ToolName; argv: string[]; command: string }[] = [
      { id: 'tcpdump', argv: ['tcpdump', '-r', file, '-w', '/dev/null'], command: 'tcpdump -r F -w /dev/null' },
      // libpcap's bare read loop plus BPF: a filter that matches nothing, so nothing is printed or written.
      { id: 'tcpdump-filter', argv: ['tcpdump', '-r', file, 'ether proto 0x1234'], command: "tcpdump -r F 'ether proto 0x1234'" },
      { id: 'ndpiReader', argv: ['ndpiReader', '-i', file, '-q'], command: 'ndpiReader -i F -q' },
      { id: 'tshark', argv: ['tshark', '-r', file, '-q', '-z', 'conv,tcp', '-z', 'conv,udp'], command: 'tshark -r F -q -z conv,tcp -z conv,udp' },
      { id: 'cat', argv: ['cat', file], command: 'cat F > /dev/null' },
    ];
    const apt: Record<string, string> = { tcpdump: 'tcpdump', 'tcpdump-filter': 'tcpdump', ndpiReader: 'libndpi-bin', tshark: 'tshark', cat: 'coreutils' };
    for (const t of external) {
      if (!tools.includes(t.id)) continue;
      const path = (o.findTool ?? which)(t.argv[0]!);
      if (path === null) {
        notes.push(`${t.id}: not installed, skipped (Debian package ${apt[t.id]}).`);
        continue;
      }
      planned.push({ id: t.id, label: t.id, argv: [path, ...t.argv.slice(1)], command: t.command, captureStdout: false });
    }
    for (const t of ALL_TOOLS) if (!tools.includes(t)) notes.push(`${t}: not selected (--tools).`);

    // Untimed, before EVERY run: some machines reclaim page cache proactively (this repository's
    // VM runs DAMON pageout on pages idle for ~3 s), so one warm-up at the start would leave the
    // command that follows a slow one (ndpiReader, tshark) re-reading the file from disk.
    const loadBefore = loadAverage();

    const results = new Map<string, Measurement[]>();
    const failures = new Map<string, string>();
    const details = new Map<string, string>();
    for (let run = 1; run <= o.runs; run++) {
      for (const p of planned) {
        if (failures.has(p.id)) continue;
        warm(file);
        const m = await measure(p.argv, { captureStdout: p.captureStdout, tmp });
        let failure: string | null = null;
        if (m.exitCode !== 0) failure = `exit ${m.exitCode}: ${firstLine(m.stderr).slice(0, 160)}`;
        else if (p.check) {
          try {
            details.set(p.id, p.check(m));
          } catch (e) {
            failure = (e as Error).message;
          }
        }
        if (failure !== null) {
          failures.set(p.id, failure);
          log(`  run ${run} ${p.label}: FAILED (${failure})`);
          continue;
        }
        m.stdout = ''; // do not keep megabytes of output around
        const list = results.get(p.id) ?? [];
        list.push(m);
        results.set(p.id, list);
        log(`  run ${run} ${p.label}: ${m.wall.toFixed(3)} s, ${m.rss !== null ? (m.rss / 1e6).toFixed(0) + ' MB' : '? MB'}`);
      }
    }
    const loadAfter = loadAverage();
    if (loadBefore !== null && loadAfter !== null) {
      const cores = machineCores();
      const busy = Number(loadBefore) > cores || Number(loadAfter) > cores;
      notes.push(`1-minute load average ${loadBefore} before the runs, ${loadAfter} after (${cores} cores)${busy ? ': other jobs shared the machine, expect noisy figures' : ''}.`);
    }
    if (packets < 0) {
      // An existing file and no successful portsniff row: nothing counted the packets.
      notes.push('packet count unknown (no portsniff row): packets/s not computed.');
    }

    const rows: Row[] = planned.map((p) => {
      const runs = results.get(p.id) ?? [];
      const failed = failures.get(p.id) ?? null;
      const wall = failed === null && runs.length > 0 ? median(runs.map((m) => m.wall)) : null;
      const rssList = runs.map((m) => m.rss).filter((x): x is number => x !== null);
      const rss = failed === null && rssList.length > 0 ? median(rssList) : null;
      const cpuList = runs.map((m) => m.cpu).filter((x): x is number => x !== null);
      const cpu = failed === null && cpuList.length > 0 ? median(cpuList) : null;
      return {
        id: p.id,
        label: p.label,
        command: p.command,
        runs,
        failed,
        wall,
        cpu,
        rss,
        pps: wall !== null && packets >= 0 ? packets / wall : null,
        mbps: wall !== null ? fileBytes / 1e6 / wall : null,
        vsPortsniff: null,
        vsTcpdump: null,
        vsTcpdumpFilter: null,
        vsNdpi: null,
        detail: details.get(p.id) ?? null,
      };
    });
    // The reference is a pipeline row (the variants: without rules, with an output added).
    const variants = new Set(['portsniff-no-rules', 'portsniff-flow-log', 'portsniff-metrics', 'portsniff-ipfix']);
    const psRows = rows.filter((r) => r.id.startsWith('portsniff') && !variants.has(r.id) && r.wall !== null);
    const ref = psRows.find((r) => r.id === 'portsniff-w2') ?? psRows[psRows.length - 1] ?? null;
    const wallOf = (id: string): number | null => rows.find((r) => r.id === id)?.wall ?? null;
    const tcpdump = wallOf('tcpdump');
    const tcpdumpFilter = wallOf('tcpdump-filter');
    const ndpi = wallOf('ndpiReader');
    for (const r of rows) {
      if (r.wall === null) continue;
      if (ref?.wall) r.vsPortsniff = r.wall / ref.wall;
      if (tcpdump !== null) r.vsTcpdump = r.wall / tcpdump;
      if (tcpdumpFilter !== null) r.vsTcpdumpFilter = r.wall / tcpdumpFilter;
      if (ndpi !== null) r.vsNdpi = r.wall / ndpi;
    }
    const full = rows.find((r) => r.id === 'portsniff-w0' && r.wall !== null);
    const bare = rows.find((r) => r.id === 'portsniff-no-rules' && r.wall !== null);
    if (full && bare) notes.push(classificationNote(full, bare, flows));
    if (ref !== null && ref.id !== 'portsniff-w2') notes.push(`ratios are against ${ref.label} (no successful --workers 2 row).`);
    return {
      file: o.file ?? '(generated, deleted after the run)',
      fileBytes,
      packets,
      generated,
      runs: o.runs,
      rows,
      reference: ref?.id ?? null,
      notes,
      rssMethod: GNU_TIME !== null ? 'gnu-time' : 'proc-vmhwm',
      machine: machineInfo(tools),
    };
  } finally {
    for (const c of cleanups) c();
    if (!o.keep) rmSync(tmp, { recursive: true, force: true });
    else log(`kept ${tmp}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Output

function fmt(x: number | null, digits: number): string {
  return x === null ? '-' : x.toFixed(digits);
}

function fmtRate(x: number | null): string {
  if (x === null) return '-';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
}

export const TABLE_HEADER = ['command', 'wall s (median)', 'CPU s', 'packets/s', 'MB/s', 'peak RSS MB', '÷ portsniff', '÷ tcpdump', '÷ tcpdump filter', '÷ ndpiReader'] as const;
/** Column of the first ratio (its header names the reference row). */
const REFERENCE_COLUMN = TABLE_HEADER.indexOf('÷ portsniff');

/** Table cells, one array per row (header first). */
export function tableCells(res: SuiteResult): string[][] {
  const head: string[] = [...TABLE_HEADER];
  if (res.reference !== null) head[REFERENCE_COLUMN] = `÷ ${res.rows.find((r) => r.id === res.reference)?.label ?? 'portsniff'}`;
  const out: string[][] = [head];
  for (const r of res.rows) {
    if (r.failed !== null) {
      out.push([r.command, `FAILED: ${r.failed}`, ...TABLE_HEADER.slice(2).map(() => '')]);
      continue;
    }
    out.push([
      r.command, fmt(r.wall, 3), fmt(r.cpu, 2), fmtRate(r.pps), fmt(r.mbps, 0), r.rss === null ? '-' : (r.rss / 1e6).toFixed(0),
      fmt(r.vsPortsniff, 2), fmt(r.vsTcpdump, 2), fmt(r.vsTcpdumpFilter, 2), fmt(r.vsNdpi, 3),
    ]);
  }
  return out;
}

export function formatTable(res: SuiteResult): string {
  const cells = tableCells(res);
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  const line = (row: string[]): string => row.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ').trimEnd();
  const lines = [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)];
  return lines.join('\n');
}

export function formatMarkdownTable(res: SuiteResult): string {
  const cells = tableCells(res);
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const row = (r: string[]): string => `| ${r.map((v, i) => (i === 0 ? `\`${esc(v)}\`` : esc(v))).join(' | ')} |`;
  const head = cells[0]!;
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...cells.slice(1).map(row)].join('\n');
}

export function formatReport(res: SuiteResult): string {
  const m = res.machine;
  const file = res.generated
    ? `generated: ${describeGen(res.generated)}`
    : `file: ${res.file} (${(res.fileBytes / 1e6).toFixed(1)} MB, ${res.packets >= 0 ? res.packets : '?'} packets)`;
  const out = [
    '',
    file,
    `machine: ${m.cores} cores, ${m.cpu}, ${m.memGb} GB, node ${m.node}; ${Object.entries(m.tools).map(([k, v]) => `${k}: ${v}`).join(', ') || 'no external tools'}`,
    `${res.runs} run(s) per command, medians; peak RSS from ${res.rssMethod === 'gnu-time' ? '/usr/bin/time -v' : '/proc/PID/status VmHWM (polled)'}; CPU = user + system time of all the command's threads${res.rssMethod === 'gnu-time' ? '' : ' (needs GNU time: -)'}; ratios are wall-time ratios (< 1 = faster than the reference).`,
    '',
    formatTable(res),
  ];
  for (const r of res.rows) if (r.detail !== null) out.push(`  ${r.label}: ${r.detail}`);
  for (const n of res.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

/** Replaces the figures block of bench/README.md (between the markers) with this run's figures. */
export function recordFigures(res: SuiteResult, commandLine: string, readmePath = README_PATH): void {
  const text = readFileSync(readmePath, 'utf8');
  const a = text.indexOf(FIGURES_START);
  const b = text.indexOf(FIGURES_END);
  if (a < 0 || b < a) throw new Error(`${readmePath}: figure markers ${FIGURES_START} / ${FIGURES_END} not found`);
  const m = res.machine;
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const g = res.generated;
  const block = [
    FIGURES_START,
    '',
    `Recorded ${date} at commit \`${gitCommit()}\` with:`,
    '',
    '```sh',
    commandLine,
    '```',
    '',
    `- Machine: ${m.cores} cores (\`nproc\`), ${m.cpu}, ${m.memGb} GB RAM, Node ${m.node}` +
      (Object.keys(m.tools).length > 0 ? `; ${Object.entries(m.tools).map(([k, v]) => `${k} ${v.replace(/^(tcpdump version|TShark \(Wireshark\)) /, '')}`).join(', ')}` : ''),
    g
      ? `- File: generated, ${g.packets.toLocaleString('en-US')} packets, ${g.flows.toLocaleString('en-US')} flows, ${(g.fileBytes / 1e6).toFixed(0)} MB, mean frame ${g.meanFrame.toFixed(0)} B, ${g.ipv6Flows} IPv6 / ${g.vlanFlows} VLAN flows`
      : `- File: ${res.file}, ${(res.fileBytes / 1e6).toFixed(0)} MB, ${res.packets} packets`,
    `- ${res.runs} runs per command, medians; peak RSS from ${res.rssMethod === 'gnu-time' ? '`/usr/bin/time -v`' : '`/proc/PID/status` VmHWM'}; CPU s = user + system time of all the command's threads (GNU time); ratio columns = wall time ÷ the reference's wall time`,
    '',
    formatMarkdownTable(res),
    '',
    ...res.rows.filter((r) => r.detail !== null).map((r) => `- ${r.label}: ${r.detail}`),
    ...res.notes.map((n) => `- Note: ${n}`),
    '',
    FIGURES_END,
  ].join('\n');
  writeFileSync(readmePath, text.slice(0, a) + block + text.slice(b + FIGURES_END.length));
}

// ---------------------------------------------------------------------------------------------
// CLI

export function positiveInt(v: string | undefined, name: string, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${name} must be an integer >= ${min} (got ${v})`);
  return n;
}

export function parseSuiteArgs(argv: string[]): SuiteOptions & { json: boolean; record: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      file: { type: 'string' },
      packets: { type: 'string' },
      flows: { type: 'string' },
      size: { type: 'string' },
      seed: { type: 'string' },
      runs: { type: 'string' },
      workers: { type: 'string' },
      tools: { type: 'string' },
      cli: { type: 'string' },
      keep: { type: 'boolean' },
      json: { type: 'boolean' },
      record: { type: 'boolean' },
      note: { type: 'string', multiple: true },
    },
    strict: true,
  });
  const size = (values.size ?? DEFAULT_GEN.size) as PacketSizeProfile;
  if (!['small', 'mixed', 'large'].includes(size)) throw new RangeError(`--size must be small, mixed or large (got ${values.size})`);
  const workers = (values.workers ?? '0,1,2').split(',').map((w) => positiveInt(w.trim(), '--workers', 0, 0));
  const tools = (values.tools ?? ALL_TOOLS.join(',')).split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  for (const t of tools) if (!(ALL_TOOLS as readonly string[]).includes(t)) throw new RangeError(`--tools: unknown tool ${t} (known: ${ALL_TOOLS.join(', ')})`);
  if (values.file !== undefined && !existsSync(values.file)) throw new RangeError(`--file ${values.file}: no such file`);
  return {
    ...(values.file !== undefined ? { file: resolve(values.file) } : {}),
    packets: positiveInt(values.packets, '--packets', DEFAULT_GEN.packets),
    flows: positiveInt(values.flows, '--flows', DEFAULT_GEN.flows),
    size,
    seed: positiveInt(values.seed, '--seed', DEFAULT_GEN.seed),
    runs: positiveInt(values.runs, '--runs', 3),
    workers,
    tools: tools as ToolName[],
    cli: resolve(values.cli ?? join(REPO, 'dist', 'cli', 'main.js')),
    keep: values.keep === true,
    extraNotes: values.note ?? [],
    json: values.json === true,
    record: values.record === true,
  };
}

/** An argument as it must be typed in a POSIX shell. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = parseSuiteArgs(argv);
  const res = await runSuite(o);
  process.stdout.write(`${formatReport(res)}\n`);
  if (o.json) process.stdout.write(`${JSON.stringify({ ...res, rows: res.rows.map((r) => ({ ...r, runs: r.runs.map((m) => ({ wall: m.wall, cpu: m.cpu, rss: m.rss })) })) }, null, 2)}\n`);
  if (o.record) {
    recordFigures(res, `npm run bench${argv.length > 0 ? ` -- ${argv.map(shellQuote).join(' ')}` : ''}`);
    process.stdout.write(`figures recorded in ${README_PATH}\n`);
  }
  if (res.rows.some((r) => r.failed !== null)) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exitCode = 2;
  });
}
