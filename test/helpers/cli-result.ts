/** What a CLI test keeps of a finished child process, and the checks every CLI test makes. */
import type { ChildProcess } from 'node:child_process';
import { expect } from 'vitest';

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Non-empty lines of an output. */
export const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

/** Errors are one-line messages: never a stack trace or an "internal error". */
export const noStack = (s: string): void => {
  expect(s).not.toMatch(/^\s+at /m);
  expect(s).not.toMatch(/internal error/);
};

/** Waits for `child` to end, collecting its stdout and stderr (each when piped and not destroyed). */
export function finished(child: ChildProcess): Promise<Result> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    if (child.stderr?.destroyed === false) child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
