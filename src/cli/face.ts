/**
 * What a session shows: the Ink dashboard in a terminal, else the plain progress line on stderr.
 *
 * The dashboard opens when stdout is a TTY and keys can be read (from stdin, or from /dev/tty when
 * stdin carries the capture; not in a background job: cli/terminal.ts), unless --json, --no-ui,
 * `--flows -` (stdout carries data) or the CI environment variable says otherwise. Ink is never
 * loaded anywhere else: it writes escape codes into pipes and its input hook fails without a TTY
 * to read (../shared/design/ink-6.8-notes.md). The dashboard does not change the --workers default:
 * on two cores handing the engine to a worker measured no better than drawing beside it in-process
 * (docs/pipeline.md "The dashboard and --workers"). The dashboard draws in its own thread (the
 * engine keeps its core; keys never wait for it), with Ink and React loaded there from one bundled
 * file.
 */
import { existsSync } from 'node:fs';
import type { SessionConsumer } from '../export/consumer.js';
import { ProgressLine } from '../export/progress-line.js';
import { esmImporter } from './esm-importer.js';
import type { CliIo } from './io.js';
import type { SessionExtras } from './session.js';
import { keysStream } from './terminal.js';

export const DEFAULT_REFRESH_HZ = 4;

export interface FaceOptions {
  json: boolean;
  /** false: --no-ui. */
  ui: boolean;
  /** --refresh: dashboard frames per second. */
  refreshHz: number;
  /** --flows PATH|- */
  flows?: string;
  /** false: --no-progress. */
  progress: boolean;
}

export type DashboardFactory = (opts: {
  stdout: NodeJS.WriteStream;
  /** The terminal's keys (cli/terminal.ts): 0 for stdin, else /dev/tty's descriptor, closed by the dashboard. */
  keysFd: number;
  refreshHz: number;
  env: Readonly<Record<string, string | undefined>>;
}) => SessionConsumer;

export interface Face {
  dashboard: boolean;
  extras: SessionExtras;
}

/** Why the dashboard does not open here (null: it opens). */
export function noDashboardReason(io: CliIo, o: FaceOptions): string | null {
  if (!o.ui) return '--no-ui';
  if (o.json) return '--json';
  if (o.flows === '-') return '--flows -';
  if (io.terminal == null) return 'stdout is not a terminal';
  const ci = io.env?.['CI'];
  if (ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false') return 'CI is set';
  // Last: it may open /dev/tty, which only a dashboard that opens should.
  const keys = io.terminal.keysFd();
  return typeof keys === 'string' ? keys : null;
}

export async function chooseFace(io: CliIo, o: FaceOptions, loadDashboard: () => Promise<DashboardFactory> = importDashboard): Promise<Face> {
  const interval = Math.max(50, Math.round(1000 / o.refreshHz));
  if (noDashboardReason(io, o) === null) {
    const create = await loadDashboard();
    // The descriptor noDashboardReason() found (opened once).
    const dashboard = create({ stdout: io.terminal!.stdout, keysFd: io.terminal!.keysFd() as number, refreshHz: o.refreshHz, env: io.env ?? {} });
    return { dashboard: true, extras: { consumers: [dashboard, holdStderr(io)], detail: true, snapshotIntervalMs: interval, holdsTerminal: true } };
  }
  const consumers: SessionConsumer[] = io.progress === true && o.progress ? [new ProgressLine(io.stderr)] : [];
  return { dashboard: false, extras: { consumers } };
}

/**
 * While the dashboard owns the terminal, lines for stderr (a backend's warnings) would be drawn
 * over by the next frame: they are held, and printed once the dashboard has left the terminal
 * (this consumer finishes right after it, before the summary).
 */
function holdStderr(io: CliIo): SessionConsumer {
  const print = io.stderr;
  const held: string[] = [];
  io.stderr = (line) => held.push(line);
  const release = (): void => {
    io.stderr = print;
    for (const line of held.splice(0)) print(line);
  };
  return { finish: release, abort: release };
}

/** The dashboard with Ink and React in one file (`npm run build`, scripts/bundle-dashboard.mjs). */
const DASHBOARD_BUNDLE = new URL('../ui/dashboard.bundle.js', import.meta.url);

/**
 * PORTSNIFF_DASHBOARD_THREAD=0 draws in the session's thread instead of the dashboard's own
 * (bench/dashboard.ts compares the two; docs/dashboard.md "Its own thread").
 */
export function dashboardInOwnThread(env: Readonly<Record<string, string | undefined>>): boolean {
  return env['PORTSNIFF_DASHBOARD_THREAD'] !== '0';
}

async function importDashboard(): Promise<DashboardFactory> {
  // React's production build costs a third of the development build per frame (the dashboard's
  // thread inherits the environment).
  process.env['NODE_ENV'] ??= 'production';
  if (dashboardInOwnThread(process.env)) {
    const { createThreadedDashboard, dashboardScript } = await import('../ui/dashboard-thread.js');
    const script = dashboardScript();
    return (o) => createThreadedDashboard({ ...o, script });
  }
  // The bundle loads in ~90 ms instead of ~400 ms (Node's loader on Ink's and React's many files);
  // running from the TypeScript sources there is none.
  const esm = esmImporter();
  let ui: typeof import('../ui/dashboard.js');
  if (esm !== null) ui = (await esm(existsSync(DASHBOARD_BUNDLE) ? DASHBOARD_BUNDLE.href : new URL('../ui/dashboard.js', import.meta.url).href)) as typeof ui;
  else ui = existsSync(DASHBOARD_BUNDLE) ? ((await import(DASHBOARD_BUNDLE.href)) as typeof ui) : await import('../ui/dashboard.js');
  return ({ keysFd, ...o }) => {
    const stdin = keysStream(keysFd);
    const dashboard = ui.createDashboard({ ...o, stdin });
    // /dev/tty's descriptor: this stream is its one closer.
    if (keysFd !== 0) void dashboard.done.then(() => stdin.destroy());
    return dashboard;
  };
}
