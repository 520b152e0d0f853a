/**
 * The terminal dashboard as a session consumer (export/consumer.ts).
 *
 *   const ui = createDashboard({ stdout: process.stdout, stdin: process.stdin, refreshHz: 4 });
 *   // the session calls ui.start(info, control), ui.update(u) a few times a second, await ui.finish(end)
 *
 * - start() mounts Ink on `stdout` (the caller checks that stdout is a TTY; keys are read only when
 *   stdin can go raw: `stdin.isTTY === true`), on the alternate screen unless told otherwise.
 * - update() only stores the update. A timer at `refreshHz` (default 4) turns the newest stored
 *   update into a frame (rates from the updates before it) and publishes it: React renders at most
 *   refreshHz times per second plus once per key, whatever the update rate.
 * - `p` calls control.setPaused(). Live: the session keeps capturing and the display freezes on the
 *   last frame (sort, filter and drill-down keep working on it). Replay: the session stops reading.
 * - `q` / Ctrl-C while running calls control.stop(); the session ends and calls finish(). Pressed
 *   again before finish() arrives, the dashboard unmounts at once (the terminal is given back; finish
 *   then resolves immediately).
 * - finish(end): a replay (file or stdin) that reached its end without interruption or error stays
 *   on its final state with "replay finished: q to quit" until `q`, with the summary's final
 *   coverage report in the coverage view; anything else unmounts at once.
 * - abort() (the session failed) unmounts at once.
 *   The returned promise (and `done`) resolve once the terminal is clean: frame erased, cursor shown,
 *   raw mode off, back on the normal screen. The dashboard prints nothing itself; the session prints the summary afterwards.
 *
 * Importing this module has no side effects (the CLI loads it lazily after setting NODE_ENV).
 */
import { render, type Instance } from 'ink';
import type { SessionConsumer, SessionControl, SessionEnd, SessionInfo, SessionUpdate } from '../export/consumer.js';
import type { RunSummary } from '../export/summary.js';
import { App, type FrameSource } from './App.js';
import { ColourContext, colourAllowed } from './components/theme.js';
import { FrameBuilder, type Frame, type SessionStatus } from './view-model/frame.js';

export interface DashboardOptions {
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  /** Frames per second at most (the CLI's --refresh); default 4, clamped to 0.2-30. */
  refreshHz?: number;
  /** Environment (NO_COLOR); default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Instrumentation (bench/ui.ts): called after every frame Ink renders, with its render time in ms. */
  onRender?: (renderMs: number) => void;
  /**
   * Draw on the terminal's alternate screen (default true), like htop or k9s: resizing cannot push
   * frame fragments into the scrollback, and the screen the user had comes back at the end (the
   * summary is then printed below it).
   */
  alternateScreen?: boolean;
}

export interface Dashboard extends SessionConsumer {
  start(info: SessionInfo, control: SessionControl): void;
  update(update: SessionUpdate): void;
  finish(end: SessionEnd): Promise<void>;
  /** The session failed: give the terminal back now (resolves when it is clean). */
  abort(): Promise<void>;
  /** Resolves when the dashboard has unmounted and the terminal is clean. */
  readonly done: Promise<void>;
}

export const DEFAULT_REFRESH_HZ = 4;
/** DEC private mode 1049: save the cursor and switch to the alternate screen (cleared, cursor home). */
const ENTER_ALTERNATE_SCREEN = '\x1b[?1049h\x1b[H';
const LEAVE_ALTERNATE_SCREEN = '\x1b[?1049l';
/** Ink's default maxFps is 30: a pending frame is written within ~34 ms. */
const FLUSH_MS = 60;

class FrameStore implements FrameSource {
  private frame: Frame | null = null;
  private status: SessionStatus = 'running';
  private summary: RunSummary | null = null;
  private readonly listeners = new Set<() => void>();

