/**
 * bench/ab.ts (paired A/B timing) runs end to end on a tiny capture; no timing assertions (the
 * machine is noisy: the tool reports ratios, this checks its structure and its error paths).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allowedCpus, formatAb, parseAbArgs, runAb } from '../../bench/ab.js';
import { generateCapture } from '../../bench/gen-capture.js';
import { which } from '../../bench/run.js';

const CLI = join(process.cwd(), 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'portsniff-ab-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = join(tmp, 'ab.pcap');
generateCapture({ packets: 3000, flows: 200, size: 'small', out: file });
const cpus = allowedCpus();
const canPair = cpus.length >= 2 && which('taskset') !== null;

describe('bench/ab.ts', () => {
  it('not paired: one after the other, alternating which goes first, warming before each', async () => {
    const warmed: string[] = [];
    const res = await runAb({ a: CLI, b: CLI, file, rounds: 2, args: ['replay', 'F', '--json'], paired: false, warm: (f) => warmed.push(f), log: () => {} });
    expect(res.paired).toBe(false);
    expect(res.rounds).toHaveLength(2);
    expect(warmed).toEqual([file, file, file, file]);
    for (const r of res.rounds) {
      expect([r.coreA, r.coreB]).toEqual([-1, -1]);
      expect(r.a.wall).toBeGreaterThan(0);
      expect(r.b.wall).toBeGreaterThan(0);
    }
    expect(res.wall.median).toBeGreaterThan(0);
    expect(res.wall.min).toBeLessThanOrEqual(res.wall.max);
    const text = formatAb(res);
    expect(text).toContain('NOT paired');
    expect(text).toMatch(/median B\/A wall time: \d+\.\d{3} \(range \d+\.\d{3}-\d+\.\d{3}\)/);
    expect(text).toContain('A first');
    expect(text).toContain('B first');
  });

  it.skipIf(!canPair)('paired: both at once, pinned to one core each, cores swapped every round', async () => {
    const res = await runAb({ a: CLI, b: CLI, file, rounds: 2, args: ['replay', 'F', '--json'], warm: () => {}, log: () => {} });
    expect(res.paired).toBe(true);
    expect(res.rounds.map((r) => [r.coreA, r.coreB])).toEqual([[cpus[0], cpus[1]], [cpus[1], cpus[0]]]);
    expect(formatAb(res)).toContain('2 paired rounds');
  });

  it('a build that fails ends the run with the round, the side and its first stderr line', async () => {
    const broken = join(tmp, 'broken.js');
    writeFileSync(broken, 'console.error("boom: not a portsniff"); process.exit(3);\n');
    await expect(runAb({ a: CLI, b: broken, file, rounds: 1, args: ['replay', 'F'], paired: false, warm: () => {}, log: () => {} })).rejects.toThrow(
      /round 1: B exited 3: boom: not a portsniff/,
    );
    await expect(runAb({ a: join(tmp, 'missing.js'), b: CLI, file, rounds: 1, args: [], paired: false })).rejects.toThrow(/missing\.js: no such file/);
  });

  it('--a-args and --b-args go to one side only: one build against itself, with and without an option', async () => {
    const seen = join(tmp, 'argv.log');
    const fake = join(tmp, 'argv.js');
    writeFileSync(fake, `require('node:fs').appendFileSync(${JSON.stringify(seen)}, process.argv.slice(2).join(' ') + '\\n');\n`);
    const res = await runAb({
      a: fake, b: fake, file, rounds: 2, args: ['replay', 'F', '--json'], argsA: ['--no-rules'], argsB: ['--flows', 'F'],
      paired: false, warm: () => {}, log: () => {},
    });
    const lines = readFileSync(seen, 'utf8').trim().split('\n').sort();
    expect(lines).toEqual([`replay ${file} --json --flows ${file}`, `replay ${file} --json --flows ${file}`, `replay ${file} --json --no-rules`, `replay ${file} --json --no-rules`]);
    const text = formatAb(res);
    expect(text).toContain(`A: ${fake}   + --no-rules`);
    expect(text).toContain(`B: ${fake}   + --flows F`);
    const o = parseAbArgs(['--a', CLI, '--file', file, '--a-args=--no-rules', '--b-args', ' --top  5 ']);
    expect(o.argsA).toEqual(['--no-rules']);
    expect(o.argsB).toEqual(['--top', '5']);
    expect(parseAbArgs(['--a', CLI, '--file', file]).argsA).toBeUndefined();
  });

  it('reads the CPUs it may pin to from Cpus_allowed_list', () => {
    expect(allowedCpus('Name:\tnode\nCpus_allowed_list:\t0-1\n')).toEqual([0, 1]);
    expect(allowedCpus('Cpus_allowed_list:\t2-4,7\n')).toEqual([2, 3, 4, 7]);
    expect(allowedCpus('Cpus_allowed_list:\t5\n')).toEqual([5]);
    expect(allowedCpus('no such line\n')).toEqual([]);
    expect(allowedCpus('Cpus_allowed_list:\tjunk\n')).toEqual([]);
  });

  it('arguments: --a and --file required, F stands for the file, the command defaults to replay F --json', () => {
    expect(() => parseAbArgs(['--file', file])).toThrow(/--a CLI is required/);
    expect(() => parseAbArgs(['--a', CLI])).toThrow(/--file F is required/);
    expect(() => parseAbArgs(['--a', CLI, '--file', join(tmp, 'nope.pcap')])).toThrow(/no such file/);
    const d = parseAbArgs(['--a', CLI, '--file', file]);
    expect(d.args).toEqual(['replay', 'F', '--json']);
    expect(d.rounds).toBe(8);
    expect(d.b).toMatch(/dist\/cli\/main\.js$/);
    const c = parseAbArgs(['--a', CLI, '--file', file, '--rounds', '3', '--', 'replay', 'F', '--no-rules']);
    expect(c.args).toEqual(['replay', 'F', '--no-rules']);
    expect(c.rounds).toBe(3);
    expect(c.paired).toBeUndefined();
    expect(parseAbArgs(['--a', CLI, '--file', file, '--sequential']).paired).toBe(false);
  });

  it('the script exits 2 with a one-line usage error', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(process.cwd(), 'bench', 'ab.ts'), '--file', file], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('bench:ab: --a CLI is required (the dist/cli/main.js of the build to compare against)');
  });
});
