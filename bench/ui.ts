/**
 * The dashboard's own cost, in a real terminal (`npm run bench:ui`):
 *
 * 1. CPU: test/ui/fake-session.ts drives the built dashboard (dist/ui/dashboard.js, NODE_ENV=
 *    production, as the CLI loads it) in tmux at --hz frames/s with a new update every frame, on a
 *    services table of --rows rows in a terminal tall enough to show them all. The process's CPU time
 *    (process.cpuUsage: every thread) over a --seconds window, minus the same session with a consumer
 *    that does nothing (--headless: the cost of making the fake updates), is the UI's CPU. Reported
 *    as % of one core and per frame, next to Ink's own render time per frame (its onRender metric).
 * 2. Key-to-screen latency: the same table, the replay finished (the dashboard idle), `b` pressed
 *    --presses times through `tmux send-keys`; the time from sending the key to the first output
 *    bytes of the frame that shows the other unit, read from `tmux pipe-pane`. p50 and p95.
 *
 *   npm run bench:ui                         # 10 fps, 60 rows, 10 s windows, 20 presses
 *   npm run bench:ui -- --hz 4 --rows 60 --seconds 20 --presses 40 --json
 *   npm run bench:ui -- --rows 10 --width 80 --height 24   # an 80x24 terminal (the fixture's 10 rows)
 *   npm run bench:ui -- --from bundle        # the bundled dashboard the CLI loads (its cheaper output stage)
 *   npm run bench:ui -- --from /tmp/old/dist/ui/dashboard.bundle.js   # another build's bundle (A/B of bundlers)
 *
 * Nothing is written into the repository. Exit status: 0, 1 when a run failed, 2 on a usage error.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startTmux, type TmuxSession } from '../test/helpers/tmux.js';
import { FIXTURE_ROWS } from '../test/helpers/dashboard-data.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const TSX = join(REPO, 'node_modules/.bin/tsx');
const MODULES = join(REPO, 'dist/ui/dashboard.js');
const BUNDLE = join(REPO, 'dist/ui/dashboard.bundle.js');
/**
 * --from modules (default: Ink's own output stage), bundle (what the CLI loads: src/ui/fast-output.ts)
 * or the path of a module exporting createDashboard (another build's bundle).
 */
let DASHBOARD = MODULES;

export interface Stats {
  pid: number;
  seq: number;
  frames: number;
  renderMs: number;
  cpuMs: number;
}

export interface CpuResult {
  wallMs: number;
  cpuMs: number;
  frames: number;
  renderMs: number;
}

/** The p-th percentile (0-100) by nearest rank; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** CPU time over wall time, as % of one core. */
export function cpuPercent(r: Pick<CpuResult, 'cpuMs' | 'wallMs'>): number {
  return r.wallMs > 0 ? (100 * r.cpuMs) / r.wallMs : NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readStats(path: string): Stats | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Stats;
  } catch {
    return null;
  }
}

/** Asks the session for fresh stats (SIGUSR2) and waits for them. */
async function sample(path: string, pid: number, last: number): Promise<Stats> {
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 5000;
  for (;;) {
    const s = readStats(path);
    if (s !== null && s.seq > last) return s;
    if (Date.now() > deadline) throw new Error(`no stats from pid ${pid} within 5 s (${path})`);
    await sleep(5);
  }
}

function sessionArgs(o: { rows: number; hz: number; statsPath: string; steps: number; stepMs: number; headless?: boolean }): string {
  return [
    TSX,
    'test/ui/fake-session.ts',
    `--services ${o.rows}`,
    `--hz ${o.hz}`,
    `--step-ms ${o.stepMs}`,
    `--steps ${o.steps}`,
    `--dashboard ${DASHBOARD}`,
    `--stats ${o.statsPath}`,
    o.headless ? '--headless' : '',
  ].join(' ');
}

let terminalWidth = 160;
let terminalHeight: number | null = null;

/** Terminal size that shows every row of the table (rows + product groups + header and footer), unless --height. */
function terminalFor(rows: number): { width: number; height: number } {
  return { width: terminalWidth, height: terminalHeight ?? rows + 16 };
}