  current(): { frame: Frame | null; status: SessionStatus; summary: RunSummary | null } {
    return { frame: this.frame, status: this.status, summary: this.summary };
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  publish(frame: Frame | null, status: SessionStatus, summary: RunSummary | null = this.summary): void {
    if (frame === this.frame && status === this.status && summary === this.summary) return;
    this.frame = frame;
    this.status = status;
    this.summary = summary;
    for (const l of this.listeners) l();
  }

  get currentStatus(): SessionStatus {
    return this.status;
  }
}

export function createDashboard(opts: DashboardOptions): Dashboard {
  const hz = Number.isFinite(opts.refreshHz) && opts.refreshHz! > 0 ? Math.min(30, Math.max(0.2, opts.refreshHz!)) : DEFAULT_REFRESH_HZ;
  const env = opts.env ?? process.env;
  const store = new FrameStore();
  const builder = new FrameBuilder();
  let info: SessionInfo | null = null;
  let control: SessionControl | null = null;
  let instance: Instance | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let latest: SessionUpdate | null = null;
  let frozen = false;
  let quitRequested = false;
  let unmounted = false;
  let onAlternateScreen = false;
  const useAlternateScreen = opts.alternateScreen !== false;
  /** Back to the normal screen; also on process exit, should the session die with the dashboard up. */
  const leaveAlternateScreen = (): void => {
    if (!onAlternateScreen) return;
    onAlternateScreen = false;
    process.off('exit', leaveAlternateScreen);
    try {
      opts.stdout.write(LEAVE_ALTERNATE_SCREEN);
    } catch {
      // The terminal is gone.
    }
  };
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });

  const isLive = (): boolean => info !== null && (info.kind === 'live' || info.kind === 'proxy');

  let lastIngested: SessionUpdate | null = null;
  let shownFrame: Frame | null = null;

  /** Folds the newest update into the history and publishes its frame, unless the view is frozen. */
  const tick = (status: SessionStatus = store.currentStatus, summary?: RunSummary): void => {
    if (latest !== null && latest !== lastIngested) {
      builder.ingest(latest);
      lastIngested = latest;
    }
    if (!frozen && lastIngested !== null && shownFrame?.update !== lastIngested) shownFrame = builder.build(lastIngested);
    store.publish(shownFrame, status, summary);
  };

  const stopTimer = (): void => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };

  const unmount = (): void => {
    if (unmounted) return;
    unmounted = true;
    stopTimer();
    const inst = instance;
    instance = null;
    if (inst === null) {
      leaveAlternateScreen();
      resolveDone();
      return;
    }
    // Ink writes frames through a throttle (maxFps): a frame still pending when clear() runs would be
    // written after the erase, over the summary. So: render nothing (raw mode goes off with the
    // input hook), let that land, then erase it and unmount (which shows the cursor again).
    try {
      inst.rerender(<></>);
    } catch {
      // A closed terminal: nothing left to draw on.
    }
    setTimeout(() => {
      try {
        inst.clear();
        inst.unmount();
      } catch {
        // As above.
      }
      const after = (): void => {
        leaveAlternateScreen();
        resolveDone();
      };
      inst.waitUntilExit().then(after, after);
    }, FLUSH_MS);
  };

  const onPause = (paused: boolean): void => {
    if (unmounted || store.currentStatus !== 'running') return;
    frozen = paused && isLive();
    control?.setPaused(paused);
    if (!frozen) tick();
  };

  const onQuit = (): void => {
    if (unmounted) return;
    if (store.currentStatus === 'finished' || control === null) {
      unmount();
      return;
    }
    if (quitRequested) {
      // Asked twice: give the terminal back now; the session finishes on its own.
      unmount();
      return;
    }
    quitRequested = true;
    frozen = false;
    tick('stopping');
    control.stop();
  };

  return {
    done,
    start(sessionInfo: SessionInfo, sessionControl: SessionControl): void {
      if (instance !== null || unmounted) return;
      info = sessionInfo;
      control = sessionControl;
      const inputActive = opts.stdin.isTTY === true && typeof opts.stdin.setRawMode === 'function';
      if (useAlternateScreen) {
        opts.stdout.write(ENTER_ALTERNATE_SCREEN);
        onAlternateScreen = true;
        process.once('exit', leaveAlternateScreen);
      }
      instance = render(
        <ColourContext.Provider value={colourAllowed(env)}>
          <App info={sessionInfo} source={store} inputActive={inputActive} onPause={onPause} onQuit={onQuit} />
        </ColourContext.Provider>,
        {
          stdout: opts.stdout,
          stdin: opts.stdin,
          exitOnCtrlC: false,
          patchConsole: false,
          ...(opts.onRender ? { onRender: (m: { renderTime: number }) => opts.onRender!(m.renderTime) } : {}),
        },
      );
      timer = setInterval(() => tick(), Math.round(1000 / hz));
    },
    update(u: SessionUpdate): void {
      latest = u;
    },
    finish(end: SessionEnd): Promise<void> {
      if (unmounted || instance === null) {
        unmount();
        return done;
      }
      stopTimer();
      const completed =
        info !== null &&
        (info.kind === 'file' || info.kind === 'stdin') &&
        !quitRequested &&
        end.opened !== false &&
        !end.summary.interrupted &&
        end.summary.source.error === null;
      if (!completed) {
        unmount();
        return done;
      }
      frozen = false;
      tick('finished', end.summary);
      return done;
    },
    abort(): Promise<void> {
      unmount();
      return done;
    },
  };
}
