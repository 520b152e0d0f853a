/**
 * A flow log on a busy link: `replay --flows FILE` of a generated capture where ~117k short flows
 * end (mostly DNS, the flood's mix), measured in a child process with /usr/bin/time (peak RSS of
 * the whole process, both threads with --workers 1). The bounds are generous (about 1.5x what the
 * run takes now); before the fix, DNS names kept per live flow as one-char-per-node ropes and flow
 * records queued in the worker and in the main thread took 313 MB with --workers 0 and 776 MB with
 * --workers 1. Timing is not asserted here (bench/README.md "Flow log").
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCapture, parseGenArgs } from '../../bench/gen-capture.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');
const TIME = '/usr/bin/time';
const MB = 1024 * 1024;

let dir = '';
let capture = '';

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does)`);
  if (!existsSync(TIME)) throw new Error(`${TIME} is missing: scripts/setup.sh installs it (Debian package time)`);
  dir = mkdtempSync(join(tmpdir(), 'portsniff-flowlog-mem-'));
  capture = join(dir, 'many-flows.pcap');
  generateCapture(parseGenArgs(['--packets', '300000', '--flows', '150000', '--out', capture]));
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** Runs a replay writing the flow log to `flows`; returns the peak RSS in bytes and the JSON summary. */
function replayWithFlowLog(workers: number, flows: string): { peakRss: number; flowsCounted: number } {
  const r = spawnSync(TIME, ['-f', 'peak-rss-kb %M', process.execPath, MAIN, 'replay', capture, '--json', '--flows', flows, '--workers', String(workers)], {
    encoding: 'utf8',
    maxBuffer: 64 * MB,
  });
  expect(r.status, r.stderr).toBe(0);
  const m = /peak-rss-kb (\d+)/.exec(r.stderr);
  expect(m, r.stderr).not.toBeNull();
  return { peakRss: Number(m![1]) * 1024, flowsCounted: (JSON.parse(r.stdout) as { totals: { flows: number } }).totals.flows };
}

describe('a flow log of many short flows', () => {
  it('--workers 0: bounded memory, one line per flow', () => {
    const out = join(dir, 'flows-0.ndjson');
    const { peakRss, flowsCounted } = replayWithFlowLog(0, out);
    expect(flowsCounted).toBeGreaterThan(100_000);
    expect(readFileSync(out, 'utf8').split('\n').length - 1).toBe(flowsCounted);
    expect(peakRss).toBeLessThan(240 * MB);
  }, 120_000);

  it('--workers 1: bounded memory (flows posted in small batches, also at the end), the same bytes as --workers 0', () => {
    const out = join(dir, 'flows-1.ndjson');
    const { peakRss } = replayWithFlowLog(1, out);
    const in0 = join(dir, 'flows-0.ndjson');
    if (existsSync(in0)) {
      expect(statSync(out).size).toBe(statSync(in0).size);
      expect(readFileSync(out).equals(readFileSync(in0))).toBe(true);
    }
    expect(peakRss).toBeLessThan(420 * MB);
  }, 120_000);
});
