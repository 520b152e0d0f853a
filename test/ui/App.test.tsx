/**
 * The App from plain props with ink-testing-library: keys change what is on screen, and the
 * callbacks (pause, quit) are called. Frames are asynchronous (React 19): assertions wait.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { App } from '../../src/ui/App.js';
import { FrameBuilder, type Frame } from '../../src/ui/view-model/frame.js';
import type { SessionUpdate } from '../../src/export/consumer.js';
import { fixtureInfo, fixtureUpdate } from '../helpers/dashboard-data.js';

const DOWN = '\x1b[B';
const ESC = '\x1b';
const ENTER = '\r';
const TAB = '\t';

function frameAt(step: number, o: Parameters<typeof fixtureUpdate>[1] = {}): Frame {
  const b = new FrameBuilder();
  let u: SessionUpdate = fixtureUpdate(0, o);
  for (let i = 0; i <= step; i++) {
    u = fixtureUpdate(i, o);
    b.ingest(u);
  }
  return b.build(u);
}

const info = fixtureInfo();
const SIZE = { columns: 100, rows: 30 };

afterEach(() => {
  cleanup();
});

function frameText(lastFrame: () => string | undefined): string {
  return lastFrame() ?? '';
}

/** Index of the first line containing `needle`, -1 if none. */
function lineOf(frame: string, needle: string): number {
  return frame.split('\n').findIndex((l) => l.includes(needle));
}

async function setup(props: Partial<Parameters<typeof App>[0]> = {}) {
  const onPause = vi.fn();
  const onQuit = vi.fn();
  const r = render(<App info={info} frame={frameAt(12)} status="running" size={SIZE} onPause={onPause} onQuit={onQuit} {...props} />);
  await vi.waitFor(() => expect(frameText(r.lastFrame)).toContain('database endpoints'));
  const type = async (s: string) => {
    r.stdin.write(s);
    // Let the input reach the reducer and React commit before the next key.
    await new Promise((res) => setTimeout(res, 20));
  };
  return { ...r, onPause, onQuit, type, frame: () => frameText(r.lastFrame) };
}

