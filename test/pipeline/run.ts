/**
 * Runs `portsniff replay` in process (as the golden tests do) and returns exactly what a user gets:
 * the --json summary text, the --flows NDJSON text, stderr lines and the exit code. Worker threads
 * started from the sources go through the tsx bootstrap; idle ones are reused between runs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { LineWriter } from '../../src/export/line-writer.js';
import type { CliIo } from '../../src/cli/io.js';

export interface CliRun {
  code: number;
  stderr: string[];
  summaryText: string;
  flowsText: string;
}

export async function replay(capture: string, args: readonly string[], stdin: NodeJS.ReadableStream = process.stdin): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), 'portsniff-pipeline-'));
  try {
    const outPath = join(dir, 'stdout.json');
    const flowsPath = join(dir, 'flows.ndjson');
    const stdout = new LineWriter(outPath);
    const stderr: string[] = [];
    const io: CliIo = { stdout, stderr: (l) => stderr.push(l), stdin, isTTY: false, signal: new AbortController().signal };
    const code = await main(['replay', capture, '--json', '--flows', flowsPath, ...args], io);
    stdout.close();
    let flowsText = '';
    try {
      flowsText = readFileSync(flowsPath, 'utf8');
    } catch {
      /* not opened: the run failed before */
    }
    return { code, stderr, summaryText: readFileSync(outPath, 'utf8'), flowsText };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The summary text without the one line allowed to differ between worker counts. */
export function withoutWorkers(summaryText: string): string {
  return summaryText.replace(/\n\s*"workers": \d+,?/, '');
}
