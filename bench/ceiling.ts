/**
 * The ceiling for decode + flow table on this machine, in JavaScript, WebAssembly and C (issue 14:
 * "show the JS ceiling first").
 *
 * bench/ceiling-loop.ts is the least a flow meter can do per packet, written as one function over
 * typed arrays: walk the pcap records, decode Ethernet (up to two 802.1Q tags) -> IPv4/IPv6 ->
 * TCP/UDP, find or create the bidirectional flow in an open-addressing index, count packets and
 * bytes per direction, keep the last time, the TCP flags seen and an LRU list (the least recently
 * seen flow is evicted when the table is full). bench/ceiling.c is the same program in C, statement
 * for statement, and bench/assembly/ceiling-loop.ts in AssemblyScript. What they leave out of
 * `portsniff replay F --json --no-rules`: other link types and encapsulations, fragments, ICMP
 * errors and ICMP ids, anomalies, idle expiry, roles, TCP history and state, flow records, output.
 * So their times are floors, not competitors: the gap between the JavaScript loop and the engine is
 * what structure and completeness cost, the gaps between the loops what the language costs.
 *
 *   npm run bench:ceiling -- --file F [--runs 5] [--cli dist/cli/main.js] [--capacity N] [--no-compare]
 *
 * Each loop runs as its own process, so that wall times compare process by process with the other
 * commands: the JavaScript loop in `node` on plain JavaScript (esbuild, which tsx brings, bundles
 * ceiling-loop.ts), read with readSync, one chunk ahead as the engine reads, and with the rest of
 * the engine's per-packet work on a flow (its flow clock, accounting and TCP state, as the engine
 * writes them); the WebAssembly loop the same three ways when the `assemblyscript` package is
 * installed (not a dependency); the C loop, minimal, compiled with `cc -O2` when a C compiler is
 * installed (Debian package gcc).
 * Missing ones are skipped with a note. Alongside them, round-robin, the file read untimed before
 * every run (as bench/run.ts does): `portsniff replay F --json --no-rules --workers 0`, and
 * `tcpdump -r F 'ether proto 0x1234'` when tcpdump is installed. The counts each loop found are
 * printed, and the loops must agree on all of them, so that a wrong decode cannot pass for a fast
 * one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CEILING_CAPACITY } from './ceiling-loop.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
/** A loop that has not finished after this long is stopped (a broken loop must fail, not hang). */
const LOOP_TIMEOUT_MS = 120_000;

/** The counts a loop prints: packets, flows created, flows evicted, records not IPv4/IPv6, checksum. */
export type CeilingCounts = [number, number, number, number, number];

/** Bundles `entry` (a bench file) into one plain JavaScript file `out`, followed by `footer`. */
function bundle(entry: string, out: string, footer: string): string {
  const bundled = execFileSync(
    process.execPath,
    [
      '-e',
      `require('esbuild').build({ entryPoints: [${JSON.stringify(join(REPO, 'bench', entry))}], bundle: true, platform: 'node',` +
        ` format: 'esm', write: false, target: 'node20' }).then((r) => process.stdout.write(r.outputFiles[0].text))`,
    ],
    { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, cwd: REPO },
  );
  writeFileSync(out, `${bundled}\n${footer}`);
  return out;
}

/** Prints a loop's counts, or its error on stderr with exit status 1. */
const PRINT = `.then((counts) => process.stdout.write(JSON.stringify(counts) + '\\n'), (err) => { process.stderr.write(err.message + '\\n'); process.exitCode = 1; });\n`;
/** argv[2]: the file; argv[3]: the capacity; argv[4] `ahead`: read ahead; argv[5] `features`: the engine's per-packet work too. */
const ARGS =
  `process.argv[2], process.argv[3] === undefined ? ${CEILING_CAPACITY} : Number(process.argv[3]), process.argv[4] === 'ahead', ` +
  `process.argv[5] === 'features'`;

/** Writes ceiling-loop.ts into `dir` as one plain JavaScript file that runs the loop (argv: file, capacity, `ahead`, `features`). */
export function buildJsLoop(dir: string): string {
  return bundle('ceiling-loop.ts', join(dir, 'ceiling-loop.mjs'), `ceilingLoop(${ARGS})${PRINT}`);
}

/**
 * Compiles bench/assembly/ceiling-loop.ts to WebAssembly with AssemblyScript's `asc` and writes its
 * host as one JavaScript file into `dir` (argv as buildJsLoop's); null when the `assemblyscript`
 * package is not installed (it is not a dependency: binaryen alone is 94 MB).
 */