describe('App', () => {
  it('shows the header, the products and their services, the footer keys', async () => {
    const { frame } = await setup();
    const f = frame();
    expect(f).toMatch(/^portsniff replay demo\.pcap · 10x/);
    for (const p of ['redis-enterprise (3)', 'zeebe (3)', 'kgateway (1)', 'edgecomet (1)', 'ambiguous (several rules tie)', 'unknown: no rule']) expect(f).toContain(p);
    expect(f).toContain('q quit  ? help  p pause  s sort  / filter');
    expect(f.split('\n').length).toBeLessThanOrEqual(SIZE.rows - 1);
  });

  it('s changes the order (rate, flows, name) and moves the marker; 4 twice reverses', async () => {
    const { type, frame } = await setup();
    expect(frame()).toContain('BYTES▼');
    await type('s');
    await vi.waitFor(() => expect(frame()).toContain('RATE▼'));
    await type('ss');
    await vi.waitFor(() => expect(frame()).toContain('SERVICE▼'));
    // By name: edgecomet's group comes first, zeebe's last.
    expect(lineOf(frame(), 'edgecomet (1)')).toBeLessThan(lineOf(frame(), 'zeebe (3)'));
    await type('4');
    await vi.waitFor(() => expect(frame()).toContain('SERVICE▲'));
    expect(lineOf(frame(), 'edgecomet (1)')).toBeGreaterThan(lineOf(frame(), 'zeebe (3)'));
  });

  it('/ filters as you type, says why when invalid, Enter keeps it, Esc clears it', async () => {
    const { type, frame } = await setup();
    await type('/product:zeebe');
    await vi.waitFor(() => expect(frame()).toMatch(/\/ product:zeebe█ +✓ 3 of 10/));
    expect(frame()).not.toContain('database endpoints');
    expect(frame()).toContain('zeebe (3)');
    await type(' port:x');
    await vi.waitFor(() => expect(frame()).toContain("✗ port: 'x' is not a port (0-65535, or LO-HI)"));
    await type('\x7f9600');
    await type(ENTER);
    await vi.waitFor(() => expect(frame()).toContain('filter product:zeebe port:9600'));
    expect(frame()).toMatch(/> broker +9600/);
    expect(frame()).not.toContain('26500');
    await type(ESC);
    await vi.waitFor(() => expect(frame()).toContain('database endpoints'));
  });

  it('arrows + Enter drill into a service: its rule and its flows; Esc goes back', async () => {
    const { type, frame } = await setup();
    await type(DOWN);
    await vi.waitFor(() => expect(frame()).toMatch(/> database shards/));
    await type(ENTER);
    await vi.waitFor(() => expect(frame()).toContain('redis-enterprise › database shards  (redis-enterprise.shards)'));
    const f = frame();
    expect(f).toMatch(/source +003_ee983c6a73cb0d56\.txt: \| TCP \| 20000-29999/);
    expect(f).toMatch(/exposure +documented: internal/);
    expect(f).toContain('10.1.0.11:20001');
    expect(f).toContain('✗mismatch');
    expect(f).toContain('› database shards');
    await type(ESC);
    await vi.waitFor(() => expect(frame()).toMatch(/> database shards +20000-29999/));
  });

  it('tab cycles to the flows and alerts views; an alert leads to its flows', async () => {
    const { type, frame } = await setup();
    await type(TAB);
    await vi.waitFor(() => expect(frame()).toContain('[Flows 20]'));
    expect(frame()).toContain('live flows (10)');
    expect(frame()).toContain('recently ended (10');
    await type(TAB);
    await vi.waitFor(() => expect(frame()).toContain('[Alerts 3]'));
    expect(frame()).toMatch(/EXPOSURE +zeebe\.broker-monitor\S* +203\.0\.113\.7/);
    expect(frame()).toMatch(/MISMATCH +redis-enterprise\.sh\S* +10\.0\.1\.33/);
    expect(frame()).toMatch(/UNDOC-PORT unknown +10\.0\.0\.40/);
    await type(ENTER);
    await vi.waitFor(() => expect(frame()).toContain('public client on a monitoring-only port'));
    expect(frame()).toContain('203.0.113.7 → 10.2.0.6:9600');
  });

  it('an alert whose flows have left the snapshot\'s lists says so', async () => {
    const { type, frame } = await setup();
    await type(TAB);
    await type(TAB);
    await type(DOWN);
    await type(DOWN);
    await type(ENTER);
    await vi.waitFor(() => expect(frame()).toContain('resp on a port no rule documents'));
    expect(frame()).toContain('its flows are no longer listed');
  });

  it('? shows the help overlay; ? again closes it', async () => {
    const { type, frame } = await setup();
    await type('?');
    await vi.waitFor(() => expect(frame()).toContain('portsniff dashboard: keys'));
    expect(frame()).toContain('filter terms (all must match)');
    expect(frame()).not.toContain('database endpoints');
    await type('?');
    await vi.waitFor(() => expect(frame()).toContain('database endpoints'));
  });

  it('b toggles bits/s and bytes/s', async () => {
    const { type, frame } = await setup();
    expect(frame()).toMatch(/Mb\/s/);
    await type('b');
    await vi.waitFor(() => expect(frame()).toMatch(/kB\/s|MB\/s/));
    expect(frame()).not.toMatch(/[kM]b\/s/);
  });

  it('p shows PAUSED and reports it; q reports a quit request', async () => {
    const { type, frame, onPause, onQuit } = await setup();
    await type('p');
    await vi.waitFor(() => expect(frame()).toMatch(/ PAUSED\s*$/m));
    await vi.waitFor(() => expect(onPause).toHaveBeenCalledWith(true));
    await type('p');
    await vi.waitFor(() => expect(frame()).not.toContain('PAUSED'));
    await vi.waitFor(() => expect(onPause).toHaveBeenLastCalledWith(false));
    expect(onQuit).not.toHaveBeenCalled();
    await type('q');
    await vi.waitFor(() => expect(onQuit).toHaveBeenCalledTimes(1));
    await type('\x03');
    await vi.waitFor(() => expect(onQuit).toHaveBeenCalledTimes(2));
  });

  it('new frames from props replace the old (rerender), and the finished status shows', async () => {
    const { rerender, frame } = await setup();
    rerender(<App info={info} frame={frameAt(40)} status="finished" size={SIZE} />);
    await vi.waitFor(() => expect(frame()).toContain('replay finished: q to quit'));
    expect(frame()).toContain('FINISHED');
    expect(frame()).toMatch(/100% ETA +0:00/);
  });

  it('keys are not read when input is inactive (stdin not a TTY)', async () => {
    const { type, frame, onQuit } = await setup({ inputActive: false });
    await type('q?');
    await new Promise((r) => setTimeout(r, 50));
    expect(onQuit).not.toHaveBeenCalled();
    expect(frame()).not.toContain('portsniff dashboard: keys');
  });
});
