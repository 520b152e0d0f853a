/**
 * Which runs let the pipeline hand the flow log each flow's JSON text instead of its record
 * (PipelineOptions.flowsAsJson: made where the engine runs, one string per flow across threads):
 * a flow log that nothing else reads. The text summary's largest flows, exporters and alerts read
 * records, so they keep them. The options the session creates its pipeline with are recorded; the
 * runs themselves are real, and their flow logs must be the same either way.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PipelineOptions } from '../../src/pipeline/pipeline.js';

const created = vi.hoisted(() => [] as PipelineOptions[]);

vi.mock('../../src/pipeline/pipeline.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/pipeline/pipeline.js')>();
  return {
    ...actual,
    createPipeline: (opts: PipelineOptions) => {
      created.push(opts);
      return actual.createPipeline(opts);
    },
  };
});

const { main } = await import('../../src/cli/main.js');
const { LineWriter } = await import('../../src/export/line-writer.js');
const { closeIdleWorkers } = await import('../../src/pipeline/pipeline.js');
const { DEMO_CAPTURE } = await import('../../fixtures/gen/demo.js');

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'portsniff-flow-json-'));
});
afterAll(async () => {
  await closeIdleWorkers();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a replay; returns whether its pipeline was asked for JSON lines, and the flow log it wrote. */
async function run(args: string[]): Promise<{ asJson: boolean; log: string }> {
  created.length = 0;
  const flows = join(dir, `flows-${Math.random().toString(36).slice(2)}.ndjson`);
  const stdout = new LineWriter(join(dir, 'stdout'));
  const stderr: string[] = [];
  const argv = ['replay', DEMO_CAPTURE, ...args.map((a) => (a === 'FLOWS' ? flows : a === 'ALERTS' ? join(dir, 'alerts.ndjson') : a))];
  const code = await main(argv, { stdout, stderr: (l) => stderr.push(l), stdin: process.stdin, isTTY: false, signal: new AbortController().signal });
  stdout.close();
  expect(stderr).toEqual([]);
  expect(code).toBe(0);
  expect(created).toHaveLength(1);
  let log = '';
  try {
    log = readFileSync(flows, 'utf8');
  } catch {
    /* no flow log asked for */
  }
  return { asJson: created[0]!.flowsAsJson === true, log };
}

describe('flow lines made by the pipeline', () => {
  it('for a flow log alone: --json, or the text summary with --top 0; with 0, 1 or 2 workers, the same log as from records', async () => {
    const fromRecords = await run(['--flows', 'FLOWS', '--workers', '0']);
    expect(fromRecords.asJson).toBe(false);
    expect(fromRecords.log.split('\n').length).toBeGreaterThan(50);
    for (const workers of ['0', '1', '2']) {
      const r = await run(['--json', '--flows', 'FLOWS', '--workers', workers]);
      expect(r.asJson).toBe(true);
      expect(r.log).toBe(fromRecords.log);
    }
    const top0 = await run(['--top', '0', '--flows', 'FLOWS', '--workers', '1']);
    expect(top0.asJson).toBe(true);
    expect(top0.log).toBe(fromRecords.log);
  });

  it('not when records have other readers: the text summary\'s largest flows, --alerts; nor without a flow log', async () => {
    expect((await run(['--flows', 'FLOWS', '--workers', '1'])).asJson).toBe(false);
    expect((await run(['--json', '--flows', 'FLOWS', '--alerts', 'ALERTS', '--workers', '1'])).asJson).toBe(false);
    expect((await run(['--json', '--workers', '1'])).asJson).toBe(false);
  });
});
