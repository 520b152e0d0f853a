/**
 * Regression test for vadimdemedes/ink#986 as it hits the dashboard: Ink 6.8 keeps every distinct
 * text it ever measured, and a dashboard's numbers change every frame. Lines.tsx gives Ink the
 * sizes it knows instead; without that, 250 frames of a 160x48 screen retain ~4 MB (with it, ~0.3 MB).
 */
import { EventEmitter } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { render } from 'ink';
import { App } from '../../src/ui/App.js';
import { FrameBuilder } from '../../src/ui/view-model/frame.js';
import { fixtureInfo, fixtureUpdate, rulesForRows } from '../helpers/dashboard-data.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

class Screen extends EventEmitter {
  readonly isTTY = true;
  columns = 160;
  rows = 48;
  write = (): boolean => true;
}

function retainedMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1e6;
}

describe('memory', () => {
  it('rendering frames with ever-changing numbers does not grow the heap', async () => {
    const opts = { rules: rulesForRows(40), startedAt: 0 };
    const info = fixtureInfo(opts);
    const b = new FrameBuilder();
    const stdin = Object.assign(new EventEmitter(), { isTTY: false, setRawMode() {}, setEncoding() {}, ref() {}, unref() {}, resume() {}, pause() {}, read: () => null });
    const app = (i: number) => {
      const u = fixtureUpdate(i, opts);
      b.ingest(u);
      return <App info={info} frame={b.build(u)} status="running" inputActive={false} />;
    };
    const inst = render(app(0), { stdout: new Screen() as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, patchConsole: false, exitOnCtrlC: false, maxFps: 100_000 });
    for (let i = 1; i < 50; i++) {
      inst.rerender(app(i));
      await new Promise((r) => setImmediate(r));
    }
    const before = retainedMb();
    for (let i = 50; i < 300; i++) {
      inst.rerender(app(i));
      await new Promise((r) => setImmediate(r));
    }
    const grown = retainedMb() - before;
    inst.unmount();
    expect(grown).toBeLessThan(2);
  }, 120_000);
});
