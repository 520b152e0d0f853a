/**
 * createDashboard as a session consumer on fake TTY streams: throttled rendering, pause (frozen
 * display in live), quit, the end-of-replay wait, and a clean terminal when it unmounts.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { SessionControl, SessionUpdate } from '../../src/export/consumer.js';
import { createDashboard, type DashboardOptions } from '../../src/ui/dashboard.js';
import { FIXTURE_COVERAGE, fixtureEnd, fixtureInfo, fixtureUpdate } from '../helpers/dashboard-data.js';
import { FakeKeyboard, FakeTty } from '../helpers/fake-terminal.js';

// Ink writes only the last frame when it thinks it runs in CI; these tests read every frame.
const ciEnv = vi.hoisted(() => {
  const before = { CI: process.env['CI'], CONTINUOUS_INTEGRATION: process.env['CONTINUOUS_INTEGRATION'] };
  delete process.env['CI'];
  delete process.env['CONTINUOUS_INTEGRATION'];
  return before;
});
afterAll(() => {
  for (const [k, v] of Object.entries(ciEnv)) if (v !== undefined) process.env[k] = v;
});


function setup(kind: 'file' | 'live' = 'file', extra: Partial<DashboardOptions> = {}) {
  const stdout = new FakeTty();
  const stdin = new FakeKeyboard();
  let renders = 0;
  const ui = createDashboard({
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    refreshHz: 10,
    env: {},
    onRender: () => renders++,
    ...extra,
  });
  const control: SessionControl & { paused: boolean[]; stops: number } = {
    paused: [],
    stops: 0,
    setPaused(p) {
      this.paused.push(p);
    },
    stop() {
      this.stops++;
    },
  };
  const info = fixtureInfo({ kind });
  const upd = (step: number): SessionUpdate => fixtureUpdate(step, { kind });
  return { ui, stdout, stdin, control, info, upd, renders: () => renders };
}

/** After the last frame: only erase-line sequences and cursor-show, no text left on screen. */
function expectCleanTail(writes: readonly string[]): void {
  const plain = (w: string) => w.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').trim();
  let last = writes.length - 1;
  while (last >= 0 && plain(writes[last]!) === '') last--;
  expect(plain(writes[last] ?? '')).toContain('portsniff');
  const tail = writes.slice(last + 1).join('');
  expect(tail).toContain('\x1b[2K');
  expect(tail).toContain('\x1b[?25h');
  // Back on the normal screen, as the last thing written.
  expect(tail.endsWith('\x1b[?1049l')).toBe(true);
  expect(tail.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').trim()).toBe('');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('createDashboard', () => {
  it('renders the latest update at most refreshHz times a second, whatever the update rate', async () => {
    const { ui, stdout, control, info, upd, renders } = setup();
    ui.start(info, control);
    await vi.waitFor(() => expect(stdout.text()).toContain('portsniff replay demo.pcap'));
    const before = renders();
    const started = Date.now();
    for (let i = 0; i < 2000; i++) ui.update(upd(i % 30));
    ui.update(upd(30));
    await sleep(500);
    const elapsed = Date.now() - started;
    // 10 Hz for ~0.5 s: about 5 frames (not 2001).
    expect(renders() - before).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 2);
    expect(stdout.text()).toMatch(new RegExp(`flows +${upd(30).snapshot.totals.flows} \\(`));
    ui.finish(fixtureEnd(upd(30), { interrupted: true, info }));
    await ui.done;
  });

  it('live: p pauses the session and freezes the view (sort still works); p again resumes', async () => {
    const { ui, stdout, stdin, control, info, upd } = setup('live');
    ui.start(info, control);
    ui.update(upd(5));
    const frozen = upd(5).snapshot.totals.flows;
    await vi.waitFor(() => expect(stdout.text()).toMatch(new RegExp(`flows +${frozen} \\(`)));
    stdin.press('p');
    await vi.waitFor(() => expect(control.paused).toEqual([true]));
    await vi.waitFor(() => expect(stdout.text()).toContain('PAUSED'));
    ui.update(upd(25));
    const newer = upd(25).snapshot.totals.flows;
    await sleep(300);
    stdout.out = '';
    stdin.press('s');
    await vi.waitFor(() => expect(stdout.text()).toContain('RATE▼'));
    expect(stdout.text()).toMatch(new RegExp(`flows +${frozen} \\(`));
    expect(stdout.text()).not.toMatch(new RegExp(`flows +${newer} \\(`));
    stdin.press('p');
    await vi.waitFor(() => expect(control.paused).toEqual([true, false]));
    await vi.waitFor(() => expect(stdout.text()).toMatch(new RegExp(`flows +${newer} \\(`)));
    ui.finish(fixtureEnd(upd(25), { interrupted: true, info }));
    await ui.done;
  });

  it('q while running asks the session to stop, then finish() unmounts and leaves the terminal clean', async () => {
    const { ui, stdout, stdin, control, info, upd } = setup('live');
    ui.start(info, control);
    ui.update(upd(3));
    await vi.waitFor(() => expect(stdout.text()).toContain('portsniff live eth0'));
    expect(stdin.rawModes).toEqual([true]);
    expect(stdout.writes[0]).toBe('\x1b[?1049h\x1b[H');
    stdin.press('q');
    await vi.waitFor(() => expect(control.stops).toBe(1));
    await vi.waitFor(() => expect(stdout.text()).toContain('STOPPING'));
    let resolved = false;
    const finished = ui.finish(fixtureEnd(upd(3), { interrupted: true, info })).then(() => (resolved = true));
    await finished;
    expect(resolved).toBe(true);
    await ui.done;
    // Raw mode off, cursor shown again, the last frame erased (ends with erase-line sequences).
    expect(stdin.rawModes).toEqual([true, false]);
    expect(stdout.out).toContain('\x1b[?25h');
    expectCleanTail(stdout.writes);
  });

  it('a replay that reached its end stays open with the status line until q', async () => {
    const { ui, stdout, stdin, control, info, upd } = setup('file');
    ui.start(info, control);
    ui.update(upd(40));
    await vi.waitFor(() => expect(stdout.text()).toContain('100%'));
    let resolved = false;
    const finished = ui.finish(fixtureEnd(upd(40), { info })).then(() => (resolved = true));
    await vi.waitFor(() => expect(stdout.text()).toContain('replay finished: q to quit'));
    // Still browsable: tab works, p does nothing any more.
    stdin.press('\t');
    await vi.waitFor(() => expect(stdout.text()).toContain('[Flows 20]'));
    stdin.press('p');
    await sleep(200);
    expect(resolved).toBe(false);
    expect(control.paused).toEqual([]);
    expect(control.stops).toBe(0);
    stdin.press('q');
    await finished;
    await ui.done;
    expectCleanTail(stdout.writes);
    expect(control.stops).toBe(0);
    expect(stdin.rawModes.at(-1)).toBe(false);
  });

  it('at the end of a replay the coverage view shows the summary\'s final report', async () => {
    const { ui, stdout, stdin, control, info, upd } = setup('file');
    ui.start(info, control);
    ui.update(upd(40));
    await vi.waitFor(() => expect(stdout.text()).toContain('100%'));
    stdin.press('\x1b[Z');
    await vi.waitFor(() => expect(stdout.text()).toContain('documented rules have flows so far'));
    const finished = ui.finish(fixtureEnd(upd(40), { info, coverage: FIXTURE_COVERAGE }));
    await vi.waitFor(() => expect(stdout.text()).toContain('final report: 6 of 22 documented ports and ranges saw no flow (16 rules)'));
    expect(stdout.text()).toMatch(/tcp\/7000 +21 +400 +195 KiB resp 20, none 1 · resp is documented for/);
    expect(stdout.text()).toMatch(/redis-enterprise\.internode +tcp\/3333-3341,3343-334/);
    stdin.press('q');
    await finished;
    await ui.done;
  });

  it('an interrupted or failed replay, and a live capture, unmount at once', async () => {
    for (const [kind, end] of [
      ['file', { interrupted: true }],
      ['file', { error: 'truncated record' }],
      ['file', { opened: false }],
      ['live', {}],
    ] as const) {
      const { ui, stdout, control, info, upd } = setup(kind);
      ui.start(info, control);
      ui.update(upd(4));
      await vi.waitFor(() => expect(stdout.text()).toContain('portsniff'));
      await ui.finish(fixtureEnd(upd(4), { ...end, info }));
      await ui.done;
      expectCleanTail(stdout.writes);
    }
  });

  it('abort() (the session failed) gives the terminal back at once', async () => {
    const { ui, stdout, stdin, control, info, upd } = setup('file');
    ui.start(info, control);
    ui.update(upd(2));
    await vi.waitFor(() => expect(stdout.text()).toContain('portsniff'));
    await ui.abort();
    await ui.done;
    expectCleanTail(stdout.writes);
    expect(stdin.rawModes.at(-1)).toBe(false);
    expect(control.stops).toBe(0);
  });

  it('q twice before the session finishes gives the terminal back at once', async () => {
    const { ui, stdout, stdin, control, info, upd } = setup('file');
    ui.start(info, control);
    ui.update(upd(2));
    await vi.waitFor(() => expect(stdout.text()).toContain('portsniff'));
    stdin.press('q');
    await vi.waitFor(() => expect(control.stops).toBe(1));
    stdin.press('\x03');
    await ui.done;
    expect(stdin.rawModes.at(-1)).toBe(false);
    // The session finishes later: nothing left to do.
    await ui.finish(fixtureEnd(upd(2), { interrupted: true, info }));
  });

  it('alternateScreen: false draws inline (the frame is erased where it was drawn)', async () => {
    const { ui, stdout, control, info, upd } = setup('live', { alternateScreen: false });
    ui.start(info, control);
    ui.update(upd(2));
    await vi.waitFor(() => expect(stdout.text()).toContain('portsniff live'));
    await ui.finish(fixtureEnd(upd(2), { info }));
    expect(stdout.out).not.toContain('\x1b[?1049');
    const tail = stdout.writes.slice(-3).join('');
    expect(tail).toContain('\x1b[2K');
    expect(tail).toContain('\x1b[?25h');
  });

  it('without a raw-mode stdin it never reads keys, and still ends cleanly', async () => {
    const { ui, stdout, stdin, control, info, upd } = setup('file');
    stdin.isTTY = false;
    ui.start(info, control);
    ui.update(upd(2));
    await vi.waitFor(() => expect(stdout.text()).toContain('portsniff'));
    expect(stdin.rawModes).toEqual([]);
    await ui.finish(fixtureEnd(upd(2), { interrupted: true, info }));
    await ui.done;
  });

  it('odd data and odd terminals: no updates, empty snapshot, 0x0 terminal, finish before start', async () => {
    const a = setup('file');
    a.stdout.columns = 0;
    a.stdout.rows = 0;
    a.ui.start({ ...a.info, rules: [], totalBytes: null }, a.control);
    const u = a.upd(3);
    u.snapshot.services = [];
    delete u.snapshot.detail;
    a.ui.update(u);
    await sleep(250);
    await a.ui.finish(fixtureEnd(u, { interrupted: true, info: a.info }));
    const b = setup('file');
    await b.ui.finish(fixtureEnd(b.upd(0), { info: b.info }));
    await b.ui.done;
    b.ui.start(b.info, b.control); // after finish: ignored
    expect(b.stdout.out).toBe('');
  });
});
