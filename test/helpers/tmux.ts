/**
 * A real terminal for end-to-end tests: tmux (scripts/setup.sh installs it) runs a command in a
 * detached session of a given size on its own server socket, and the test types keys and reads the
 * screen with capture-pane.
 *
 *   const t = await startTmux('node dist/cli/main.js replay demo.pcap --speed 10x', { width: 80, height: 24 });
 *   try {
 *     await t.waitFor('redis-enterprise');          // polls the pane until the text shows, or throws
 *     t.sendKeys('s');                              // tmux key names: Enter Escape Tab Down C-c ...
 *     t.sendText('/product:zeebe');                 // literal text
 *     const code = await t.waitForExit();           // exit status (the pane stays: remain-on-exit)
 *   } finally {
 *     t.kill();                                      // kills the server, its processes, the temp dir
 *   }
 *
 * - With remain-on-exit the pane stays after the command exits, but tmux then writes "Pane is
 *   dead" on the last row, which scrolls the screen by a line: read what the command printed last
 *   with capture({ history: true }), or keep a shell alive after it (`cmd; echo "exit=$?"; sleep 60`)
 *   to check live state such as cursorVisible().
 * - Each session has its own server (`tmux -L psn-<pid>-<n>-<random>`) and a config file that
 *   turns the status line off (the pane gets every row), keeps panes after exit, and keeps history.
 * - The command runs with CI and CONTINUOUS_INTEGRATION unset (Ink renders only the last frame
 *   under CI) and a UTF-8 locale (box and block characters survive capture-pane).
 * - Every wait has a deadline; a timeout error names what was awaited and prints the last pane text.
 * - The command runs in a subshell of a wrapper script that writes its exit status to a file:
 *   tmux 3.3a sometimes marks a pane dead and never records its status (seen under load).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TmuxOptions {
  width?: number;
  height?: number;
  /** Working directory of the command (default: the current one). */
  cwd?: string;
  /** Extra environment for the command. */
  env?: Readonly<Record<string, string>>;
  /** Variables removed from the command's environment (default CI, CONTINUOUS_INTEGRATION). */
  unsetEnv?: readonly string[];
}

export interface WaitOptions {
  /** Default 15 s (start-up of a TypeScript process on a loaded 2-core machine takes seconds). */
  timeoutMs?: number;
  /** Poll interval, default 50 ms. */
  intervalMs?: number;
  /** What is awaited, for the error message. */
  what?: string;
}