async function cpuRun(o: { rows: number; hz: number; seconds: number; headless: boolean; dir: string }): Promise<CpuResult & { screen: string }> {
  const statsPath = join(o.dir, `stats-${o.headless ? 'headless' : 'ui'}.json`);
  const t = await startTmux(`${sessionArgs({ rows: o.rows, hz: o.hz, statsPath, steps: 1e9, stepMs: Math.round(1000 / o.hz), headless: o.headless })}; sleep 60`, {
    ...terminalFor(o.rows),
    cwd: REPO,
    env: { NODE_ENV: 'production' },
  });
  try {
    let first: Stats | null = null;
    const deadline = Date.now() + 30_000;
    while ((first = readStats(statsPath)) === null) {
      if (Date.now() > deadline) throw new Error(`the fake session did not start; last pane text:\n${t.capture()}`);
      await sleep(50);
    }
    let screen = '';
    if (!o.headless) {
      screen = await t.waitFor('q quit', { what: 'the dashboard', timeoutMs: 30_000 });
      // The last synthetic row ("component N") on screen: the whole table is drawn.
      if (o.rows > FIXTURE_ROWS && terminalHeight === null) {
        screen = await t.waitFor(new RegExp(`component ${o.rows - FIXTURE_ROWS - 1}\\b`), { what: `all ${o.rows} rows`, timeoutMs: 30_000 });
      }
    }
    await sleep(3000); // warm-up: JIT, history filled
    const s0 = await sample(statsPath, first.pid, first.seq);
    const w0 = Date.now();
    await sleep(o.seconds * 1000);
    const s1 = await sample(statsPath, first.pid, s0.seq);
    const wallMs = Date.now() - w0;
    return { wallMs, cpuMs: s1.cpuMs - s0.cpuMs, frames: s1.frames - s0.frames, renderMs: s1.renderMs - s0.renderMs, screen };
  } finally {
    t.kill();
  }
}

