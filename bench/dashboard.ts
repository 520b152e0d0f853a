/**
 * The dashboard during a max-speed replay (`npm run bench:dashboard -- --file F`), in a real
 * terminal (tmux), against the same replay with `--no-ui`:
 *
 * 1. Time: each round runs `replay F --no-ui` and `replay F` with the dashboard (--workers 0 and
 *    --workers 1), in a rotating order, nobody typing. The time runs from the shell starting node
 *    to the end of the flow log: `--flows` is a FIFO this script reads, whose end comes when
 *    reading is over (the dashboard then waits on its final state for q, which is not the
 *    replay's time). Median of the rounds, and each dashboard run's ratio to the --no-ui run of
 *    its round.
 * 2. Key-to-screen latency while the engine runs flat out: in separate runs of each dashboard
 *    variant, `b` is pressed every 150-300 ms through `tmux send-keys`; the time from sending it to
 *    the first output bytes showing the other unit (read from `tmux pipe-pane`). p50 and p95 over
 *    every press (their run times are not part of the ratios: each press costs a frame).
 *
 *   npm run bench:gen -- --out /tmp/ref.pcap          # the 5M-packet reference capture
 *   npm run bench:dashboard -- --file /tmp/ref.pcap --rounds 5
 *   npm run bench:dashboard -- --file /tmp/ref.pcap --size 80x24 --workers 0
 *
 * Options: --rounds N (5), --size WIDTHxHEIGHT of the tmux terminal (120x40), --workers LIST of the
 * dashboard runs (0,1; the --no-ui run keeps the machine's default), --draw thread,inline: where the
 * dashboard draws, in its own thread (the default) and/or in the session's thread
 * (PORTSNIFF_DASHBOARD_THREAD=0), one dashboard run of each per --workers value, --refresh LIST:
 * dashboard runs at each of these --refresh values (default: none given, the CLI's default), --end flows|screen: `flows`
 * (default) times every run to the end of its `--flows` FIFO, so both sides also write 50k flow
 * records; `screen` runs without a flow log and times to the first output showing the end (the
 * dashboard's "replay finished", --no-ui's summary line), polled every 3 ms from `tmux pipe-pane`.
 * --cli FILE: the CLI to run (default dist/cli/main.js; another build's, e.g. a copy of dist/ before a
 * change, to compare builds run after run).
 *
 * Nothing is written into the repository.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startTmux, type TmuxSession } from '../test/helpers/tmux.js';
import { percentile } from './ui.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
/** The CLI run (--cli FILE: another build's dist/cli/main.js, to compare builds). */
let MAIN = join(REPO, 'dist/cli/main.js');

interface Variant {
  name: string;
  args: string[];
  dashboard: boolean;
  /** Environment assignments before the command (PORTSNIFF_DASHBOARD_THREAD=0). */
  env: string;
}

type DrawIn = 'thread' | 'inline';

/**
 * The --no-ui run (the machine's default --workers) and one dashboard run per --workers value and
 * per place it draws: its own thread (the default) or the session's (PORTSNIFF_DASHBOARD_THREAD=0).
 */
function variants(workers: readonly number[], drawIn: readonly DrawIn[], refresh: readonly string[]): Variant[] {
  const out: Variant[] = [{ name: '--no-ui', args: ['--no-ui', '--no-progress'], dashboard: false, env: '' }];
  for (const d of drawIn) {
    for (const w of workers) {
      for (const r of refresh) {
        out.push({
          name: `dashboard ${d === 'thread' ? 'in its own thread' : "in the session's thread"}, --workers ${w}${r === '' ? '' : `, --refresh ${r}`}`,
          args: ['--workers', String(w), ...(r === '' ? [] : ['--refresh', r])],
          dashboard: true,
          env: d === 'thread' ? '' : 'PORTSNIFF_DASHBOARD_THREAD=0 ',
        });
      }
    }
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves with Date.now() when the FIFO's writer closes it (the end of the flow log). */
function endOfFifo(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createReadStream(path);
    s.on('data', () => {});
    s.on('end', () => resolve(Date.now()));
    s.on('error', reject);
  });
}