export function buildWasmLoop(dir: string): string | null {
  let asc: string;
  try {
    asc = join(dirname(createRequire(join(REPO, 'package.json')).resolve('assemblyscript/package.json')), 'bin', 'asc.js');
  } catch {
    return null;
  }
  const wasm = join(dir, 'ceiling-loop.wasm');
  execFileSync(process.execPath, [asc, join(REPO, 'bench', 'assembly', 'ceiling-loop.ts'), '-O3', '--runtime', 'stub', '--noAssert', '-o', wasm], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
  return bundle('ceiling-wasm-host.ts', join(dir, 'ceiling-wasm.mjs'), `wasmLoop(${JSON.stringify(wasm)}, ${ARGS})${PRINT}`);
}

/** Compiles ceiling.c into `dir` with `cc -O2`; null when no C compiler is installed. */
export function buildCLoop(dir: string): string | null {
  const exe = join(dir, 'ceiling-c');
  const r = spawnSync('cc', ['-O2', '-o', exe, join(REPO, 'bench', 'ceiling.c')], { encoding: 'utf8' });
  if (r.error !== undefined) return null;
  if (r.status !== 0) throw new Error(`cc bench/ceiling.c failed: ${r.stderr.trim().split('\n')[0] ?? ''}`);
  return exe;
}

/**
 * Runs a built loop on `file` and returns its counts. `ahead`: read ahead; `features`: the
 * engine's per-packet work too (JavaScript and WebAssembly loops; the C loop has neither).
 */
export function runLoop(cmd: string[], file: string, capacity: number = CEILING_CAPACITY, ahead = false, features = false): CeilingCounts {
  const args = [...cmd.slice(1), file, String(capacity), ahead ? 'ahead' : 'sync', ...(features ? ['features'] : [])];
  const r = spawnSync(cmd[0]!, args, { encoding: 'utf8', timeout: LOOP_TIMEOUT_MS });
  if (r.error !== undefined) throw new Error(`${cmd.join(' ')} ${file}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} ${file} exited with ${r.status}: ${(r.stderr ?? '').split('\n')[0]}`);
  return JSON.parse(r.stdout) as CeilingCounts;
}

/** Runs `cmd` and times it; `timeoutMs` (the loops): stopped and failed after that long. */
function timed(cmd: string[], timeoutMs?: number): { wall: number; out: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}) });
  if (r.error !== undefined) throw new Error(`${cmd.join(' ')}: ${r.error.message}`);
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} exited with ${r.status}: ${(r.stderr ?? '').split('\n')[0]}`);
  return { wall, out: r.stdout };
}

/** Reads the whole file, untimed, so that the next command finds it in the page cache. */
function warm(file: string): void {
  const fd = openSync(file, 'r');
  const b = Buffer.allocUnsafe(8 * 1024 * 1024);
  while (readSync(fd, b, 0, b.length, null) > 0);
  closeSync(fd);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export interface CeilingOptions {
  file: string;
  runs: number;
  cli: string;
  compare: boolean;
  capacity: number;
  log?: (line: string) => void;
}

export interface CeilingRow {
  name: string;
  wall: number;
}

/** Times the loops (and the commands compared with them); throws if the two loops disagree. */
export function runCeiling(o: CeilingOptions): { counts: CeilingCounts; rows: CeilingRow[]; notes: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'portsniff-ceiling-'));
  try {
    const notes: string[] = [];
    const js = buildJsLoop(dir);
    const wasm = buildWasmLoop(dir);
    const c = buildCLoop(dir);
    const cap = String(o.capacity);
    // `loop`: prints counts that must equal those of the first command of its kind (minimal, or with the engine's features).
    type Kind = 'minimal' | 'features' | null;
    const commands: Array<{ name: string; cmd: string[]; loop: Kind }> = [
      { name: 'JavaScript loop (bench/ceiling-loop.ts)', cmd: [process.execPath, js, o.file, cap], loop: 'minimal' },
      { name: 'JavaScript loop, reading ahead', cmd: [process.execPath, js, o.file, cap, 'ahead'], loop: 'minimal' },
      { name: "JavaScript loop + the engine's per-packet work", cmd: [process.execPath, js, o.file, cap, 'sync', 'features'], loop: 'features' },
    ];
    if (wasm !== null) {
      commands.push({ name: 'WebAssembly loop (AssemblyScript)', cmd: [process.execPath, wasm, o.file, cap], loop: 'minimal' });
      commands.push({ name: 'WebAssembly loop, reading ahead', cmd: [process.execPath, wasm, o.file, cap, 'ahead'], loop: 'minimal' });
      commands.push({ name: "WebAssembly loop + the engine's per-packet work", cmd: [process.execPath, wasm, o.file, cap, 'sync', 'features'], loop: 'features' });
    } else {
      notes.push('assemblyscript not installed (a dev dependency: npm ci): the WebAssembly loop was not run');
    }
    if (c !== null) commands.push({ name: 'C loop (bench/ceiling.c, cc -O2)', cmd: [c, o.file, cap], loop: 'minimal' });
    else notes.push('no C compiler (Debian package gcc): the C loop was not run');
    if (o.compare) {
      commands.push({ name: 'portsniff --no-rules --workers 0', cmd: [process.execPath, o.cli, 'replay', o.file, '--json', '--no-rules', '--workers', '0', '--max-flows', cap], loop: null });
      if (spawnSync('tcpdump', ['--version']).status === 0) commands.push({ name: "tcpdump -r F 'ether proto 0x1234'", cmd: ['tcpdump', '-r', o.file, 'ether proto 0x1234'], loop: null });
      else notes.push('tcpdump not installed (Debian package tcpdump): not compared');
    }
    const walls = commands.map(() => [] as number[]);
    const outs = commands.map(() => '');
    for (let r = 0; r < o.runs; r++) {
      commands.forEach((cmd, i) => {
        warm(o.file);
        const t = timed(cmd.cmd, cmd.loop === null ? undefined : LOOP_TIMEOUT_MS);
        walls[i]!.push(t.wall);
        outs[i] = t.out.trim();
        o.log?.(`run ${r + 1}: ${cmd.name} ${t.wall.toFixed(3)} s`);
      });
    }
    const counts = JSON.parse(outs[0]!) as CeilingCounts;
    const firstOf = (kind: Kind): number => commands.findIndex((cmd) => cmd.loop === kind);
    commands.forEach((cmd, i) => {
      if (cmd.loop === null) return;
      const ref = firstOf(cmd.loop);
      if (outs[i] !== outs[ref]) throw new Error(`the loops disagree: ${commands[ref]!.name} ${outs[ref]!}, ${cmd.name} ${outs[i]!}`);
      // With the features the checksum covers more, but packets, flows, evictions and others are the same.
      const four = (JSON.parse(outs[i]!) as number[]).slice(0, 4).join();
      if (four !== counts.slice(0, 4).join()) throw new Error(`the loops disagree: ${commands[0]!.name} ${outs[0]!}, ${cmd.name} ${outs[i]!}`);
    });
    return { counts, rows: commands.map((cmd, i) => ({ name: cmd.name, wall: median(walls[i]!) })), notes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatCeiling(o: CeilingOptions, res: { counts: CeilingCounts; rows: CeilingRow[]; notes: string[] }): string {
  const [packets, flows, evicted, other] = res.counts;
  const lines = [`${o.file}: ${packets} packets, ${flows} flows (${evicted} evicted), ${other} records not IPv4/IPv6; ${o.runs} runs, median wall time`];
  const base = res.rows[0]!.wall;
  for (const r of res.rows) lines.push(`  ${r.name.padEnd(48)} ${r.wall.toFixed(3)} s  ${(r.wall / base).toFixed(2)}x the JavaScript loop`);
  for (const n of res.notes) lines.push(`  note: ${n}`);
  return `${lines.join('\n')}\n`;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      file: { type: 'string' },
      runs: { type: 'string', default: '5' },
      cli: { type: 'string', default: join(REPO, 'dist', 'cli', 'main.js') },
      capacity: { type: 'string', default: String(CEILING_CAPACITY) },
      'no-compare': { type: 'boolean', default: false },
    },
  });
  const capacity = Number(values.capacity);
  const runs = Number(values.runs);
  if (values.file === undefined || !Number.isInteger(runs) || runs < 1 || !Number.isInteger(capacity) || capacity < 16 || capacity > CEILING_CAPACITY || (capacity & (capacity - 1)) !== 0) {
    process.stderr.write(`usage: npm run bench:ceiling -- --file F.pcap [--runs N] [--cli dist/cli/main.js] [--capacity POW2 <= ${CEILING_CAPACITY}] [--no-compare]\n`);
    process.exit(2);
  }
  const o: CeilingOptions = { file: values.file, runs, cli: values.cli, compare: !values['no-compare'], capacity, log: (l) => process.stderr.write(`${l}\n`) };
  process.stdout.write(formatCeiling(o, runCeiling(o)));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
