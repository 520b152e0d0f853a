/**
 * The session drives every output through the SessionConsumer interface: start, periodic updates,
 * flows, finish with the summary, in that order; pause and stop from a consumer; paced replay
 * (--speed) gives the same flows and counts as a replay at full speed, in-process and with a worker.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runSession, type SessionOptions } from '../../src/cli/session.js';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { LineWriter } from '../../src/export/line-writer.js';
import type { SessionConsumer, SessionControl, SessionEnd, SessionInfo, SessionUpdate } from '../../src/export/consumer.js';
import { closeIdleWorkers } from '../../src/pipeline/pipeline.js';
import { DEFAULT_CHUNK_SIZE } from '../../src/capture/file.js';
import { writeBigCapture } from './replay-gen.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEMO = join(ROOT, 'fixtures/captures/demo.pcap');
const dir = mkdtempSync(join(tmpdir(), 'portsniff-session-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await closeIdleWorkers();
});

const OPTS: SessionOptions = { json: true, maxFlows: 262_144, idleTimeout: 120, activeTimeout: 0, top: 20, workers: 0 };

function ioTo(path: string, stderr: string[] = [], signal = new AbortController().signal): CliIo & { stdout: LineWriter } {
  return { stdout: new LineWriter(path), stderr: (l) => stderr.push(l), stdin: process.stdin, isTTY: false, signal };
}

class Recorder implements SessionConsumer {
  events: string[] = [];
  info: SessionInfo | null = null;
  control: SessionControl | null = null;
  updates: SessionUpdate[] = [];
  flows = 0;
  end: SessionEnd | null = null;
  start(info: SessionInfo, control: SessionControl): void {
    this.events.push('start');
    this.info = info;
    this.control = control;
  }
  update(u: SessionUpdate): void {
    if (this.events.at(-1) !== 'update') this.events.push('update');
    this.updates.push(u);
  }
  flow(): void {
    if (this.events.at(-1) !== 'flow') this.events.push('flow');
    this.flows++;
  }
  finish(end: SessionEnd): void {
    this.events.push('finish');
    this.end = end;
  }
}

describe('session consumers', () => {
  it('a consumer that only adds flows up (tally, as metrics) gets every flow without a record being built; with a flow log too, the same tallies', async () => {
    const seen: Array<{ record: boolean; verdict: unknown; packets: number }> = [];
    const tallier: SessionConsumer = {
      tally: (x) => seen.push({ record: 'id' in x, verdict: x.verdict, packets: x.packets!.toServer + x.packets!.toClient }),
    };
    for (const workers of [0, 2]) {
      seen.length = 0;
      const io = ioTo(join(dir, `tally-${workers}.json`));
      await runSession({ kind: 'file', name: DEMO, file: DEMO }, { ...OPTS, workers }, io, { consumers: [tallier] });
      io.stdout.close();
      const summary = JSON.parse(readFileSync(join(dir, `tally-${workers}.json`), 'utf8')) as { totals: { flows: number; packets: number } };
      expect(seen).toHaveLength(summary.totals.flows);
      expect(seen.some((x) => x.record)).toBe(false);
      expect(seen.reduce((n, x) => n + x.packets, 0)).toBe(summary.totals.packets);
      const alone = seen.map((x) => ({ ...x }));
      // A flow log makes records for every flow: the tallies stay tallies, the same ones.
      seen.length = 0;
      const withLog = ioTo(join(dir, `tally-log-${workers}.json`));
      await runSession({ kind: 'file', name: DEMO, file: DEMO }, { ...OPTS, workers, flows: join(dir, `tally-${workers}.ndjson`) }, withLog, { consumers: [tallier] });
      withLog.stdout.close();
      expect(seen).toEqual(alone);
      expect(readFileSync(join(dir, `tally-${workers}.ndjson`), 'utf8').trim().split('\n')).toHaveLength(summary.totals.flows);
    }
  });

  it('see start, updates, flows and finish in order; the last update is the final state', async () => {
    const rec = new Recorder();
    const io = ioTo(join(dir, 'a.json'));
    const code = await runSession({ kind: 'file', name: DEMO, file: DEMO }, { ...OPTS, speed: 40 }, io, { consumers: [rec], detail: true, snapshotIntervalMs: 50 });
    io.stdout.close();
    expect(code).toBe(0);
    expect(rec.events[0]).toBe('start');
    expect(rec.events.at(-1)).toBe('finish');
    expect(rec.events).toContain('update');
    expect(rec.events).toContain('flow');
    expect(rec.info).toMatchObject({ kind: 'file', name: DEMO, speed: 40, workers: 0, backend: null });
    expect(rec.info!.totalBytes).toBe(readFileSync(DEMO).length);
    expect(rec.info!.rules.length).toBeGreaterThan(50);
    expect(rec.info!.rules.find((r) => r.id === 'zeebe.gateway-grpc')).toMatchObject({ transport: 'tcp', ports: '26500', product: 'zeebe' });
    const running = rec.updates.filter((u) => u.state === 'running');
    expect(running.length).toBeGreaterThan(3);
    // Progress grows while reading; live flows show in services.
    expect(running.some((u) => u.bytesRead > 0 && u.bytesRead < rec.info!.totalBytes!)).toBe(true);
    expect(running.some((u) => u.snapshot.services.some((s) => s.liveFlows > 0) && u.snapshot.detail !== undefined)).toBe(true);
    const last = rec.updates.at(-1)!;
    expect(last.state).toBe('ended');
    expect(last.bytesRead).toBe(rec.info!.totalBytes);
    const summary = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8'));
    expect(rec.end!.summary).toEqual(summary);
    expect(last.snapshot.totals.packets).toBe(summary.totals.packets);
    expect(last.snapshot.services.map(({ liveFlows: _l, ...s }) => s)).toEqual(summary.services);
    expect(rec.flows).toBe(summary.totals.flows);
  });

  it('live flows are counted into services only for a consumer that reads services (not for a totals-only one)', async () => {
    // In-process (the worker pipeline's side is in test/pipeline/pipeline.test.ts, without timing).
    for (const workers of [0]) {
      const services = new Recorder();
      const totalsOnly = Object.assign(new Recorder(), { updateNeeds: 'totals' as const });
      const run = async (rec: Recorder, name: string): Promise<void> => {
        const io = ioTo(join(dir, `${name}-${workers}.json`));
        await runSession({ kind: 'file', name: DEMO, file: DEMO }, { ...OPTS, speed: 200, workers }, io, { consumers: [rec], snapshotIntervalMs: 40 });
        io.stdout.close();
      };
      await run(services, 'services');
      await run(totalsOnly, 'totals');
      const running = (r: Recorder) => r.updates.filter((u) => u.state === 'running' && u.snapshot.totals.liveFlows > 0);
      expect(running(services).some((u) => u.snapshot.services.some((s) => s.liveFlows > 0)), `workers ${workers}`).toBe(true);
      // The progress line (and the other totals-only consumers) cost the engine no live-flow view.
      expect(running(totalsOnly).length).toBeGreaterThan(0);
      expect(running(totalsOnly).every((u) => u.snapshot.services.every((s) => s.liveFlows === 0))).toBe(true);
      expect(totalsOnly.updates.at(-1)!.snapshot.totals).toEqual(services.updates.at(-1)!.snapshot.totals);
    }
  });

  it('stop() from a consumer ends the replay early and the summary says interrupted', async () => {
    const rec = new Recorder();
    const stopper: SessionConsumer = { update: (u) => { if (u.snapshot.totals.packets > 0) rec.control!.stop(); } };
    const io = ioTo(join(dir, 'b.json'));
    const code = await runSession({ kind: 'file', name: DEMO, file: DEMO }, { ...OPTS, speed: 20 }, io, { consumers: [rec, stopper], snapshotIntervalMs: 50 });
    io.stdout.close();
    expect(code).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8'));
    expect(summary.interrupted).toBe(true);
    expect(summary.totals.packets).toBeGreaterThan(0);
    expect(summary.totals.packets).toBeLessThan(2305);
  });

  it.each([0, 1])('pause holds a max-speed replay until resumed, and updates say paused (%i workers)', async (workers) => {
    const rec = new Recorder();
    let resumedAt = 0;
    // Resumes once three updates said paused (at 50 ms each, ~150 ms; later when a loaded machine
    // delays timers: a fixed 700 ms pause saw a single update once in a full CI run), or after 10 s.
    const pausedAt = Date.now();
    const pauser: SessionConsumer = {
      start: (_i, control) => {
        control.setPaused(true);
        const poll = setInterval(() => {
          if (rec.updates.filter((u) => u.paused).length < 3 && Date.now() - pausedAt < 10_000) return;
          clearInterval(poll);
          resumedAt = Date.now();
          control.setPaused(false);
        }, 20);
      },
    };
    // Several reads long (the demo fits in one), so that the pause lands inside the file.
    const cap = join(dir, `pause${workers}.pcap`);
    writeBigCapture(cap, 60_000);
    const size = statSync(cap).size;
    expect(size).toBeGreaterThan(2 * DEFAULT_CHUNK_SIZE);
    const io = ioTo(join(dir, `c${workers}.json`));
    await runSession({ kind: 'file', name: cap, file: cap }, { ...OPTS, workers }, io, { consumers: [pauser, rec], snapshotIntervalMs: 50 });
    io.stdout.close();
    const pausedUpdates = rec.updates.filter((u) => u.paused);
    expect(pausedUpdates.length).toBeGreaterThanOrEqual(2);
    // While paused at most the first chunk was read.
    expect(Math.max(...pausedUpdates.map((u) => u.bytesRead))).toBeLessThanOrEqual(DEFAULT_CHUNK_SIZE);
    expect(rec.updates.filter((u) => u.wallMs < resumedAt).every((u) => u.paused)).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, `c${workers}.json`), 'utf8')).totals.packets).toBe(60_000);
    // The progress (bytes read) reaches the whole file, also when the worker read it.
    expect(rec.updates.at(-1)!.bytesRead).toBe(size);
  });
});

describe('replay --speed', () => {
  async function replayJson(args: string[], name: string): Promise<{ summary: string; flows: string; ms: number; stderr: string[] }> {
    const stderr: string[] = [];
    const io = ioTo(join(dir, `${name}.json`), stderr);
    io.progress = true;
    const t0 = performance.now();
    const code = await main(['replay', DEMO, '--json', '--flows', join(dir, `${name}.ndjson`), ...args], io);
    const ms = performance.now() - t0;
    io.stdout.close();
    expect(code, stderr.join('\n')).toBe(0);
    return { summary: readFileSync(join(dir, `${name}.json`), 'utf8'), flows: readFileSync(join(dir, `${name}.ndjson`), 'utf8'), ms, stderr };
  }

  it('plays at the recorded pace and gives the same flows and summary as full speed, with 0 and 1 workers', async () => {
    const max = await replayJson(['--workers', '0'], 'max');
    expect((await replayJson(['--workers', '0', '--speed', 'max'], 'max2')).flows).toBe(max.flows);
    // The demo spans 107 s of capture time: 40x plays it in about 2.7 s.
    const paced = await replayJson(['--workers', '0', '--speed', '40x'], 'paced');
    expect(paced.ms).toBeGreaterThan(0.9 * (107_000 / 40));
    expect(paced.flows).toBe(max.flows);
    expect(paced.summary).toBe(max.summary);
    const worker = await replayJson(['--workers', '1', '--speed', '80x'], 'paced1');
    expect(worker.flows).toBe(max.flows);
    expect(worker.summary).toBe(max.summary.replace('"workers": 0', '"workers": 1'));
    // Runs longer than 2 s print the progress line on stderr, with the file's % and an ETA.
    expect(paced.stderr.some((l) => /^portsniff: \S+ packets \(.*\/s, .*bit\/s\), \d+ flows .*% of .*demo\.pcap, ETA/.test(l))).toBe(true);
  });

  it('rejects a bad factor as a usage error', async () => {
    const stderr: string[] = [];
    const io = ioTo(join(dir, 'bad.json'), stderr);
    expect(await main(['replay', DEMO, '--speed', 'fast'], io)).toBe(2);
    expect(stderr.join('\n')).toMatch(/--speed must be max, 1x, 10x/);
  });
});
