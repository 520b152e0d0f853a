/**
 * Where the dashboard reads keys (src/cli/terminal.ts): stdin when it is a terminal, else the
 * controlling terminal when it is the one stdout writes to. The terminals are real ones: the
 * pseudo-terminals of two tmux panes (the CLI itself with a piped stdin is tested in tmux by
 * test/cli/dashboard.e2e.test.ts).
 */
import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import tty from 'node:tty';
import { afterEach, describe, expect, it } from 'vitest';
import { controllingTerminalOf, processTerminal, type ControllingTerminal } from '../../src/cli/terminal.js';
import { hasTmux, startTmux, type TmuxSession } from '../helpers/tmux.js';

const sessions: TmuxSession[] = [];
const fds: number[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.kill();
  for (const fd of fds.splice(0)) {
    try {
      closeSync(fd);
    } catch {
      // Already closed by the test.
    }
  }
});

/** A writable stand-in for process.stdout on descriptor `fd`. */
function stdoutOn(fd: number, isTTY = true): NodeJS.WriteStream {
  return { fd, isTTY } as unknown as NodeJS.WriteStream;
}

const NONE: ControllingTerminal = { device: 0, foreground: false };
const fg = (device: number): ControllingTerminal => ({ device, foreground: true });

async function ptyPath(): Promise<string> {
  const t = await startTmux('sleep 60', { width: 40, height: 10 });
  sessions.push(t);
  return t.display('#{pane_tty}');
}

function open(path: string, flags: string): number {
  const fd = openSync(path, flags);
  fds.push(fd);
  return fd;
}

describe('controllingTerminalOf', () => {
  it('reads tty_nr (7th field) and whether tpgid (8th) is pgrp (5th), counting from the last parenthesis of the command name', () => {
    expect(controllingTerminalOf('26937 (node) R 26926 26910 26910 34816 26910 4194304 0 0')).toEqual({ device: 34816, foreground: true });
    expect(controllingTerminalOf('7 (a) b) (c d) S 1 7 7 34817 7 0')).toEqual({ device: 34817, foreground: true });
    // `portsniff ... &`: the shell's group has the terminal.
    expect(controllingTerminalOf('1519 (node) T 1400 1519 1400 34816 1400 4194304')).toEqual({ device: 34816, foreground: false });
    // No controlling terminal (a daemon, setsid, CI), or a line that is not one.
    expect(controllingTerminalOf('26937 (node) S 1 26937 26937 0 -1 4194560')).toEqual({ device: 0, foreground: false });
    expect(controllingTerminalOf('')).toEqual({ device: 0, foreground: false });
  });
});

describe('processTerminal', () => {
  it('no terminal at all when stdout is not one', () => {
    expect(processTerminal({ stdout: stdoutOn(1, false) })).toBeNull();
  });

  it('stdin piped and no controlling terminal, or another one than stdout\'s: no keys, and why', () => {
    const devNull = open('/dev/null', 'w');
    const none = processTerminal({ stdout: stdoutOn(devNull), stdinFd: devNull, controlling: () => NONE })!;
    expect(none.keysFd()).toBe('stdin is not a terminal and the process has no controlling terminal');
    const other = processTerminal({ stdout: stdoutOn(devNull), stdinFd: devNull, controlling: () => fg(34816) })!;
    expect(other.keysFd()).toBe('stdin is not a terminal and stdout is not the controlling terminal');
    const unopened = processTerminal({ stdout: stdoutOn(devNull), stdinFd: devNull, controlling: () => fg(fstatSync(devNull).rdev), ttyPath: '/nonexistent/tty' })!;
    expect(unopened.keysFd()).toBe('stdin is not a terminal and /nonexistent/tty cannot be opened (ENOENT)');
  });

  it.skipIf(!hasTmux())('stdin a terminal: its descriptor, nothing opened', async () => {
    const pty = open(await ptyPath(), 'r+');
    const t = processTerminal({ stdout: stdoutOn(pty), stdinFd: pty, controlling: () => NONE, ttyPath: '/nonexistent/tty' })!;
    expect(t.keysFd()).toBe(pty);
  });

  it.skipIf(!hasTmux())('stdin piped: the controlling terminal when stdout writes to it, opened once; another terminal is refused', async () => {
    const [a, b] = [await ptyPath(), await ptyPath()];
    const out = open(a, 'w');
    const devNull = open('/dev/null', 'r');
    const t = processTerminal({ stdout: stdoutOn(out), stdinFd: devNull, controlling: () => fg(fstatSync(out).rdev), ttyPath: a })!;
    const keys = t.keysFd();
    expect(typeof keys).toBe('number');
    fds.push(keys as number);
    expect(keys).not.toBe(out);
    expect(tty.isatty(keys as number)).toBe(true);
    expect(fstatSync(keys as number).rdev).toBe(fstatSync(out).rdev);
    // Asked again (noDashboardReason, then chooseFace): the same descriptor, not a second one.
    expect(t.keysFd()).toBe(keys);
    // stdout on terminal a, the controlling terminal b: keys would come from another screen.
    const other = processTerminal({ stdout: stdoutOn(out), stdinFd: devNull, controlling: () => fg(statSync(b).rdev), ttyPath: b })!;
    expect(other.keysFd()).toBe('stdin is not a terminal and stdout is not the controlling terminal');
  });

  it.skipIf(!hasTmux())('in the background (`portsniff ... &`): no keys, whether stdin is the terminal or not', async () => {
    const a = await ptyPath();
    const pty = open(a, 'r+');
    const devNull = open('/dev/null', 'r');
    const background = (): ControllingTerminal => ({ device: fstatSync(pty).rdev, foreground: false });
    for (const stdinFd of [pty, devNull]) {
      expect(processTerminal({ stdout: stdoutOn(pty), stdinFd, controlling: background, ttyPath: a })!.keysFd()).toBe('running in the background (another process group has the terminal)');
    }
  });
});
