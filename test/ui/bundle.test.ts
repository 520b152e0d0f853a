/**
 * The bundled dashboard that `npm run build` writes (scripts/bundle-dashboard.mjs) and the CLI loads
 * (cli/face.ts): one self-contained file that draws the same dashboard, and DEV=true (Ink's React
 * DevTools hook, whose package is not bundled) only prints Ink's hint.
 */
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import type { SessionControl } from '../../src/export/consumer.js';
import type * as DashboardModule from '../../src/ui/dashboard-worker.js';
import { fixtureInfo, fixtureUpdate } from '../helpers/dashboard-data.js';
import { FakeKeyboard, FakeTty } from '../helpers/fake-terminal.js';

const BUNDLE = fileURLToPath(new URL('../../dist/ui/dashboard.bundle.js', import.meta.url));
const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
// No build at all (vitest run alone): skipped. A build without the bundle is a failure below.
const built = existsSync(MAIN);
if (!built) console.warn(`SKIPPED bundle tests: ${MAIN} is missing (npm test builds it; run npm run build)`);

vi.hoisted(() => {
  // Ink writes only the last frame when it thinks it runs in CI.
  delete process.env['CI'];
  delete process.env['CONTINUOUS_INTEGRATION'];
  // Colour on (chalk decides when the bundle loads): the output-stage comparison covers styles.
  process.env['FORCE_COLOR'] = '1';
});


describe.skipIf(!built)('dist/ui/dashboard.bundle.js', () => {
  it('npm run build writes it; it imports nothing but Node built-ins (Ink, React and the view code are inside)', () => {
    expect(existsSync(BUNDLE), `${BUNDLE} is missing: npm run build runs scripts/bundle-dashboard.mjs`).toBe(true);
    const text = readFileSync(BUNDLE, 'utf8');
    const specifiers = [...text.matchAll(/^\s*import\s[^'"]*?from\s*["']([^"']+)["']/gm), ...text.matchAll(/^\s*import\s*["']([^"']+)["']/gm)].map((m) => m[1]!);
    expect(specifiers.length).toBeGreaterThan(0);
    const builtins = new Set(builtinModules);
    const foreign = specifiers.filter((s) => !s.startsWith('node:') && !builtins.has(s));
    expect(foreign).toEqual([]);
    // React's production build: the development build's warnings are not in it.
    expect(text).not.toContain('Warning: Each child in a list should have a unique "key" prop');
  });

  it('draws the dashboard from a session update and leaves the terminal clean', async () => {
    const mod = (await import(pathToFileURL(BUNDLE).href)) as typeof DashboardModule;
    const stdout = new FakeTty();
    const stdin = Object.assign(new EventEmitter(), { isTTY: false });
    const ui = mod.createDashboard({ stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, refreshHz: 20, env: {}, alternateScreen: false });
    const control: SessionControl = { setPaused() {}, stop() {} };
    ui.start(fixtureInfo(), control);
    ui.update(fixtureUpdate(1));
    const deadline = Date.now() + 5000;
    while (!stdout.out.includes('redis-enterprise') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(stdout.out).toContain('redis-enterprise');
    await ui.abort();
    // The cursor is shown again when Ink unmounts.
    expect(stdout.out).toContain('\x1b[?25h');
  });

  it("frames skip Ink's per-cell grid (src/ui/fast-output.ts) and show exactly what Ink's would, in every view", async () => {
    const mod = (await import(pathToFileURL(BUNDLE).href)) as typeof DashboardModule;
    const stats = mod.fastOutputStats;
    stats.check = true;
    const before = { fast: stats.fast, checked: stats.checked, mismatches: stats.mismatches };
    const stdout = new FakeTty();
    stdout.columns = 120;
    stdout.rows = 40;
    const stdin = new FakeKeyboard();
    const ui = mod.createDashboard({ stdout: stdout as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream, refreshHz: 20, env: {}, alternateScreen: false });
    const opts = { kind: 'live', detail: true } as const;
    ui.start(fixtureInfo(opts), { setPaused() {}, stop() {} });
    ui.update(fixtureUpdate(1, opts));
    let styled = false;
    const waitFor = async (text: string): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!stdout.out.includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(stdout.out).toContain(text);
      styled ||= /\x1b\[(1|2|7|3\d)m/.test(stdout.out);
    };
    try {
      await waitFor('redis-enterprise');
      // Every view, a drill-down, the help overlay and a narrow terminal, with colour.
      for (const key of ['\t', '\t', '\t', '\t', '\r', '\x1b', '?', '?', 's', 'b']) {
        stdout.out = '';
        stdin.press(key);
        ui.update(fixtureUpdate(2, opts));
        await waitFor('\n');
      }
      stdout.columns = 80;
      stdout.rows = 24;
      stdout.emit('resize');
      ui.update(fixtureUpdate(3, opts));
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await ui.abort();
      stats.check = false;
    }
    expect(styled).toBe(true);
    expect(stats.fast - before.fast).toBeGreaterThan(10);
    expect(stats.checked - before.checked).toBe(stats.fast - before.fast);
    expect(stats.mismatches - before.mismatches).toBe(0);
  });

  it('DEV=true prints Ink\'s React DevTools hint instead of failing (the package is not bundled)', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(BUNDLE).href)}); console.log('loaded');`], {
      encoding: 'utf8',
      env: { ...process.env, DEV: 'true' },
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('loaded');
    expect(r.stderr).toContain('react-devtools-core');
  });
});
