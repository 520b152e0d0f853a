/**
 * Which runs let the classifier inspect only what verdicts need (classifier.ts `verdictsOnly`): a
 * summary alone (--json, or text with --top 0) does; a flow log, the text summary's largest flows,
 * fleet outputs and live views (they show a flow's evidence) do not. The classification spec the
 * in-process pipeline builds its classifier from is recorded; the runs themselves are real.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ClassificationSpec } from '../../src/pipeline/classification.js';

const specs = vi.hoisted(() => [] as (ClassificationSpec | null)[]);

vi.mock('../../src/pipeline/classification.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/pipeline/classification.js')>();
  return {
    ...actual,
    buildClassification: (spec: ClassificationSpec | null) => {
      specs.push(spec);
      return actual.buildClassification(spec);
    },
  };
});

const { main } = await import('../../src/cli/main.js');
const { LineWriter } = await import('../../src/export/line-writer.js');
const { DEMO_CAPTURE } = await import('../../fixtures/gen/demo.js');

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'portsniff-inspection-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function verdictsOnlyFor(args: string[]): Promise<boolean | undefined> {
  specs.length = 0;
  const stdout = new LineWriter(join(dir, 'stdout'));
  const stderr: string[] = [];
  const code = await main(['replay', DEMO_CAPTURE, '--workers', '0', ...args], { stdout, stderr: (l) => stderr.push(l), stdin: process.stdin, isTTY: false, signal: new AbortController().signal });
  stdout.close();
  expect(stderr).toEqual([]);
  expect(code).toBe(0);
  expect(specs).toHaveLength(1);
  return specs[0]?.verdictsOnly;
}

describe('verdicts-only inspection', () => {
  it('is on for a summary alone: --json, or the text summary with --top 0', async () => {
    expect(await verdictsOnlyFor(['--json'])).toBe(true);
    expect(await verdictsOnlyFor(['--top', '0'])).toBe(true);
  });

  it('is off when flows are shown or exported: --flows, the text summary\'s largest flows, --alerts', async () => {
    expect(await verdictsOnlyFor(['--json', '--flows', join(dir, 'flows.ndjson')])).toBe(false);
    expect(await verdictsOnlyFor([])).toBe(false);
    expect(await verdictsOnlyFor(['--json', '--alerts', join(dir, 'alerts.ndjson')])).toBe(false);
  });
});