function readFrom(path: string, offset: number): string {
  const size = statSync(path).size;
  if (size <= offset) return '';
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

async function latencyRun(o: { rows: number; presses: number; dir: string }): Promise<number[]> {
  const statsPath = join(o.dir, 'stats-latency.json');
  const out = join(o.dir, 'pane.out');
  const t: TmuxSession = await startTmux(`${sessionArgs({ rows: o.rows, hz: 10, statsPath, steps: 2, stepMs: 50 })}; sleep 60`, {
    ...terminalFor(o.rows),
    cwd: REPO,
    env: { NODE_ENV: 'production' },
  });
  try {
    await t.waitFor('replay finished: q to quit', { what: 'the finished (idle) replay', timeoutMs: 30_000 });
    await sleep(1000);
    t.tmux('pipe-pane', '-t', 'main', '-o', `cat >> '${out}'`);
    await sleep(300);
    const latencies: number[] = [];
    let bytes = true; // the next press switches to bytes/s
    for (let i = 0; i < o.presses; i++) {
      const offset = existsSync(out) ? statSync(out).size : 0;
      // The rate column of the new frame: "B/s" after switching to bytes, "b/s" after switching back.
      const want = bytes ? /[kMG ]B\/s/ : /[kMG ]b\/s/;
      const t0 = performance.now();
      t.sendKeys('b');
      for (;;) {
        if (existsSync(out) && want.test(readFrom(out, offset))) break;
        if (performance.now() - t0 > 5000) throw new Error(`press ${i + 1}: no new frame within 5 s; last pane text:\n${t.capture()}`);
        await sleep(1);
      }
      latencies.push(performance.now() - t0);
      bytes = !bytes;
      await sleep(150 + Math.random() * 150);
    }
    return latencies;
  } finally {
    t.kill();
  }
}

function usage(msg: string): never {
  process.stderr.write(`bench:ui: ${msg}\nusage: npm run bench:ui -- [--hz N] [--rows N] [--width N] [--height N] [--seconds N] [--presses N] [--from modules|bundle|FILE] [--json]\n`);
  process.exit(2);
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        hz: { type: 'string', default: '10' },
        rows: { type: 'string', default: '60' },
        seconds: { type: 'string', default: '10' },
        presses: { type: 'string', default: '20' },
        width: { type: 'string', default: '160' },
        height: { type: 'string' },
        json: { type: 'boolean', default: false },
        from: { type: 'string', default: 'modules' },
      },
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  const num = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) usage(`--${name} must be a number >= ${min}, got '${v}'`);
    return n;
  };
  const hz = num('hz', values.hz, 0.2);
  // The fixture data has FIXTURE_ROWS services before synthetic ones are added.
  const rows = Math.max(FIXTURE_ROWS, Math.floor(num('rows', values.rows, 1)));
  const seconds = num('seconds', values.seconds, 1);
  const presses = Math.floor(num('presses', values.presses, 1));
  terminalWidth = Math.floor(num('width', values.width, 40));
  if (values.height !== undefined) terminalHeight = Math.floor(num('height', values.height, 10));
  DASHBOARD = values.from === 'bundle' ? BUNDLE : values.from === 'modules' ? MODULES : values.from;
  if (!values.from.includes('/') && DASHBOARD === values.from) usage(`--from must be modules, bundle or a file path, got '${values.from}'`);
  if (!existsSync(DASHBOARD)) usage(`${DASHBOARD} is missing: run npm run build first (npm run bench:ui does)`);
  const dir = mkdtempSync(join(tmpdir(), 'psn-bench-ui-'));
  try {
    const log = (l: string) => process.stderr.write(`${l}\n`);
    log(`bench:ui: load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores`);
    log(`bench:ui: ${rows}-row services table, ${hz} frames/s, ${seconds} s windows, NODE_ENV=production, tmux ${terminalFor(rows).width}x${terminalFor(rows).height}`);
    const base = await cpuRun({ rows, hz, seconds, headless: true, dir });
    log(`  baseline (fake updates, no UI): ${cpuPercent(base).toFixed(1)}% of a core`);
    const ui = await cpuRun({ rows, hz, seconds, headless: false, dir });
    const uiCpu = ui.cpuMs - (base.cpuMs * ui.wallMs) / base.wallMs;
    const fps = (1000 * ui.frames) / ui.wallMs;
    log(`  with the dashboard: ${cpuPercent(ui).toFixed(1)}% of a core, ${fps.toFixed(1)} frames/s`);
    const latencies = await latencyRun({ rows, presses, dir });
    const result = {
      loadAverage: loadavg(),
      terminal: terminalFor(rows),
      rows,
      hz,
      framesPerSec: fps,
      uiCpuPercent: (100 * uiCpu) / ui.wallMs,
      totalCpuPercent: cpuPercent(ui),
      baselineCpuPercent: cpuPercent(base),
      cpuMsPerFrame: ui.frames > 0 ? uiCpu / ui.frames : NaN,
      inkRenderMsPerFrame: ui.frames > 0 ? ui.renderMs / ui.frames : NaN,
      keyLatencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), min: Math.min(...latencies), max: Math.max(...latencies), presses: latencies.length },
    };
    const f1 = (n: number) => n.toFixed(1);
    process.stdout.write(
      [
        `UI CPU at ${f1(result.framesPerSec)} frames/s on a ${rows}-row table: ${f1(result.uiCpuPercent)}% of a core (${f1(result.totalCpuPercent)}% with the fake session, whose updates alone cost ${f1(result.baselineCpuPercent)}%)`,
        `per frame: ${f1(result.cpuMsPerFrame)} ms CPU (React, view model, Ink, write); Ink's layout and output step alone ${f1(result.inkRenderMsPerFrame)} ms wall (its onRender metric)`,
        `key-to-screen latency through tmux (idle dashboard, ${latencies.length} presses): p50 ${f1(result.keyLatencyMs.p50)} ms, p95 ${f1(result.keyLatencyMs.p95)} ms (min ${f1(result.keyLatencyMs.min)}, max ${f1(result.keyLatencyMs.max)})`,
        '',
      ].join('\n'),
    );
    if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`bench:ui: ${(err as Error).message}\n`);
    return 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main();
}
