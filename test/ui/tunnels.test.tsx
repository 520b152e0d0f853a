/**
 * The dashboard on the real session data of demo-tunnels.pcap (ink-testing-library, 80x24): the
 * header's tunnels line, VIA on services and flows, the tunnel: filter typed in the bar, the flow
 * drill-down's tunnel line; the frame stays within rows - 1 lines with the extra header line.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { App } from '../../src/ui/App.js';
import { FrameBuilder, type Frame } from '../../src/ui/view-model/frame.js';
import type { SessionInfo } from '../../src/export/consumer.js';
import { DEMO_TUNNELS_CAPTURE } from '../../fixtures/gen/demo-tunnels.js';
import { recordSession, updateAfter } from '../helpers/capture-session.js';
import { renderSized } from '../helpers/render.js';

const ENTER = '\r';
const TAB = '\t';
const DOWN = '\x1b[B';

let info: SessionInfo;
let frame: Frame;
beforeAll(async () => {
  info = (await recordSession(DEMO_TUNNELS_CAPTURE)).info;
  const u = updateAfter(DEMO_TUNNELS_CAPTURE, 0.8);
  const b = new FrameBuilder();
  b.ingest(u);
  frame = b.build(u);
}, 60_000);

afterEach(() => cleanup());

async function setup() {
  const r = renderSized(<App info={info} frame={frame} status="running" />, 80, 24);
  await vi.waitFor(() => expect(r.lastFrame()).toContain('tunnels vxlan:1'));
  const type = async (s: string) => {
    r.stdin.write(s);
    await new Promise((res) => setTimeout(res, 20));
  };
  return { ...r, type };
}

describe('tunnels on the dashboard (demo-tunnels.pcap, 80x24)', () => {
  it('header line, VIA column, within rows - 1 lines', async () => {
    const r = await setup();
    const f = r.lastFrame();
    const lines = f.split('\n');
    expect(lines.length).toBe(23);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(lines[4]).toMatch(/^tunnels vxlan:1 \d+ flows · ip-in-ip \d+ · geneve:16 \d+$/);
    expect(f).toMatch(/SERVICE .* VIA +CHECKS/);
    expect(f).toMatch(/> database endpo\S* +10000-19999 .* vxlan:1 +✓\d+/);
    expect(f).toMatch(/gateway +26500 .* ip-in-ip +✓\d+/);
    r.unmount();
  });

  it('never more than rows - 1 lines nor wider than the terminal with the extra header line, at any size and view', async () => {
    for (const [c, h] of [[80, 24], [40, 10], [60, 12], [120, 9], [200, 60]] as const) {
      for (const keys of ['', '\t', '\t\t\t']) {
        const r = renderSized(<App info={info} frame={frame} status="running" />, c, h);
        await new Promise((res) => setTimeout(res, 30));
        if (keys !== '') {
          r.stdin.write(keys);
          await new Promise((res) => setTimeout(res, 30));
        }
        const lines = r.lastFrame().split('\n');
        expect([c, h, keys, lines.length <= h - 1]).toEqual([c, h, keys, true]);
        expect([c, h, keys, Math.max(...lines.map((l) => l.length)) <= c]).toEqual([c, h, keys, true]);
        r.unmount();
      }
    }
  });

  it('tunnel: in the filter bar narrows the services; flows show their stack and the drill-down each tunnel', async () => {
    const r = await setup();
    await r.type('/tunnel:ip-in-ip');
    await vi.waitFor(() => expect(r.lastFrame()).toMatch(/\/ tunnel:ip-in-ip█ +✓ 4 of \d+/));
    await r.type(ENTER);
    await vi.waitFor(() => expect(r.lastFrame()).toContain('filter tunnel:ip-in-ip'));
    expect(r.lastFrame()).toContain('zeebe (4)');
    expect(r.lastFrame()).not.toContain('redis-enterprise (');
    await r.type('\x1b');
    await vi.waitFor(() => expect(r.lastFrame()).toContain('redis-enterprise ('));
    await r.type(TAB);
    await vi.waitFor(() => expect(r.lastFrame()).toMatch(/\[Flows \d+\]/));
    expect(r.lastFrame()).toMatch(/CLIENT → SERVER .* VIA/);
    // The first flow is an outer (IP-in-IP) flow; the next ones came through VXLAN.
    await r.type(DOWN);
    await r.type(ENTER);
    await vi.waitFor(() => expect(r.lastFrame()).toMatch(/^ {2}tunnel {4}\S+ 192\.168\.10\.\d → 192\.168\.10\.\d \(outer to inner\)/m));
    r.unmount();
  });
});
