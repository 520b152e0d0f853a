/**
 * Colour is an extra: with colour the alarms are red, under NO_COLOR there is no colour escape at
 * all, and the meaning is still on screen in words and markers. chalk decides its colour level when
 * Ink is imported, so this file forces colour on before a dynamic import.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { SessionUpdate } from '../../src/export/consumer.js';
import { FrameBuilder } from '../../src/ui/view-model/frame.js';
import { colourAllowed } from '../../src/ui/components/theme.js';
import { fixtureInfo, fixtureUpdate } from '../helpers/dashboard-data.js';

const previous = vi.hoisted(() => {
  const before = process.env['FORCE_COLOR'];
  process.env['FORCE_COLOR'] = '1';
  return before;
});
// A worker process runs other test files after this one: they must not inherit forced colour.
afterAll(() => {
  if (previous === undefined) delete process.env['FORCE_COLOR'];
  else process.env['FORCE_COLOR'] = previous;
});

const COLOUR_SGR = /\x1b\[(3[0-7]|9[0-7]|38;)/;

async function frameWith(colour: boolean): Promise<string> {
  const { render } = await import('ink-testing-library');
  const { App } = await import('../../src/ui/App.js');
  const { ColourContext } = await import('../../src/ui/components/theme.js');
  const b = new FrameBuilder();
  let u: SessionUpdate = fixtureUpdate(0);
  for (let i = 0; i <= 24; i++) {
    u = fixtureUpdate(i);
    b.ingest(u);
  }
  const r = render(
    <ColourContext.Provider value={colour}>
      <App info={fixtureInfo()} frame={b.build(u)} status="running" size={{ columns: 100, rows: 30 }} />
    </ColourContext.Provider>,
  );
  await vi.waitFor(() => expect(r.lastFrame()).toContain('database shards'));
  r.stdin.write('\t');
  await vi.waitFor(() => expect(r.lastFrame()).toContain('[Flows'));
  const out = r.lastFrame()!;
  r.unmount();
  return out;
}

describe('colour', () => {
  it('NO_COLOR set and not empty turns colour off', () => {
    expect(colourAllowed({})).toBe(true);
    expect(colourAllowed({ NO_COLOR: '' })).toBe(true);
    expect(colourAllowed({ NO_COLOR: '1' })).toBe(false);
  });

  it('with colour: colour escapes are used', async () => {
    expect(await frameWith(true)).toMatch(COLOUR_SGR);
  });

  it('without colour: no colour escapes, and verdicts still read as words and markers', async () => {
    const out = await frameWith(false);
    expect(out).not.toMatch(COLOUR_SGR);
    const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
    expect(plain).toContain('✗mismatch');
    expect(plain).toContain('✓verified');
    expect(plain).toContain('[Flows 20]');
  });
});
