/**
 * A terminal for Ink without one: FakeTty records what is written (stdout), FakeKeyboard delivers
 * keys the way a raw-mode TTY stdin does ('readable', then read()). Used by the dashboard's tests
 * that run Ink in-process (test/ui/dashboard.test.tsx, test/ui/bundle.test.ts).
 */
import { EventEmitter } from 'node:events';

export class FakeTty extends EventEmitter {
  readonly isTTY = true;
  columns = 100;
  rows = 30;
  out = '';
  readonly writes: string[] = [];
  write = (data: string, cb?: () => void): boolean => {
    this.out += data;
    this.writes.push(data);
    cb?.();
    return true;
  };
  /** Everything written, without escape sequences. */
  text(): string {
    return this.out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  }
}

export class FakeKeyboard extends EventEmitter {
  isTTY = true;
  /** Every setRawMode() call, in order. */
  rawModes: boolean[] = [];
  private data: string | null = null;
  press(data: string): void {
    this.data = data;
    this.emit('readable');
  }
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setRawMode(on: boolean): void {
    this.rawModes.push(on);
  }
  setEncoding(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}
