/**
 * ink-testing-library's render with a terminal of any size: its stdout is fixed at 100 columns, so
 * snapshots at 80x24 or 160x48 (and resize tests) need their own fake terminal. Debug mode (every
 * frame written whole) like ink-testing-library; `resize` emits 'resize' as a real TTY does.
 */
import { EventEmitter } from 'node:events';
import type { ReactElement } from 'react';
import { render as inkRender } from 'ink';

class FakeStdout extends EventEmitter {
  readonly frames: string[] = [];
  readonly isTTY = true;
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (frame: string): boolean => {
    this.frames.push(frame);
    return true;
  };
  lastFrame = (): string | undefined => this.frames[this.frames.length - 1];
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write = (data: string): void => {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  };
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

export interface SizedRender {
  lastFrame(): string;
  frames: string[];
  stdin: { write(data: string): void };
  resize(columns: number, rows: number): void;
  rerender(tree: ReactElement): void;
  unmount(): void;
}

export function renderSized(tree: ReactElement, columns: number, rows: number, opts: { stdinIsTTY?: boolean } = {}): SizedRender {
  const stdout = new FakeStdout(columns, rows);
  const stdin = new FakeStdin();
  stdin.isTTY = opts.stdinIsTTY ?? true;
  const stderr = new FakeStdout(columns, rows);
  const instance = inkRender(tree, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  return {
    lastFrame: () => stdout.lastFrame() ?? '',
    frames: stdout.frames,
    stdin,
    resize(c: number, r: number) {
      stdout.columns = c;
      stdout.rows = r;
      stdout.emit('resize');
    },
    rerender: (t) => instance.rerender(t),
    unmount: () => instance.unmount(),
  };
}
