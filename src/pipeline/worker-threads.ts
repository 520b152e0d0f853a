/**
 * Worker threads for the pipeline: which script to start (compiled JS, or the .ts sources through
 * a bootstrap under tsx/vitest) and a small cache of idle threads that finished cleanly, so a
 * process running many pipelines (the test suite) need not start new threads for each.
 */
import type { ResourceLimits, Worker } from 'node:worker_threads';
import { nodeWorkerThreads } from '../util/builtins.js';

export interface WorkerScript {
  url: URL;
  /** For the development bootstrap: the .ts module it imports. */
  entry: string | null;
}

export function workerScript(workerUrl: URL | undefined): WorkerScript {
  if (workerUrl !== undefined) return { url: workerUrl, entry: null };
  if (import.meta.url.endsWith('.ts')) {
    // Running from sources (tsx, vitest): Node cannot start a .ts worker by itself.
    return { url: new URL('./worker-bootstrap.mjs', import.meta.url), entry: new URL('./worker.ts', import.meta.url).href };
  }
  return { url: new URL('./worker.js', import.meta.url), entry: null };
}

/**
 * Threads of pipelines that finished cleanly, kept (unref'd: they never keep the process alive) for
 * the next pipeline of the same process. A CLI run has one pipeline and never reuses them; tests
 * run hundreds and would otherwise start a thread (~100 ms) for each worker of each.
 */
const idleWorkers = new Map<string, Worker[]>();
const MAX_IDLE_WORKERS = 8;

export function takeWorker(script: WorkerScript, limits: ResourceLimits | undefined): Worker {
  if (limits === undefined) {
    const w = idleWorkers.get(script.url.href)?.pop();
    if (w !== undefined) {
      w.removeAllListeners('exit');
      w.removeAllListeners('error');
      w.ref();
      return w;
    }
  }
  const { Worker } = nodeWorkerThreads();
  return new Worker(script.url, {
    workerData: script.entry !== null ? { entry: script.entry } : {},
    ...(limits !== undefined ? { resourceLimits: limits } : {}),
  });
}

export function keepIdle(script: WorkerScript, w: Worker): void {
  const list = idleWorkers.get(script.url.href) ?? [];
  if (list.length >= MAX_IDLE_WORKERS) {
    void w.terminate();
    return;
  }
  w.unref();
  // A thread that dies while idle is forgotten (its error, e.g. a script that failed to load, is
  // not the process's: the pipeline that wanted a thread starts a new one).
  w.once('exit', () => {
    const i = list.indexOf(w);
    if (i >= 0) list.splice(i, 1);
  });
  w.on('error', () => {});
  list.push(w);
  idleWorkers.set(script.url.href, list);
}

/** Idle threads kept for `script` (tests). */
export function idleWorkerCount(script: WorkerScript): number {
  return idleWorkers.get(script.url.href)?.length ?? 0;
}

/**
 * Starts `count` threads of the worker script now and keeps them idle for the pipeline the CLI is
 * about to create. A thread takes ~50 ms to start (Node's bootstrap, then compiling the engine's
 * code); started before the main thread loads its own code, it is ready by the time the pipeline
 * wants it instead of after. Returns the threads (tests).
 */
export function prestartWorkers(count: number, script: WorkerScript = workerScript(undefined)): Worker[] {
  const started: Worker[] = [];
  // More than the idle cache keeps would be ended again at once.
  for (let i = 0; i < Math.min(count, MAX_IDLE_WORKERS); i++) {
    const w = new (nodeWorkerThreads().Worker)(script.url, { workerData: script.entry !== null ? { entry: script.entry } : {} });
    keepIdle(script, w);
    started.push(w);
  }
  return started;
}

/** Ends the idle threads kept for reuse (tests; a CLI process simply exits). */
export async function closeIdleWorkers(): Promise<void> {
  const all = [...idleWorkers.values()].flat();
  idleWorkers.clear();
  await Promise.all(all.map((w) => w.terminate()));
}

