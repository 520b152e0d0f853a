/**
 * The dashboard's own thread: Ink and React draw here, on the terminal's file descriptors, so that
 * frames (~20 ms each, mostly Ink's cell grid and Yoga) and key handling run on another core than
 * the engine, and a key reaches the screen whatever the engine thread is doing.
 *
 * Started by ui/dashboard-thread.ts with this module (or the bundle built from it) as the worker
 * script. The module is also the bundle's entry (scripts/bundle-dashboard.mjs): imported as a plain
 * module, it only re-exports createDashboard and starts nothing.
 *
 * Terminal: stdout is a tty.WriteStream of fd 1, keys a tty.ReadStream of the descriptor the
 * session gave (fd 0, or /dev/tty when stdin carries the capture; this stream closes it). Signals
 * reach only the main thread: the session's thread forwards SIGWINCH ({t: 'resize'}), and this
 * thread also polls the window size (one ioctl) at its refresh rate, so a resize is drawn even
 * while the session's thread is busy. Ctrl-C arrives as a key while raw mode is on.
 */
import tty from 'node:tty';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { SessionControl } from '../export/consumer.js';
import type { RunSummary } from '../export/summary.js';
import { createDashboard } from './dashboard.js';
import type { DashboardThreadData, FromDashboard, ToDashboard } from './dashboard-protocol.js';

export { createDashboard } from './dashboard.js';
// The bundle test reads how frames were written (Ink's output stage is replaced in the bundle).
export { fastOutputStats } from './fast-output.js';

function isDashboardThread(data: unknown): data is DashboardThreadData {
  return typeof data === 'object' && data !== null && (data as DashboardThreadData).portsniffDashboard === true;
}

/** Tells Ink the terminal's size, if it changed. */
function applySize(stdout: tty.WriteStream, columns: number, rows: number): void {
  if (!(columns > 0 && rows > 0) || (columns === stdout.columns && rows === stdout.rows)) return;
  stdout.columns = columns;
  stdout.rows = rows;
  stdout.emit('resize');
}

/**
 * Asks the terminal for its size (one ioctl). tty.WriteStream.getWindowSize() only returns the
 * cached size; the stream's own refresh, which the main thread runs on SIGWINCH, asks the kernel.
 */
function pollSize(stdout: tty.WriteStream): void {
  const s = stdout as tty.WriteStream & { _refreshSize?: () => void };
  try {
    s._refreshSize?.();
  } catch {
    // The terminal is gone.
  }
}

function run(data: DashboardThreadData, port: NonNullable<typeof parentPort>): void {
  const post = (m: FromDashboard): void => port.postMessage(m);
  const stdout = new tty.WriteStream(1);
  const stdin = new tty.ReadStream(data.keysFd);
  const ui = createDashboard({
    stdout,
    stdin,
    refreshHz: data.refreshHz,
    env: data.env,
    alternateScreen: data.alternateScreen,
  });
  const control: SessionControl = {
    setPaused: (paused) => post({ t: 'pause', paused }),
    stop: () => post({ t: 'stop' }),
  };
  // At the refresh rate; never more often than 4 times a second (it is only a fallback).
  const sizePoll = setInterval(() => pollSize(stdout), Math.max(250, Math.round(1000 / data.refreshHz)));
  // The terminal went away (ssh dropped, tmux killed): keys end with EOF or EIO, frames fail with
  // EIO. Nobody is watching: the session stops (and writes its outputs) and the dashboard ends.
  let released = false;
  let hungUp = false;
  const hangup = (): void => {
    if (released || hungUp) return;
    hungUp = true;
    post({ t: 'hangup' });
    void ui.abort();
  };
  stdin.on('end', hangup);
  stdin.on('close', hangup);
  stdin.on('error', hangup);
  stdout.on('error', hangup);
  void ui.done.then(() => {
    released = true;
    clearInterval(sizePoll);
    // Release the terminal's handles so that the thread can end; the session may print now.
    stdin.destroy();
    post({ t: 'done' });
    port.close();
  });
  port.on('message', (m: ToDashboard) => {
    switch (m.t) {
      case 'start':
        ui.start(m.info, control);
        break;
      case 'update':
        ui.update(m.update);
        break;
      case 'finish':
        // The dashboard reads only the summary and whether the input opened.
        void ui.finish({ summary: m.summary as RunSummary, opened: m.opened, exitCode: m.exitCode, topFlows: [], violations: [] });
        break;
      case 'abort':
        void ui.abort();
        break;
      case 'resize':
        applySize(stdout, m.columns, m.rows);
        break;
    }
  });
}

if (!isMainThread && parentPort !== null && isDashboardThread(workerData)) run(workerData, parentPort);
