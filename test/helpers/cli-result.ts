/** What a CLI test keeps of a finished child process, and the checks every CLI test makes. */
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
