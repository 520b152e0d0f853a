/**
 * Runs one golden case of fixtures/cases.yaml through the CLI entry point in process
 * (`main(['replay', CAPTURE, '--json', '--flows', FILE, ...options], io)`), with stdout going to
 * a temporary file, and returns what a user would have seen.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { main } from '../../src/cli/main.js';
import { LineWriter } from '../../src/export/line-writer.js';
import type { CliIo } from '../../src/cli/io.js';
import type { RunSummary } from '../../src/export/summary.js';
import type { ClassifiedFlow } from '../../src/pipeline/engine.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = join(ROOT, 'fixtures');
/** Stands for the repository's absolute path in golden outputs. */
export const ROOT_TOKEN = '<repo>/';

export interface GoldenCase {
  name: string;
  capture: string;
  origin: 'real' | 'synthesised';
  options?: string[];
}

export function loadCases(): GoldenCase[] {
  const doc = parse(readFileSync(join(FIXTURES, 'cases.yaml'), 'utf8')) as { cases: GoldenCase[] };
  return doc.cases;
}

/** A flow record as written to the flow log (classification fields present with rules). */
export type FlowLine = ClassifiedFlow & {
  client: { ip: string; port: number };
  server: { ip: string; port: number };
  evidence?: Record<string, string>;
};

export interface CaseRun {
  code: number;
  stderr: string[];
  /** stdout with the repository path replaced by ROOT_TOKEN. */
  summaryText: string;
  summary: RunSummary;
  /** The flow log file's text, unchanged (it holds no paths). */
  flowsText: string;
  flows: FlowLine[];
}

const cache = new Map<string, Promise<CaseRun>>();

/** Runs `portsniff replay` in process; memoised per case name. */
export function runCase(c: GoldenCase): Promise<CaseRun> {
  let p = cache.get(c.name);
  if (p === undefined) {
    p = runCli(join(FIXTURES, c.capture), c.options ?? []);
    cache.set(c.name, p);
  }
  return p;
}

/**
 * `portsniff replay CAPTURE --json` alone (no flow log): the summary text, repository path replaced.
 * Nothing reads evidence but verdicts then, so the classifier inspects less (classifier.ts
 * verdictsOnly); the summary must not change.
 */
export async function runSummaryOnly(c: GoldenCase): Promise<{ code: number; stderr: string[]; summaryText: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'portsniff-golden-'));
  try {
    const outPath = join(dir, 'stdout.json');
    const stdout = new LineWriter(outPath);
    const stderr: string[] = [];
    const io: CliIo = { stdout, stderr: (line) => stderr.push(line), stdin: process.stdin, isTTY: false, signal: new AbortController().signal };
    const code = await main(['replay', join(FIXTURES, c.capture), '--json', '--workers', '0', ...(c.options ?? [])], io);
    stdout.close();
    return { code, stderr, summaryText: readFileSync(outPath, 'utf8').split(ROOT).join(ROOT_TOKEN) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runCli(capture: string, options: readonly string[]): Promise<CaseRun> {
  const dir = mkdtempSync(join(tmpdir(), 'portsniff-golden-'));
  try {
    const outPath = join(dir, 'stdout.json');
    const flowsPath = join(dir, 'flows.ndjson');
    const stdout = new LineWriter(outPath);
    const stderr: string[] = [];
    const io: CliIo = {
      stdout,
      stderr: (line) => stderr.push(line),
      stdin: process.stdin,
      isTTY: false,
      signal: new AbortController().signal,
    };
    // Pinned: the default worker count depends on the machine, and the summary records it.
    const code = await main(['replay', capture, '--json', '--flows', flowsPath, '--workers', '0', ...options], io);
    stdout.close();
    const summaryText = readFileSync(outPath, 'utf8').split(ROOT).join(ROOT_TOKEN);
    const flowsText = readFileSync(flowsPath, 'utf8');
    const flows = flowsText
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as FlowLine);
    return { code, stderr, summaryText, summary: JSON.parse(summaryText) as RunSummary, flowsText, flows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
