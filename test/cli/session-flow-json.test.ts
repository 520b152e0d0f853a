/**
 * Which runs let the pipeline hand the flow log each flow's JSON text instead of its record
 * (PipelineOptions.flowsAsJson: made where the engine runs, one string per flow across threads):
 * a flow log that is the only reader of every record. Exporters and alerts read every record, so
 * they keep them; the text summary reads only its lists' few (largestRecords). The options the
 * session creates its pipeline with are recorded; the runs themselves are real, and their flow
 * logs and summaries must be the same either way.
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

/** Runs a replay; returns whether its pipeline was asked for JSON lines, the flow log it wrote and its stdout. */
async function run(args: string[]): Promise<{ asJson: boolean; log: string; stdout: string }> {
  created.length = 0;
  const flows = join(dir, `flows-${Math.random().toString(36).slice(2)}.ndjson`);
  const out = join(dir, `stdout-${Math.random().toString(36).slice(2)}`);
  const stdout = new LineWriter(out);
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
  return { asJson: created[0]!.flowsAsJson === true, log, stdout: readFileSync(out, 'utf8') };
}

describe('flow lines made by the pipeline', () => {
  it('for a flow log that is the only reader of every record: with 0, 1 or 2 workers, the same log as from records', async () => {
    // --alerts reads records: the log then comes from them.
    const fromRecords = await run(['--json', '--flows', 'FLOWS', '--alerts', 'ALERTS', '--workers', '0']);
    expect(fromRecords.asJson).toBe(false);
    expect(fromRecords.log.split('\n').length).toBeGreaterThan(50);
    for (const workers of ['0', '1', '2']) {
      const r = await run(['--json', '--flows', 'FLOWS', '--workers', workers]);
      expect(r.asJson).toBe(true);
      expect(r.log).toBe(fromRecords.log);
    }
  });

  it('with the text summary too: its largest flows and violations come from the few records it asks for, the same as without a flow log', async () => {
    const summaryOnly = await run(['--workers', '0']);
    expect(summaryOnly.stdout).toMatch(/top \d+ flows by bytes/);
    expect(summaryOnly.stdout).toContain('exposure violations');
    const fromRecords = await run(['--json', '--flows', 'FLOWS', '--alerts', 'ALERTS', '--workers', '0']);
    for (const workers of ['0', '1', '2']) {
      const r = await run(['--flows', 'FLOWS', '--workers', workers]);
      expect(r.asJson).toBe(true);
      expect(r.log).toBe(fromRecords.log);
      expect(r.stdout).toBe(summaryOnly.stdout);
    }
  });

  it('not when records have other readers (--alerts), nor without a flow log', async () => {
    expect((await run(['--json', '--flows', 'FLOWS', '--alerts', 'ALERTS', '--workers', '1'])).asJson).toBe(false);
    expect((await run(['--flows', 'FLOWS', '--alerts', 'ALERTS', '--workers', '1'])).asJson).toBe(false);
    expect((await run(['--json', '--workers', '1'])).asJson).toBe(false);
  });
});
