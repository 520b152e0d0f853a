/** The tmux helper itself: waits with deadlines, clear failures, exit status, environment, cleanup. */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { startTmux, type TmuxSession } from './tmux.js';

let t: TmuxSession | null = null;
afterEach(() => {
  t?.kill();
  t = null;
});

describe('tmux helper', () => {
  it('runs a command at the given size and reads its screen', async () => {
    t = await startTmux('printf "hello\\n"; tput cols; tput lines; sleep 30', { width: 90, height: 20 });
    const s = await t.waitFor(/^20$/m);
    expect(s.split('\n').slice(0, 3)).toEqual(['hello', '90', '20']);
  });

  it('a timeout names what was awaited, whether the command still runs, and the last pane text', async () => {
    t = await startTmux('echo "some output"; sleep 30');
    await t.waitFor('some output');
    const err = await t.waitFor('never shown', { timeoutMs: 300, what: 'the impossible' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/timed out after 300 ms waiting for the impossible \(the command is still running\); last pane text:\n----\nsome output\n----$/);
  });

  it('reports the exit status; the pane stays readable after exit (history keeps the first line)', async () => {
    t = await startTmux('echo first; echo last; sleep 0.3; exit 3');
    await t.waitFor('last');
    expect(await t.waitForExit()).toBe(3);
    expect(t.capture({ history: true })).toMatch(/^first\nlast/);
    const err = await t.waitFor('nope', { timeoutMs: 200 }).catch((e: Error) => e);
    expect((err as Error).message).toContain('the command exited with status 3');
  });

  it('removes CI from the environment, sets a UTF-8 locale and the extra variables, keys arrive', async () => {
    process.env['CI'] = 'true';
    try {
      t = await startTmux('echo "ci=${CI-unset} lang=$LANG x=$X"; read line; echo "got=$line"; sleep 30', { env: { X: "it's" } });
    } finally {
      delete process.env['CI'];
    }
    await t.waitFor("ci=unset lang=C.UTF-8 x=it's");
    t.sendText('abc ▼');
    t.sendKeys('Enter');
    await t.waitFor('got=abc ▼');
  });

  it('kill() stops the server and is safe to call twice', async () => {
    t = await startTmux('sleep 30');
    const socket = t.socket;
    t.kill();
    t.kill();
    expect(spawnSync('tmux', ['-L', socket, 'has-session'], { encoding: 'utf8' }).status).not.toBe(0);
  });
});
