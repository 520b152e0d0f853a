/**
 * The dashboard in its own thread, as a session consumer of the session's thread.
 *
 *   const ui = createThreadedDashboard({ stdout, keysFd: 0, refreshHz: 4, env, script: dashboardScript() });
 *   // the session drives it like createDashboard's: start(info, control), update(u), await finish(end)
 *
 * Why: in-process (the default on two cores) the engine and the dashboard shared one thread, and
 * every frame (~20 ms of Ink and Yoga at 120x40) was taken from decoding; a key waited for the
 * engine's current slice. Here the session's thread only posts each update (a bounded snapshot,
 * a few times a second) and the dashboard thread draws and reads keys on the other core
 * (docs/dashboard.md "Its own thread").
 *
 * This module does not load Ink: the thread does. If the thread fails, the terminal is given back
 * from here (cursor shown, normal screen), the error is reported through onError and the session
 * is asked to stop, so that its summary prints. Raw mode is undone in the failing thread (Ink's
 * exit hook; test/ui/dashboard-thread.tmux.test.ts): this thread could not (libuv changes a
 * terminal's modes through the handle that set them only; measured in tmux), and Node's exit
 * restores them anyway.
 */
import { existsSync, writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { SessionControl, SessionEnd, SessionInfo, SessionUpdate } from '../export/consumer.js';
import type { DashboardThreadData, FromDashboard, ToDashboard } from './dashboard-protocol.js';
// Types only: this module must not load Ink.
import type { Dashboard } from './dashboard.js';

export interface DashboardScript {
  url: URL;
  /** Development (tsx): the .ts module the bootstrap imports. */
  entry: string | null;
}

export interface ThreadedDashboardOptions {
  stdout: NodeJS.WriteStream;
  /** The terminal's descriptor for keys (cli/terminal.ts), read and closed by the thread. */
  keysFd: number;
  refreshHz: number;
  env: Readonly<Record<string, string | undefined>>;
  alternateScreen?: boolean;
  script: DashboardScript;
  /** A failure of the dashboard thread (default: written to stderr once the terminal is back). */
  onError?: (message: string) => void;
}

const SHOW_CURSOR = '\x1b[?25h';
const LEAVE_ALTERNATE_SCREEN = '\x1b[?1049l';

/**
 * The dashboard thread's script: the bundle (`npm run build`) when present, else the compiled
 * module, else (running from the TypeScript sources) the pipeline's tsx bootstrap.
 */
export function dashboardScript(): DashboardScript {
  if (import.meta.url.endsWith('.ts')) {
    return { url: new URL('../pipeline/worker-bootstrap.mjs', import.meta.url), entry: new URL('./dashboard-worker.ts', import.meta.url).href };
  }
  // Through ../ui/: the same files from dist/ui/ and from the CLI bundle's chunks in dist/cli/.
  const bundle = new URL('../ui/dashboard.bundle.js', import.meta.url);
  return { url: existsSync(bundle) ? bundle : new URL('../ui/dashboard-worker.js', import.meta.url), entry: null };
}

/** The same consumer as createDashboard's; `done` also resolves when a dead thread's terminal was restored. */
export function createThreadedDashboard(opts: ThreadedDashboardOptions): Dashboard {
  const alternateScreen = opts.alternateScreen !== false;
  const onError = opts.onError ?? ((m: string) => process.stderr.write(`portsniff: ${m}\n`));
  let worker: Worker | null = null;
  let control: SessionControl | null = null;
  let ended = false;
  let finishing = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });

  const post = (m: ToDashboard): void => {
    if (worker === null || ended) return;
    try {
      worker.postMessage(m);
    } catch (e) {
      failed(`the dashboard could not be updated: ${(e as Error).message}`);
    }
  };
  const onResize = (): void => post({ t: 'resize', columns: opts.stdout.columns, rows: opts.stdout.rows });

  /** The screen as the process found it, should the thread not have given it back. */
  const restoreTerminal = (): void => {
    try {
      writeSync((opts.stdout as NodeJS.WriteStream & { fd?: number }).fd ?? 1, SHOW_CURSOR + (alternateScreen ? LEAVE_ALTERNATE_SCREEN : ''));
    } catch {
      // The terminal is gone.
    }
  };

  const end = (): void => {
    if (ended) return;
    ended = true;
    opts.stdout.off('resize', onResize);
    process.off('exit', restoreTerminal);
    const w = worker;
    worker = null;
    if (w !== null) void w.terminate();
    resolveDone();
  };

  function failed(message: string): void {
    if (ended) return;
    restoreTerminal();
    end();
    onError(message);
    // Nothing shows the session any more: end it, so that its summary and outputs are written.
    if (!finishing) control?.stop();
  }

  const onMessage = (m: FromDashboard): void => {
    if (ended) return;
    switch (m.t) {
      case 'pause':
        control?.setPaused(m.paused);
        break;
      case 'stop':
        control?.stop();
        break;
      case 'hangup':
        // The summary goes to a terminal that is gone; the files (--flows, --alerts, --write) are complete.
        if (!finishing) control?.stop();
        break;
      case 'done':
        end();
        break;
    }
  };

  return {
    done,
    start(info: SessionInfo, sessionControl: SessionControl): void {
      if (worker !== null || ended) return;
      control = sessionControl;
      const data: DashboardThreadData = {
        portsniffDashboard: true,
        ...(opts.script.entry !== null ? { entry: opts.script.entry } : {}),
        refreshHz: opts.refreshHz,
        env: { ...opts.env },
        alternateScreen,
        keysFd: opts.keysFd,
      };
      try {
        worker = new Worker(opts.script.url, { workerData: data });
      } catch (e) {
        failed(`the dashboard could not start: ${(e as Error).message}`);
        return;
      }
      worker.on('message', onMessage);
      worker.on('error', (e) => failed(`the dashboard failed: ${e.message}`));
      worker.on('exit', (code) => failed(`the dashboard's thread ended (exit code ${code}) before giving the terminal back`));
      opts.stdout.on('resize', onResize);
      process.once('exit', restoreTerminal);
      post({ t: 'start', info });
    },
    update(u: SessionUpdate): void {
      post({ t: 'update', update: u });
    },
    finish(e: SessionEnd): Promise<void> {
      finishing = true;
      if (worker === null) end();
      else post({ t: 'finish', summary: e.summary, opened: e.opened, exitCode: e.exitCode });
      return done;
    },
    abort(): Promise<void> {
      finishing = true;
      if (worker === null) end();
      else post({ t: 'abort' });
      return done;
    },
  };
}
