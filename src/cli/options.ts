/** Parsing and validation of numeric/list options shared by commands (errors are usage errors). */
import { UsageError } from '../errors.js';

export function parseIntOption(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new UsageError(`${name} must be a whole number, got '${value}'`);
    const n = Number(value);
    if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

export function parseNumberOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`${name} must be a number between ${min} and ${max}, got '${value}'`);
    return n;
  };
}

export function parseSecondsOption(name: string, allowZero: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
      throw new UsageError(`${name} must be a number of seconds${allowZero ? ' (0 = off)' : ' greater than 0'}, got '${value}'`);
    }
    return n;
  };
}

export function collectList(value: string, previous: string[] | undefined): string[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  return [...(previous ?? []), ...items];
}

export function collectRepeat(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