const UTF8 = { LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
let counter = 0;

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Whether tmux can be run here. */
export function hasTmux(): boolean {
  const r = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
  return r.status === 0;
}

export class TmuxSession {
  private killed = false;

  constructor(
    /** The tmux server socket name (`tmux -L <socket>`). */
    readonly socket: string,
    private readonly dir: string,
  ) {}

  /** Runs a tmux command on this session's server; throws with tmux's stderr on failure. */
  tmux(...args: string[]): string {
    const r = spawnSync('tmux', ['-u', '-L', this.socket, ...args], { encoding: 'utf8', env: { ...process.env, ...UTF8 }, timeout: 10_000 });
    if (r.error) throw new Error(`tmux ${args.join(' ')}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Keys by tmux name ('s', 'Enter', 'Escape', 'Tab', 'Down', 'C-c', ...), one send-keys each. */
  sendKeys(...keys: string[]): void {
    for (const k of keys) this.tmux('send-keys', '-t', 'main', k);
  }

  /** Literal text (no key-name lookup): '/product:zeebe' arrives as those characters. */
  sendText(text: string): void {
    this.tmux('send-keys', '-t', 'main', '-l', text);
  }

  /**
   * The visible screen as text (lines without trailing spaces; a line the terminal wrapped is joined
   * back); `escapes` keeps colours and attributes; `history` adds the lines that scrolled off the top
   * (scrollback) first.
   */
  capture(opts: { escapes?: boolean; history?: boolean } = {}): string {
    return this.tmux('capture-pane', '-p', '-J', '-t', 'main', ...(opts.escapes ? ['-e'] : []), ...(opts.history ? ['-S', '-'] : []))
      .split('\n')
      .map((l) => l.replace(/\s+$/, ''))
      .join('\n')
      .replace(/\n+$/, '');
  }

  /** A tmux format of the pane, e.g. '#{cursor_flag}', '#{pane_dead_status}'. */
  display(format: string): string {
    return this.tmux('display-message', '-p', '-t', 'main', format).trim();
  }

  /** Polls the screen until `match` holds; resolves with that screen or throws with the last one. */
  async waitFor(match: string | RegExp | ((screen: string) => boolean), opts: WaitOptions = {}): Promise<string> {
    const timeout = opts.timeoutMs ?? 15_000;
    const interval = opts.intervalMs ?? 50;
    const test = typeof match === 'string' ? (s: string) => s.includes(match) : match instanceof RegExp ? (s: string) => match.test(s) : match;
    const what = opts.what ?? (typeof match === 'function' ? 'a condition on the screen' : String(match));
    const deadline = Date.now() + timeout;
    let screen = '';
    for (;;) {
      try {
        screen = this.capture();
      } catch (err) {
        screen = `(capture failed: ${(err as Error).message})`;
      }
      if (test(screen)) return screen;
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, interval));
    }
    let dead = '';
    try {
      const recorded = this.recordedStatus();
      dead = this.display('#{?pane_dead,the command exited with status #{pane_dead_status},the command is still running}');
      if (recorded !== null && dead.startsWith('the command exited')) dead = `the command exited with status ${recorded}`;
    } catch {
      dead = 'the tmux server is gone';
    }
    throw new Error(`tmux ${this.socket}: timed out after ${timeout} ms waiting for ${what} (${dead}); last pane text:\n----\n${screen}\n----`);
  }

  /**
   * Waits until the command has exited; resolves with its exit status (128 + N when signal N
   * killed it, as a shell says).
   */
  async waitForExit(opts: WaitOptions = {}): Promise<number> {
    const timeout = opts.timeoutMs ?? 15_000;
    const deadline = Date.now() + timeout;
    let deadSince: number | null = null;
    for (;;) {
      // tmux 3.3a sometimes never records a dead pane's status (pane_dead 1, pane_dead_status empty
      // for good): the wrapper script writes the command's status to a file; tmux's own status or
      // signal is the fallback for a command that killed the script itself.
      const [dead, status, signal] = this.display('#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}').split(':');
      if (dead === '1') {
        const recorded = this.recordedStatus();
        if (recorded !== null) return recorded;
        if (status !== undefined && status !== '') return Number(status);
        if (signal !== undefined && signal !== '') return 128 + Number(signal);
        deadSince ??= Date.now();
        if (Date.now() - deadSince > 1000) throw new Error(`tmux ${this.socket}: the command exited, but neither the script nor tmux recorded how (killed by a signal?)`);
      }
      if (Date.now() >= deadline) {
        throw new Error(`tmux ${this.socket}: the command did not exit within ${timeout} ms (${opts.what ?? 'waiting for exit'}); last pane text:\n----\n${this.capture()}\n----`);
      }
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
    }
  }

  /** The status the wrapper script wrote when the command ended, or null. */
  private recordedStatus(): number | null {
    try {
      const text = readFileSync(join(this.dir, 'exit-status'), 'utf8').trim();
      return text === '' ? null : Number(text);
    } catch {
      return null;
    }
  }

  /** Resizes the window (the command gets SIGWINCH). */
  resize(width: number, height: number): void {
    this.tmux('resize-window', '-t', 'main', '-x', String(width), '-y', String(height));
  }

  /** Whether the terminal cursor is visible (a TUI hides it while drawing and must show it again). */
  cursorVisible(): boolean {
    return this.display('#{cursor_flag}') === '1';
  }

  /** Kills the server (and with it the command) and removes the temp directory. Safe to call twice. */
  kill(): void {
    if (this.killed) return;
    this.killed = true;
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { encoding: 'utf8', timeout: 10_000 });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts `command` (a shell command line, run by /bin/sh) in a new detached tmux session of
 * `width` x `height` (default 80x24) on a server of its own.
 */
export async function startTmux(command: string, opts: TmuxOptions = {}): Promise<TmuxSession> {
  if (!hasTmux()) throw new Error('tmux is not installed (scripts/setup.sh installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'psn-tmux-'));
  const socket = `psn-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
  const conf = join(dir, 'tmux.conf');
  writeFileSync(conf, ['set -g status off', 'set -g remain-on-exit on', 'set -g history-limit 5000', 'set -g escape-time 0', ''].join('\n'));
  const script = join(dir, 'run.sh');
  const lines = ['#!/bin/sh'];
  for (const v of opts.unsetEnv ?? ['CI', 'CONTINUOUS_INTEGRATION']) lines.push(`unset ${v}`);
  for (const [k, v] of Object.entries({ ...UTF8, ...(opts.env ?? {}) })) lines.push(`export ${k}=${quote(v)}`);
  // In a subshell, so that an `exit N` in the command still lets the script record N.
  lines.push(`cd ${quote(opts.cwd ?? process.cwd())}`, '(', command, ')', 'status=$?', `echo $status > ${quote(join(dir, 'exit-status'))}`, 'exit $status', '');
  writeFileSync(script, lines.join('\n'));
  const session = new TmuxSession(socket, dir);
  const width = String(opts.width ?? 80);
  const height = String(opts.height ?? 24);
  const r = spawnSync('tmux', ['-u', '-L', socket, '-f', conf, 'new-session', '-d', '-s', 'main', '-x', width, '-y', height, `sh ${quote(script)}`], {
    encoding: 'utf8',
    env: { ...process.env, ...UTF8 },
    timeout: 10_000,
  });
  if (r.status !== 0) {
    session.kill();
    throw new Error(`tmux new-session failed (${r.status}): ${r.stderr.trim() || r.error?.message}`);
  }
  return session;
}
