/**
 * Threads started ahead (prestartWorkers, for the CLI's entry) wait idle, unref'd, and are the ones
 * the next pipeline takes; a thread whose script fails while it waits is dropped without taking
 * the process down.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { closeIdleWorkers, idleWorkerCount, prestartWorkers, takeWorker, workerScript, type WorkerScript } from '../../src/pipeline/worker-threads.js';
import { options, runPipeline } from './helpers.js';
import { mixedCapture } from './mixed-capture.js';

const dir = mkdtempSync(join(tmpdir(), 'portsniff-threads-'));
afterAll(async () => {
  await closeIdleWorkers();
  rmSync(dir, { recursive: true, force: true });
});

describe('prestartWorkers', () => {
  it('keeps the threads idle for the next takeWorker, then starts new ones', async () => {
    const script = workerScript(undefined);
    await closeIdleWorkers();
    const started = prestartWorkers(2, script);
    expect(idleWorkerCount(script)).toBe(2);
    const a = takeWorker(script, undefined);
    const b = takeWorker(script, undefined);
    expect(started).toContain(a);
    expect(started).toContain(b);
    expect(a).not.toBe(b);
    expect(idleWorkerCount(script)).toBe(0);
    const c = takeWorker(script, undefined);
    expect(started).not.toContain(c);
    await Promise.all([a, b, c].map((w) => w.terminate()));
  });

  it('a pipeline runs on prestarted threads with the same results', async () => {
    const file = join(dir, 'mixed.pcap');
    writeFileSync(file, mixedCapture({ seed: 9, conversations: 300 }).pcap);
    const inProcess = await runPipeline(file, options(0));
    await closeIdleWorkers();
    prestartWorkers(2);
    const run = await runPipeline(file, options(2));
    expect(idleWorkerCount(workerScript(undefined))).toBe(2); // taken, then kept again after a clean run
    expect(run.flows).toEqual(inProcess.flows);
    expect(run.result.totals).toEqual(inProcess.result.totals);
  });

  it('a thread whose script fails while idle is dropped, and the process goes on', async () => {
    const bad = join(dir, 'bad-worker.mjs');
    writeFileSync(bad, "throw new Error('cannot start');\n");
    const script: WorkerScript = { url: pathToFileURL(bad), entry: null };
    const [w] = prestartWorkers(1, script);
    const exited = new Promise((resolve) => w!.once('exit', resolve));
    await exited;
    await vi.waitFor(() => expect(idleWorkerCount(script)).toBe(0));
  });
});
