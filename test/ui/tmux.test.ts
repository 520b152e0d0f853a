/**
 * The dashboard in a real terminal: tmux runs test/ui/fake-session.ts (createDashboard driven like
 * the CLI's session drives it) and the tests type keys and read the screen with capture-pane:
 * products and services visible, sort changes the order, the filter narrows rows, drill-down shows
 * flows, pause freezes a live view, resize redraws cleanly, q exits 0 and leaves the terminal clean
 * (summary printed, no frame left on screen or in the scrollback, cursor shown, raw mode off).
 *
 * PSN_UI_SCREENSHOT=FILE writes the 80x24 services view to FILE (for the README and reports).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startTmux, type TmuxSession } from '../helpers/tmux.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = `${ROOT}node_modules/.bin/tsx`;
/** After the command: its exit status, the terminal mode (icanon = not raw), then a live shell. */
const AFTER = `echo "exit=$?"; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon; sleep 120`;

function fakeSession(args: string): string {
  return `${TSX} test/ui/fake-session.ts ${args}; ${AFTER}`;
}

let session: TmuxSession | null = null;
afterEach(() => {
  session?.kill();
  session = null;
});

function lineIndex(screen: string, needle: string): number {
  return screen.split('\n').findIndex((l) => l.includes(needle));
}

async function quitAndCheckClean(t: TmuxSession, control: RegExp): Promise<void> {
  t.sendKeys('q');
  const end = await t.waitFor(/^exit=\d+\n(-?icanon)/m, { what: 'the exit status and the terminal mode' });
  expect(end).toMatch(/^exit=0$/m);
  // Raw mode is off again (icanon, not -icanon) and the cursor is visible.
  expect(end).toMatch(/^icanon$/m);
  expect(t.cursorVisible()).toBe(true);
  const all = t.capture({ history: true });
  expect(all).toMatch(/^fake-session summary: \d+ packets, \d+ flows, interrupted; control: /m);
  expect(all).toMatch(control);
  // No frame left on the screen nor pushed into the scrollback.
  for (const piece of ['q quit', 'SERVICE', 'portsniff replay', 'portsniff live', 'busiest:']) expect(all).not.toContain(piece);
  // The summary is the first thing on the screen: the frame was erased where it was drawn.
  expect(all.split('\n')[0]).toMatch(/^fake-session summary/);
}

