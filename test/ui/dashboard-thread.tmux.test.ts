/**
 * The real dashboard thread failing in a real terminal (tmux): the terminal is given back while
 * the process still runs (raw mode off: Ink's exit hook in the dying thread; cursor shown and off
 * the alternate screen), and the session's thread hears why and stops the session
 * (test/ui/fixtures/broken-update-session.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { hasTmux, startTmux, type TmuxSession } from '../helpers/tmux.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = `${ROOT}node_modules/.bin/tsx`;
const AFTER = `echo "exit=$?"; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon; sleep 120`;

let session: TmuxSession | null = null;
const dirs: string[] = [];
afterEach(() => {
  session?.kill();
  session = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!hasTmux())('the dashboard thread in tmux', () => {
  it('a failure in the dashboard thread gives the terminal back, is reported, and stops the session', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'psn-dashboard-thread-'));
    dirs.push(dir);
    const pidFile = join(dir, 'pid');
    const t = (session = await startTmux(`PSN_PID_FILE=${pidFile} ${TSX} test/ui/fixtures/broken-update-session.ts; ${AFTER}`, { width: 100, height: 30, cwd: ROOT }));
    await t.waitFor('portsniff live', { what: 'the first frame', timeoutMs: 30_000 });
    expect(t.cursorVisible()).toBe(false);
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGUSR2');
    const end = await t.waitFor(/^exit=\d+\n(-?icanon)/m, { what: 'the end of the session and the terminal mode', timeoutMs: 20_000 });
    expect(end).toMatch(/^exit=0$/m);
    // Raw mode off (icanon), cursor visible, and the frame gone with the alternate screen.
    expect(end).toMatch(/^icanon$/m);
    expect(t.cursorVisible()).toBe(true);
    expect(end).not.toContain('portsniff live');
    expect(end).toMatch(/^broken-update-session: errors=\["the dashboard failed: [^"]+"\] stopped=true raw=false$/m);
  }, 60_000);
});
