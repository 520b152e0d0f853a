/**
 * The coverage view in the App (ink-testing-library, 80x24) on the real session data of
 * fleet.pcap: Tab reaches it, a port opens its flows, a rule opens its rule page; when the
 * session's summary arrives (the end of a replay) the final report replaces the running view.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { App } from '../../src/ui/App.js';
import { FrameBuilder, type Frame } from '../../src/ui/view-model/frame.js';
import type { SessionUpdate } from '../../src/export/consumer.js';
import { FLEET_CAPTURE } from '../../fixtures/gen/fleet.js';
import { recordSession, updateAfter, type RecordedSession } from '../helpers/capture-session.js';
import { renderSized } from '../helpers/render.js';

const ENTER = '\r';
const ESC = '\x1b';
const TAB = '\t';
const END = '\x1b[F';
const BACKTAB = '\x1b[Z';

function frameOf(u: SessionUpdate): Frame {
  const b = new FrameBuilder();
  b.ingest(u);
  return b.build(u);
}

let fleet: RecordedSession;
let running: Frame;
let last: Frame;
beforeAll(async () => {
  fleet = await recordSession(FLEET_CAPTURE);
  running = frameOf(updateAfter(FLEET_CAPTURE, 0.7));
  last = frameOf(fleet.updates.at(-1)!);
}, 60_000);

afterEach(() => cleanup());

async function setup() {
  const r = renderSized(<App info={fleet.info} frame={running} status="running" />, 80, 24);
  await vi.waitFor(() => expect(r.lastFrame()).toContain('[Services'));
  const type = async (s: string) => {
    r.stdin.write(s);
    await new Promise((res) => setTimeout(res, 20));
  };
  return { ...r, type };
}

describe('the coverage view', () => {
  it('shift-tab reaches it: unknown ports with their payload, rules without flows, the note; within 80x24', async () => {
    const r = await setup();
    await r.type(BACKTAB);
    await vi.waitFor(() => expect(r.lastFrame()).toMatch(/\[Coverage \d+\] +busiest first/));
    const f = r.lastFrame();
    const lines = f.split('\n');
    expect(lines.length).toBe(23);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(f).toMatch(/server ports no rule documents \(\d+ listed\), busiest first/);
    expect(f).toMatch(/> tcp\/7000 +\d+\/\d+ +\d+ +[\d.]+ KiB resp · resp is documented for/);
    expect(f).toMatch(/documented, no flow yet \(\d+ rules\)/);
    expect(f).toMatch(/^\d+ of 60 documented rules have flows so far, \d+ not yet$/m);
    expect(f).toMatch(/^ {2}seen: a flow was classified to the rule/m);
    r.unmount();
  });

  it('Enter on a port lists its flows; Enter on a rule opens the rule; Esc goes back', async () => {
    const r = await setup();
    await r.type(BACKTAB);
    await vi.waitFor(() => expect(r.lastFrame()).toContain('[Coverage'));
    await r.type(ENTER);
    await vi.waitFor(() => expect(r.lastFrame()).toContain('tcp/7000: no rule documents this server port'));
    expect(r.lastFrame()).toContain('› tcp/7000');
    expect(r.lastFrame()).toMatch(/10\.20\.5\.2\d → 10\.60\.0\.7:7000/);
    await r.type(ESC);
    await vi.waitFor(() => expect(r.lastFrame()).toMatch(/> tcp\/7000/));
    await r.type(END);
    await r.type(ENTER);
    // The last rule of the list (zeebe's, by product): its rule page, no flows yet.
    await vi.waitFor(() => expect(r.lastFrame()).toMatch(/^zeebe › /m));
    expect(r.lastFrame()).toMatch(/^ {2}source +\S+\.txt: /m);
    expect(r.lastFrame()).toContain('not in the current snapshot');
    r.unmount();
  });

  it('the summary at the end of a replay turns it into the final report', async () => {
    const r = await setup();
    await r.type(BACKTAB);
    await vi.waitFor(() => expect(r.lastFrame()).toContain('have flows so far'));
    r.rerender(<App info={fleet.info} frame={last} status="finished" summary={fleet.end.summary} />);
    await vi.waitFor(() => expect(r.lastFrame()).toContain('final report: '));
    const f = r.lastFrame();
    const cov = fleet.end.summary.coverage!;
    expect(f).toContain(`final report: ${cov.documented.portSpecsUnseen} of ${cov.documented.portSpecs} documented ports and ranges saw no flow (${cov.documented.rules} rules)`);
    expect(f).toMatch(/server ports no rule documents \(5\), busiest first/);
    expect(f).toMatch(/tcp\/7000 +22 +396 +[\d.]+ KiB resp 22/);
    expect(f).toMatch(/documented ports and ranges no flow used \(\d+ rules\)/);
    expect(f).toContain('replay finished: q to quit');
    // Tab still cycles through all four views.
    await r.type(TAB);
    await vi.waitFor(() => expect(r.lastFrame()).toContain('[Services'));
    r.unmount();
  });
});
