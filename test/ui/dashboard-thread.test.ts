/**
 * The session's side of the dashboard thread (src/ui/dashboard-thread.ts), against a scripted
 * thread that speaks the same protocol without a terminal (fixtures/scripted-dashboard-thread.mjs):
 * what is forwarded, what the thread's requests do to the session, and that a thread that dies
 * gives the terminal back, says why and stops the session. The real thread on a real terminal is
 * tested in tmux (test/cli/dashboard.e2e.test.ts).
 */
import { EventEmitter } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SessionControl, SessionEnd, SessionInfo, SessionUpdate } from '../../src/export/consumer.js';
import { createThreadedDashboard } from '../../src/ui/dashboard-thread.js';
import { fixtureEnd, fixtureInfo, fixtureUpdate } from '../helpers/dashboard-data.js';

const SCRIPT = { url: new URL('./fixtures/scripted-dashboard-thread.mjs', import.meta.url), entry: null };

const dirs: string[] = [];
const fds: number[] = [];
afterEach(() => {
  for (const fd of fds.splice(0)) closeSync(fd);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(behaviour: 'keys' | 'crash' | 'hangup') {
  const dir = mkdtempSync(join(tmpdir(), 'portsniff-dashboard-thread-'));
  dirs.push(dir);
  const seenFile = join(dir, 'seen.json');
  const terminalFile = join(dir, 'terminal.out');
  const fd = openSync(terminalFile, 'w');
  fds.push(fd);
  // A terminal stand-in: the restore sequence is written to its fd; resizes are events.
  const stdout = Object.assign(new EventEmitter(), { fd, isTTY: true, columns: 100, rows: 30 }) as unknown as NodeJS.WriteStream;
  const errors: string[] = [];
  const ui = createThreadedDashboard({
    stdout,
    keysFd: 9,
    refreshHz: 4,
    env: { PSN_SEEN_FILE: seenFile, PSN_BEHAVIOUR: behaviour, NO_COLOR: '1' },
    script: SCRIPT,
    onError: (m) => errors.push(m),
  });
  const calls: string[] = [];
  const control: SessionControl = { setPaused: (p) => calls.push(`setPaused(${p})`), stop: () => calls.push('stop()') };
  const seen = (): { data: Record<string, unknown>; seen: { t: string; [k: string]: unknown }[] } => JSON.parse(readFileSync(seenFile, 'utf8'));
  return { ui, control, calls, errors, seen, stdout, terminal: () => readFileSync(terminalFile, 'utf8') };
}

const FIXTURE = { kind: 'file', endStep: 4, detail: true } as const;
const info: SessionInfo = fixtureInfo(FIXTURE);
const update = (step: number): SessionUpdate => fixtureUpdate(step, FIXTURE);
const end: SessionEnd = fixtureEnd(update(4), { info });

describe('createThreadedDashboard', () => {
  it('forwards start, updates, resizes and finish (summary only) as plain data; its pause and stop reach the session', async () => {
    const x = setup('keys');
    x.ui.start(info, x.control);
    await vi.waitFor(() => expect(x.calls).toEqual(['setPaused(true)', 'stop()']));
    x.ui.update(update(1));
    x.ui.update(update(2));
    Object.assign(x.stdout, { columns: 60, rows: 20 });
    x.stdout.emit('resize');
    await x.ui.finish(end);
    const { data, seen } = x.seen();
    expect(data).toMatchObject({ portsniffDashboard: true, refreshHz: 4, alternateScreen: true, keysFd: 9 });
    expect(seen.map((m) => m.t)).toEqual(['start', 'update', 'update', 'resize', 'finish']);
    expect(seen[0]!['info']).toEqual(info);
    expect(seen[2]!['update']).toEqual(update(2));
    expect(seen[3]).toEqual({ t: 'resize', columns: 60, rows: 20 });
    // The flow lists of SessionEnd stay in the session's thread.
    expect(seen[4]).toEqual({ t: 'finish', summary: end.summary, opened: end.opened, exitCode: end.exitCode });
    expect(x.errors).toEqual([]);
    // A clean end leaves the terminal to the thread: nothing written from here.
    expect(x.terminal()).toBe('');
    // Nothing is posted once the thread is done.
    x.ui.update(update(3));
    expect(x.seen().seen).toHaveLength(5);
  });

  it('a thread that dies gives the terminal back, says why, and stops the session so that its summary prints', async () => {
    const x = setup('crash');
    x.ui.start(info, x.control);
    x.ui.update(update(1));
    await x.ui.done;
    expect(x.errors).toEqual([expect.stringContaining('boom in the dashboard thread')]);
    expect(x.calls).toEqual(['stop()']);
    // Cursor shown, back from the alternate screen (raw mode: the dying thread's, in tmux).
    expect(x.terminal()).toBe('\x1b[?25h\x1b[?1049l');
    // The session's finish then resolves at once.
    await expect(x.ui.finish(end)).resolves.toBeUndefined();
  });

  it('a terminal that hung up stops the session; the thread then ends cleanly', async () => {
    const x = setup('hangup');
    x.ui.start(info, x.control);
    await vi.waitFor(() => expect(x.calls).toEqual(['stop()']));
    await x.ui.finish(end);
    expect(x.errors).toEqual([]);
    expect(x.seen().seen.map((m) => m.t)).toEqual(['start', 'finish']);
  });

  it('abort before start resolves at once and starts no thread', async () => {
    const x = setup('keys');
    await x.ui.abort();
    x.ui.start(info, x.control);
    expect(x.calls).toEqual([]);
  });
});
