/**
 * Messages between the session's thread and the dashboard's own thread (ui/dashboard-thread.ts,
 * ui/dashboard-worker.ts). Plain data only: everything crosses by structured clone.
 */
import type { SessionInfo, SessionUpdate } from '../export/consumer.js';
import type { RunSummary } from '../export/summary.js';

/** What the dashboard thread starts with (its workerData). */
export interface DashboardThreadData {
  /** Development only (tsx): the .ts module the bootstrap imports. */
  entry?: string;
  /** Marks the thread as the dashboard's (the bundle is also imported as a plain module). */
  portsniffDashboard: true;
  refreshHz: number;
  env: Record<string, string | undefined>;
  alternateScreen: boolean;
  /**
   * The terminal's descriptor to read keys from: 0 (stdin), or /dev/tty opened by the main thread
   * for this thread (its key stream is the one closer; cli/terminal.ts).
   */
  keysFd: number;
}

/** Session → dashboard. */
export type ToDashboard =
  | { t: 'start'; info: SessionInfo }
  | { t: 'update'; update: SessionUpdate }
  /** `summary` and `opened` are all the dashboard reads of SessionEnd (the flow lists stay behind). */
  | { t: 'finish'; summary: RunSummary; opened: boolean; exitCode: number }
  | { t: 'abort' }
  /** The terminal was resized (only the main thread hears SIGWINCH): its new size. */
  | { t: 'resize'; columns: number; rows: number };

/** Dashboard → session. */
export type FromDashboard =
  | { t: 'pause'; paused: boolean }
  | { t: 'stop' }
  /** The terminal is gone (stdin ended, or a frame could not be written): stop the session. */
  | { t: 'hangup' }
  /** The terminal is clean (frame erased, raw mode off, normal screen): the session may print. */
  | { t: 'done' };
