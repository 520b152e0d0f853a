/**
 * The real cap binding's destructor is unsafe: collecting a Cap whose open() failed aborts the
 * process (libuv assertion, exit 134), and collecting one that was opened and closed frees a
 * handle libuv still lists (SIGSEGV later). CapSource must keep them all alive; a child process
 * fails to open lo with an invalid filter many times, opens and stops real captures (each with a
 * filter probe), forces GC and must survive. Needs root and the built binding.
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
let captures = 0;
const sink = { frame() {} };
for (let i = 0; i < 5; i++) {
  const src = new CapSource({ interface: 'lo', filter: 'udp port 9', snaplen: 65535, promisc: true, bufferSizeKiB: 1024 }, () => mod);
  const ctl = new AbortController();
  const run = src.start(sink, ctl.signal);
  setTimeout(() => ctl.abort(), 10);
  await run;
  captures++;
}
for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
console.log('survived ' + failures + ' ' + captures);
`;

describe('cap backend: native handles', () => {
  it.skipIf(!canCapture('cap', 'failed-open GC test'))('failed opens and finished captures leave nothing that crashes the process when collected', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', CHILD], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).not.toMatch(/Assertion/);
    expect(r.signal).toBeNull();
    expect(r.stdout.trim()).toBe('survived 25 5');
    expect(r.status).toBe(0);
  });
});
