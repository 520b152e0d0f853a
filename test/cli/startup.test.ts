/**
 * Start-up cost: zod (~180 ms to load, the --policy schema) and prom-client (~140 ms, --metrics) are
 * loaded only by runs that use them. Checked in a fresh process on the built CLI by looking at
 * which packages ended up in the module cache.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');
const WRITER = join(ROOT, 'dist/export/line-writer.js');
const DNS = join(ROOT, 'fixtures/captures/real/dns-53.pcap');

// argv[1] is a placeholder: main.js runs itself when it is process.argv[1].
const PROBE = `
import { createRequire } from 'node:module';
const { main } = await import(process.argv[2]);
const { LineWriter } = await import(process.argv[3]);
const code = await main(process.argv.slice(4), { stdout: new LineWriter('/dev/null'), stderr: () => {}, stdin: process.stdin, isTTY: false, signal: new AbortController().signal });
const cache = Object.keys(createRequire(import.meta.url).cache);
const loaded = [...new Set(cache.map((k) => /node_modules\\/(zod|prom-client)\\//.exec(k)?.[1]).filter(Boolean))].sort();
console.log(JSON.stringify({ code, loaded }));
`;

function loadedBy(args: string[]): { code: number; loaded: string[] } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE, 'probe', MAIN, WRITER, ...args], { cwd: ROOT, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { code: number; loaded: string[] };
}

describe('start-up', () => {
  it('a plain replay loads neither zod nor prom-client', () => {
    expect(loadedBy(['replay', DNS, '--json'])).toEqual({ code: 0, loaded: [] });
  });

  it('--policy loads zod, --metrics loads prom-client', () => {
    expect(loadedBy(['replay', DNS, '--json', '--policy', 'fixtures/policy/fleet.yaml']).loaded).toEqual(['zod']);
    expect(loadedBy(['replay', DNS, '--json', '--metrics', '0']).loaded).toEqual(['prom-client']);
  });
});
