/**
 * The live sensor with the fleet outputs, as a process capturing on lo (root only; skipped with a
 * visible message otherwise): a long flow is reported every --active-timeout while it lasts, the
 * --flows file is written while the capture runs (flushed every second, not at exit), /metrics has
 * the tcpdump backend's kernel drop counter (0, present) and the live flows, SIGTERM ends cleanly.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClassifiedFlow } from '../../src/pipeline/results.js';
import { canCapture, exitOf, freeServerPort, waitForLine } from '../capture/live/env.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'portsniff-fleet-live-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const canRun = canCapture('tcpdump', 'live fleet sensor test');

describe.skipIf(!canRun)('portsniff live as a fleet sensor', () => {
  it('reports a long flow while it lasts, writes the flow log as it goes, serves drop counters', async () => {
    const port = await freeServerPort();
    const flows = join(dir, 'flows.ndjson');
    const child = spawn(
      process.execPath,
      [MAIN, 'live', 'lo', '--filter', `udp port ${port}`, '--no-progress', '--active-timeout', '1', '--flows', flows, '--metrics', '127.0.0.1:0', '--json', '--workers', '0'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    const metricsLine = waitForLine(child, /^portsniff: metrics at /);
    await waitForLine(child, /^portsniff: capturing on lo/);
    const url = /(http:\S+\/metrics)/.exec(await metricsLine)![1]!;
    // One flow (one socket, so one source port) for ~4 s, a datagram every 250 ms.
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const sender = (async () => {
      for (let i = 0; i < 16; i++) {
        await new Promise<void>((resolve, reject) => socket.send(`tick-${i}`, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
        await new Promise((r) => setTimeout(r, 250));
      }
      socket.close();
    })();
    await new Promise((r) => setTimeout(r, 3500));
    // While the capture still runs: records of the active timeout are already in the file.
    expect(child.exitCode).toBeNull();
    expect(existsSync(flows)).toBe(true);
    const early = readFileSync(flows, 'utf8').split('\n').filter(Boolean);
    expect(early.length).toBeGreaterThan(0);
    const text = await (await fetch(url)).text();
    expect(text).toMatch(/^portsniff_dropped_packets_total\{stage="kernel"\} 0$/m);
    expect(text).toMatch(/^portsniff_dropped_packets_total\{stage="engine"\} 0$/m);
    expect(text).toMatch(/^portsniff_flow_records_total\{.*service="unknown".*\} [1-9]/m);
    await sender;
    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
    const summary = JSON.parse(stdout) as { options: { activeTimeout: number }; totals: { packets: number } };
    expect(summary.options.activeTimeout).toBe(1);
    const records = readFileSync(flows, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ClassifiedFlow);
    expect(records.filter((r) => r.continued).length).toBeGreaterThan(0);
    expect(records.reduce((n, r) => n + r.packets!.toServer, 0)).toBe(summary.totals.packets);
  }, 60_000);

});

describe('live defaults', () => {
  it('--active-timeout is 60 s for live, 0 for replay', async () => {
    const help = async (cmd: string): Promise<string> => {
      const p = spawn(process.execPath, [MAIN, cmd, '--help']);
      let out = '';
      p.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
      await exitOf(p);
      return out;
    };
    expect(await help('live')).toMatch(/--active-timeout <seconds>[\s\S]*?\(default: 60\)/);
    expect(await help('replay')).toMatch(/--active-timeout <seconds>[\s\S]*?\(default: 0\)/);
  });
});
