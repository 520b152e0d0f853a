/**
 * bench/proxy.ts runs end to end with tiny parameters and reports every target (no timing
 * assertions: the figures only mean something in a real run; this checks that the run works and its
 * numbers are sane), and its argument parsing rejects bad values.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatProxyTable, parseProxyBenchArgs, runProxyBench } from '../../bench/proxy.js';

const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const redisOk = have('redis-server') && have('redis-benchmark');
if (!redisOk) console.warn('SKIPPED bench/proxy.ts end to end: redis-server or redis-benchmark is not installed');

describe('bench/proxy.ts', () => {
  it('parses its options', () => {
    const o = parseProxyBenchArgs(['--rounds', '2', '--requests', '1000', '--bulk-mib', '8', '--no-socat']);
    expect(o).toMatchObject({ rounds: 2, requests: 1000, bulkMiB: 8, socat: false, latencyRequests: 20_000 });
    expect(() => parseProxyBenchArgs(['--rounds', '0'])).toThrow(/--rounds must be a positive whole number/);
  });

  it.skipIf(!redisOk)('measures direct, portsniff with and without rules (and socat when installed) in one run', async () => {
    const o = parseProxyBenchArgs(['--rounds', '1', '--requests', '2000', '--latency-requests', '500', '--bulk-mib', '8']);
    const r = await runProxyBench({ ...o, log: () => {} });
    const names = r.figures.map((f) => f.target);
    expect(names.slice(0, 3)).toEqual(['direct', 'portsniff', 'portsniff --no-rules']);
    expect(names.includes('socat')).toBe(have('socat'));
    for (const f of r.figures) {
      expect(f.setRps, f.target).toBeGreaterThan(0);
      expect(f.getRpsPipelined, f.target).toBeGreaterThan(0);
      expect(f.p50Ms, f.target).toBeGreaterThan(0);
      expect(f.bulkMiBps, f.target).toBeGreaterThan(0);
      expect(f.bulkDownMiBps, f.target).toBeGreaterThan(0);
      if (f.target === 'direct') expect(f.cpuPer100k).toBeNull();
      else expect(f.cpuPer100k, f.target).toBeGreaterThanOrEqual(0);
    }
    const table = formatProxyTable(r);
    expect(table.split('\n')).toHaveLength(2 + r.figures.length);
    expect(table).toMatch(/^\| target +\| SET\/s/);
  }, 180_000);
});
