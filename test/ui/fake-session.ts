/**
 * A scripted session for the dashboard in a real terminal (test/ui/tmux.test.ts, bench/ui.ts):
 * it drives createDashboard the way src/cli/session.ts does (start, update every --step-ms,
 * finish), from the fixture data of test/helpers/dashboard-data.ts, then prints a one-line summary
 * and exits 0, like the CLI prints its text summary after the dashboard has cleaned up.
 *
 *   tsx test/ui/fake-session.ts [--kind file|live] [--steps N] [--step-ms MS] [--hz HZ]
 *                               [--services N] [--dashboard PATH] [--stats PATH] [--headless]
 *
 * --steps: updates until the replay reaches its end (file); live runs until q.
 * --services: service rows in the data (synthetic "component N" rows added), for the 60-row bench table.
 * --dashboard: the module to load createDashboard from (bench: the built dist/ui/dashboard.js).
 * --stats: write {pid, seq, frames, renderMs, cpuMs} as JSON to PATH at start and on every SIGUSR2
 *   (bench/ui.ts reads the process's CPU time and frame count at the start and end of a window).
 * --headless: the same updates to a consumer that does nothing (the bench's baseline).
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { SessionControl, SessionUpdate } from '../../src/export/consumer.js';
import type { createDashboard as CreateDashboard } from '../../src/ui/dashboard.js';
import { fixtureEnd, fixtureInfo, fixtureUpdate, rulesForRows } from '../helpers/dashboard-data.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const kind = arg('kind', 'file') as 'file' | 'live';
const steps = Number(arg('steps', '40'));
const stepMs = Number(arg('step-ms', '250'));
const hz = Number(arg('hz', '4'));
const services = Number(arg('services', '0'));
const dashboardPath = arg('dashboard', '');
const statsPath = arg('stats', '');
const headless = process.argv.includes('--headless');

const mod: { createDashboard: typeof CreateDashboard } =
  dashboardPath === '' ? await import('../../src/ui/dashboard.js') : await import(pathToFileURL(resolve(dashboardPath)).href);

const startedAt = Date.now();
const opts = { kind, endStep: steps, startedAt, stepMs, ...(services > 0 ? { rules: rulesForRows(services) } : {}) };
const info = fixtureInfo(opts);
let frames = 0;
let renderMs = 0;
let seq = 0;
const writeStats = (): void => {
  const cpu = process.cpuUsage();
  writeFileSync(statsPath, JSON.stringify({ pid: process.pid, seq: seq++, frames, renderMs, cpuMs: (cpu.user + cpu.system) / 1000 }));
};
if (statsPath !== '') {
  writeStats();
  process.on('SIGUSR2', writeStats);
}
const ui = headless
  ? { start() {}, update() {}, finish: async () => {} }
  : mod.createDashboard({
      stdout: process.stdout,
      stdin: process.stdin,
      refreshHz: hz,
      onRender: (ms: number) => {
        frames++;
        renderMs += ms;
      },
    });

let paused = false;
let stopped = false;
const calls: string[] = [];
const control: SessionControl = {
  setPaused(p: boolean) {
    paused = p;
    calls.push(`setPaused(${p})`);
  },
  stop() {
    stopped = true;
    calls.push('stop()');
  },
};
process.on('SIGTERM', () => control.stop());

ui.start(info, control);
let step = 0;
let last: SessionUpdate = fixtureUpdate(0, opts);
for (;;) {
  // A paused replay reads nothing; a live capture keeps capturing (the dashboard freezes its view).
  if (!paused || kind === 'live') step++;
  last = fixtureUpdate(Math.min(step, kind === 'file' ? steps : step), opts);
  // Real wall time, so rates and elapsed time are what a user would see.
  last.wallMs = Date.now();
  last.snapshot.takenAt = last.wallMs;
  last.paused = paused;
  ui.update(last);
  if (stopped || (kind === 'file' && step >= steps)) break;
  await new Promise((r) => setTimeout(r, stepMs));
}
await ui.finish(fixtureEnd(last, { interrupted: stopped, info }));
const t = last.snapshot.totals;
process.stdout.write(`fake-session summary: ${t.packets} packets, ${t.flows} flows, ${stopped ? 'interrupted' : 'complete'}; control: ${calls.join(' ') || 'none'}\n`);
process.exitCode = 0;
