/**
 * The real cap binding aborts the process (libuv assertion, exit 134) when a Cap whose open() failed
 * is garbage-collected. CapSource must keep such objects alive; a child process opens lo with an
 * invalid filter many times, forces GC and must survive. Needs root and the built binding.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { canCapture } from './env.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const CHILD = `
import { CapSource } from './src/capture/live/cap.ts';
import { loadCap } from './src/capture/live/cap.ts';
const mod = loadCap();
let failures = 0;
for (let i = 0; i < 25; i++) {
  const src = new CapSource({ interface: 'lo', filter: 'tcp port 99999', snaplen: 65535, promisc: true }, () => mod);
  try { await src.open(); } catch { failures++; }
}
for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
console.log('survived ' + failures);
`;

describe('cap backend: a failed open', () => {
  it.skipIf(!canCapture('cap', 'failed-open GC test'))('leaves nothing that crashes the process when collected', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', CHILD], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).not.toMatch(/Assertion/);
    expect(r.signal).toBeNull();
    expect(r.stdout.trim()).toBe('survived 25');
    expect(r.status).toBe(0);
  });
});