describe('dashboard in tmux', () => {
  it('80x24: services and products, sort, filter, drill-down, q exits 0 and leaves the terminal clean', async () => {
    const t = (session = await startTmux(fakeSession('--steps 100000 --step-ms 100 --hz 10'), { width: 80, height: 24, cwd: ROOT }));
    const first = await t.waitFor((s) => ['redis-enterprise (3)', 'zeebe (3)', 'kgateway (1)', 'edgecomet (1)', 'unknown: no rule', 'Mb/s'].every((x) => s.includes(x)), {
      what: 'the services view with every product',
      timeoutMs: 30_000,
    });
    // Let a few seconds of rates build the sparkline before the screenshot.
    const shot = await t.waitFor((s) => /█ ✓\d+/.test(s) && /elapsed +0:0[3-9]/.test(s), { what: 'rates and sparklines', timeoutMs: 20_000 });
    if (process.env['PSN_UI_SCREENSHOT']) writeFileSync(process.env['PSN_UI_SCREENSHOT'], `${shot}\n`);
    const lines = shot.split('\n');
    expect(lines.length).toBeLessThanOrEqual(23);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(first).toContain('database endpoints');
    expect(lineIndex(shot, 'redis-enterprise (3)')).toBeLessThan(lineIndex(shot, 'edgecomet (1)'));
    expect(shot).toContain('q quit  ? help  p pause  s sort  / filter');

    // s three times: bytes -> rate -> flows -> name; the groups come A-Z.
    t.sendKeys('s', 's', 's');
    let s = await t.waitFor('SERVICE▼', { what: 'the name sort marker' });
    expect(lineIndex(s, 'edgecomet (1)')).toBeLessThan(lineIndex(s, 'kgateway (1)'));
    expect(lineIndex(s, 'kgateway (1)')).toBeLessThan(lineIndex(s, 'redis-enterprise (3)'));
    expect(lineIndex(s, 'redis-enterprise (3)')).toBeLessThan(lineIndex(s, 'zeebe (3)'));
    // The same sort again (4 = name) reverses it.
    t.sendKeys('4');
    s = await t.waitFor('SERVICE▲', { what: 'the reversed name sort' });
    expect(lineIndex(s, 'zeebe (3)')).toBeLessThan(lineIndex(s, 'edgecomet (1)'));

    // Filter: / opens the bar, text narrows as typed, Enter keeps it.
    t.sendKeys('/');
    await t.waitFor(/^\/ █/m, { what: 'the filter bar' });
    t.sendText('product:zeebe');
    await t.waitFor('✓ 3 of 10', { what: 'the filter match count' });
    t.sendKeys('Enter');
    s = await t.waitFor('filter product:zeebe', { what: 'the applied filter in the tab bar' });
    expect(s).toContain('zeebe (3)');
    for (const gone of ['database endpoints', 'Edge Gateway', 'kgateway (1)']) expect(s).not.toContain(gone);
    t.sendKeys('Escape');
    await t.waitFor('database endpoints', { what: 'all rows after Esc' });

    // Drill-down: back to bytes order, second row, Enter: its rule and its flows; Esc goes back.
    t.sendKeys('1', 'Down', 'Enter');
    s = await t.waitFor('redis-enterprise › database shards', { what: 'the service drill-down' });
    expect(s).toMatch(/source +003_ee983c6a73cb0d56\.txt: \| TCP \| 20000-29999/);
    expect(s).toContain('10.1.0.11:20001');
    expect(s).toContain('live flows (1)');
    t.sendKeys('Escape');
    await t.waitFor(/^> database shards/m, { what: 'the services view again' });

    await quitAndCheckClean(t, /control: stop\(\)$/m);
  }, 120_000);

  it('a replay that reaches its end waits on its final state for q', async () => {
    const t = (session = await startTmux(fakeSession('--steps 12 --step-ms 100'), { width: 100, height: 30, cwd: ROOT }));
    const s = await t.waitFor('replay finished: q to quit', { what: 'the end-of-replay status line', timeoutMs: 30_000 });
    expect(s).toContain('FINISHED');
    expect(s).toMatch(/100% ETA +0:00/);
    // Still browsable after the end.
    t.sendKeys('Tab');
    await t.waitFor('[Flows 20]', { what: 'the flows view' });
    t.sendKeys('q');
    const end = await t.waitFor(/^exit=\d+$/m, { what: 'the exit status' });
    expect(end).toMatch(/^exit=0$/m);
    const all = t.capture({ history: true });
    expect(all).toMatch(/fake-session summary: \d+ packets, \d+ flows, complete; control: none/);
    expect(all).not.toContain('q quit');
  }, 120_000);

  it('live: p freezes the view while capture goes on (sort still works), resize redraws cleanly', async () => {
    const t = (session = await startTmux(fakeSession('--kind live --step-ms 100 --hz 10'), { width: 100, height: 30, cwd: ROOT }));
    const totals = (screen: string) => /total .* │ flows +(\d+)/.exec(screen)?.[1] ?? '';
    await t.waitFor((x) => Number(totals(x)) > 0, { what: 'the live header with flows', timeoutMs: 30_000 });
    t.sendKeys('p');
    await t.waitFor(/PAUSED$/m, { what: 'the PAUSED badge' });
    // A frame already on its way when p was pressed may still land; after that the view stays put.
    await new Promise((r) => setTimeout(r, 300));
    const frozen = totals(t.capture());
    await new Promise((r) => setTimeout(r, 800));
    t.sendKeys('s');
    const sorted = await t.waitFor('RATE▼', { what: 'sorting the frozen view' });
    expect(totals(sorted)).toBe(frozen);
    t.sendKeys('p');
    await t.waitFor((x) => !x.includes('PAUSED') && totals(x) !== frozen, { what: 'the view moving again' });

    t.resize(120, 40);
    await t.waitFor('PKTS', { what: 'the wider layout (packets column)' });
    t.resize(70, 20);
    // One header, one footer, nothing wider than the terminal, nothing left over from the wider frames.
    const clean = (x: string): boolean => {
      const lines = x.split('\n');
      return (
        !x.includes('PKTS') &&
        lines.length <= 19 &&
        lines.every((l) => l.length <= 70) &&
        lines.filter((l) => l.startsWith('portsniff live')).length === 1 &&
        lines.filter((l) => l.startsWith('q quit')).length === 1
      );
    };
    await t.waitFor(clean, { what: 'a clean 70x20 frame' });
    await new Promise((r) => setTimeout(r, 400));
    expect(clean(t.capture())).toBe(true);

    await quitAndCheckClean(t, /control: setPaused\(true\) setPaused\(false\) stop\(\)$/m);
  }, 120_000);
});