function readFrom(path: string, offset: number): string {
  if (!existsSync(path)) return '';
  const buf = readFileSync(path);
  return buf.subarray(Math.min(offset, buf.length)).toString('utf8');
}

interface Size {
  width: number;
  height: number;
}

/**
 * Without a flow log: resolves with Date.now() when the pane's output first shows the end of the
 * replay: the dashboard's "replay finished" status, or --no-ui's summary line.
 */
async function endOnScreen(pane: string, dashboard: boolean): Promise<number> {
  const marker = dashboard ? /replay finished/ : /\d+ packets, .* on the wire/;
  let offset = 0;
  let tail = '';
  const t0 = Date.now();
  for (;;) {
    const size = existsSync(pane) ? statSync(pane).size : 0;
    if (size > offset) {
      const text = tail + readFrom(pane, offset);
      offset = size;
      if (marker.test(text)) return Date.now();
      tail = text.slice(-200);
    }
    if (Date.now() - t0 > 120_000) throw new Error(`no end of the replay on screen within 120 s`);
    await sleep(3);
  }
}

async function run(v: Variant, file: string, dir: string, round: number, press: boolean, size: Size, flowLog: boolean): Promise<{ ms: number; latencies: number[] }> {
  const fifo = join(dir, `flows-${round}-${v.dashboard ? 'ui' : 'plain'}.fifo`);
  const start = join(dir, `start-${round}`);
  const pane = join(dir, `pane-${round}.out`);
  rmSync(fifo, { force: true });
  rmSync(pane, { force: true });
  let cmd: string;
  if (flowLog) {
    execFileSync('mkfifo', [fifo]);
    // The dashboard draws on the terminal; --no-ui's summary goes nowhere (as when piped).
    const redirect = v.dashboard ? '' : ' > /dev/null 2>&1';
    cmd = `date +%s%3N > ${start}; ${v.env}node ${MAIN} replay ${file} --flows ${fifo} ${v.args.join(' ')}${redirect}; sleep 60`;
  } else {
    // Both print their end on the terminal: the dashboard's last frame, --no-ui's summary.
    cmd = `date +%s%3N > ${start}; ${v.env}node ${MAIN} replay ${file} ${v.args.join(' ')}; sleep 60`;
  }
  // pipe-pane starts once the session exists: the command waits for it (the start file comes after).
  const t: TmuxSession = await startTmux(`while [ ! -e ${pane} ]; do sleep 0.01; done; ${cmd}`, { ...size, cwd: REPO });
  try {
    t.tmux('pipe-pane', '-t', 'main', '-o', `cat >> '${pane}'`);
    const ended = flowLog ? endOfFifo(fifo) : endOnScreen(pane, v.dashboard);
    const latencies: number[] = [];
    let done = false;
    void ended.then(() => (done = true));
    if (v.dashboard && press) {
      // Wait for the first frame, then press b until the replay ends.
      const t0 = performance.now();
      while (!done && !/SERVICE/.test(readFrom(pane, 0))) {
        if (performance.now() - t0 > 30_000) throw new Error(`no dashboard within 30 s:\n${t.capture()}`);
        await sleep(5);
      }
      let bytes = true;
      while (!done) {
        const offset = existsSync(pane) ? statSync(pane).size : 0;
        const want = bytes ? /[kMG ]B\/s/ : /[kMG ]b\/s/;
        const k0 = performance.now();
        t.sendKeys('b');
        while (!want.test(readFrom(pane, offset))) {
          if (performance.now() - k0 > 5000) throw new Error(`no new frame within 5 s of a key:\n${t.capture()}`);
          await sleep(2);
        }
        if (!done) latencies.push(performance.now() - k0);
        bytes = !bytes;
        await sleep(150 + Math.random() * 150);
      }
    }
    const end = await ended;
    const began = Number(readFileSync(start, 'utf8').trim());
    return { ms: end - began, latencies };
  } finally {
    t.kill();
    rmSync(fifo, { force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { file: { type: 'string' }, rounds: { type: 'string', default: '5' }, size: { type: 'string', default: '120x40' }, workers: { type: 'string', default: '0,1' }, draw: { type: 'string', default: 'thread,inline' }, refresh: { type: 'string', default: '' }, end: { type: 'string', default: 'flows' }, cli: { type: 'string' } },
  });
  if (values.file === undefined) throw new Error('--file F is required (npm run bench:gen -- --out F makes the reference capture)');
  const sizeMatch = /^(\d+)x(\d+)$/.exec(values.size);
  if (sizeMatch === null) throw new Error(`--size ${values.size}: expected WIDTHxHEIGHT, e.g. 80x24`);
  const size: Size = { width: Number(sizeMatch[1]), height: Number(sizeMatch[2]) };
  const workers = values.workers.split(',').map((w) => Number(w));
  if (workers.some((w) => !Number.isInteger(w) || w < 0)) throw new Error(`--workers ${values.workers}: expected a list such as 0,1`);
  const drawIn = values.draw.split(',') as DrawIn[];
  if (drawIn.some((d) => d !== 'thread' && d !== 'inline')) throw new Error(`--draw ${values.draw}: expected thread, inline or both`);
  const VARIANTS = variants(workers, drawIn, values.refresh.split(','));
  if (values.end !== 'flows' && values.end !== 'screen') throw new Error(`--end ${values.end}: expected flows or screen`);
  const flowLog = values.end === 'flows';
  if (values.cli !== undefined) MAIN = values.cli;
  if (!existsSync(MAIN)) throw new Error(values.cli !== undefined ? `--cli ${values.cli}: no such file` : 'run npm run build first');
  const rounds = Number(values.rounds);
  const dir = mkdtempSync(join(tmpdir(), 'portsniff-bench-dashboard-'));
  const times = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
  const ratios = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
  const keys = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]!);
      const got = new Map<string, number>();
      for (const v of order) {
        // Warm the page cache before every run (this VM pages out idle file pages within seconds).
        execFileSync('sh', ['-c', `cat '${values.file}' > /dev/null`]);
        const res = await run(v, values.file, dir, r, false, size, flowLog);
        got.set(v.name, res.ms);
        times.get(v.name)!.push(res.ms);
        process.stderr.write(`round ${r + 1}: ${v.name}: ${(res.ms / 1000).toFixed(2)} s\n`);
        if (v.dashboard) {
          execFileSync('sh', ['-c', `cat '${values.file}' > /dev/null`]);
          const typed = await run(v, values.file, dir, r, true, size, flowLog);
          keys.get(v.name)!.push(...typed.latencies);
          process.stderr.write(`round ${r + 1}: ${v.name} with keys: ${(typed.ms / 1000).toFixed(2)} s, ${typed.latencies.length} presses\n`);
        }
      }
      const base = got.get('--no-ui')!;
      for (const v of VARIANTS) ratios.get(v.name)!.push(got.get(v.name)! / base);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nreplay ${values.file}, ${rounds} rounds, terminal ${size.width}x${size.height}, end: ${flowLog ? 'the flow log (--flows FIFO)' : 'on screen (no flow log)'}, load average ${loadavg()[0]!.toFixed(1)}\n`);
  console.log('| run | median s | median ratio to --no-ui (range) | key to screen p50 / p95 (presses) |');
  console.log('|---|---:|---:|---:|');
  for (const v of VARIANTS) {
    const t = times.get(v.name)!;
    const q = ratios.get(v.name)!;
    const k = keys.get(v.name)!;
    console.log(
      `| ${v.name} | ${(percentile(t, 50) / 1000).toFixed(2)} | ${percentile(q, 50).toFixed(3)} (${Math.min(...q).toFixed(2)}-${Math.max(...q).toFixed(2)}) | ${k.length ? `${percentile(k, 50).toFixed(0)} / ${percentile(k, 95).toFixed(0)} ms (${k.length})` : '-'} |`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:dashboard: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
