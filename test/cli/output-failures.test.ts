/**
 * Outputs that cannot be written, as a user meets them: a flow log or alerts file that hits the
 * file size limit (`ulimit -f`, as a full disk would), stdout on a full device (/dev/full), a FIFO
 * whose reader leaves. The run stops reading there, says which output failed and why and how many
 * lines it holds, still reports everything counted (on stderr when stdout is the one that failed),
 * and exits 1 for a failed write (0 for a reader that left, as `| head`). No stack trace, no
 * "internal error", with 0 and 2 workers.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/export/summary.js';
import { finished, lines, noStack, type Result } from '../helpers/cli-result.js';
import { writeBigCapture } from './replay-gen.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');
const DEMO = join(ROOT, 'fixtures/captures/demo.pcap');
const PACKETS = 400_000;

let dir = '';
let cap = '';

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), 'portsniff-outputs-'));
  cap = join(dir, 'big.pcap');
  writeBigCapture(cap, PACKETS);
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** `script` in bash, with $NODE and $MAIN set; stdout and stderr are pipes. */
function sh(script: string): Promise<Result> {
  return finished(spawn('bash', ['-c', script], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE: process.execPath, MAIN } }));
}

const newlines = (path: string): number => readFileSync(path).filter((b) => b === 0x0a).length;

// --max-flows 64: flow records (and alerts) are written from the start (evictions), so the limit
// is met in the middle of the read.
describe('a file output that hits the file size limit (ulimit -f): the run stops there, exit 1', () => {
  it.each([0, 2])('--flows FILE (%i workers): the error names the file and its complete lines; the summary is whole', async (workers) => {
    const flows = join(dir, `flows${workers}.ndjson`);
    const r = await sh(`ulimit -f 64; exec "$NODE" "$MAIN" replay "${cap}" --json --max-flows 64 --workers ${workers} --flows "${flows}"`);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    noStack(r.stderr);
    const err = lines(r.stderr).filter((l) => !/^portsniff: \S+ packets \(/.test(l)); // progress lines on a slow machine
    expect(err).toHaveLength(1);
    const m = new RegExp(`^portsniff: error: cannot write ${flows.replace(/[.]/g, '\\.')}: file too large: stopped reading after (\\d+) packets \\((\\d+) lines were written\\)$`).exec(err[0]!);
    expect(m, r.stderr).not.toBeNull();
    const s = JSON.parse(r.stdout) as RunSummary;
    expect(s.interrupted).toBe(true);
    expect(s.totals.packets).toBe(Number(m![1]));
    expect(s.totals.packets).toBeLessThan(PACKETS);
    // The file holds exactly the lines it says, each a whole flow record, and stops at the limit.
    expect(newlines(flows)).toBe(Number(m![2]));
    expect(readFileSync(flows).length).toBe(64 * 1024);
    const got = lines(readFileSync(flows, 'utf8'));
    for (const l of got.slice(0, Number(m![2]))) expect(() => JSON.parse(l) as unknown).not.toThrow();
  });

  it('--alerts FILE, met at the end: everything was read', async () => {
    const policy = join(dir, 'nobody.yaml');
    // Every client of the capture's Redis port breaks this policy: two alert lines (new, then the
    // count), written at the end (an alert is one line per client, and there is one client).
    writeFileSync(policy, 'schema: 1\nnetworks:\n  nobody: [192.0.2.0/24]\nclients:\n  - rules: [edgecomet.redis, gloo-mesh-enterprise.redis]\n    from: [nobody]\n');
    const alerts = join(dir, 'alerts.ndjson');
    const r = await sh(`ulimit -f 0; exec "$NODE" "$MAIN" replay "${cap}" --json --policy "${policy}" --alerts "${alerts}"`);
    expect(r.code).toBe(1);
    noStack(r.stderr);
    expect(lines(r.stderr).filter((l) => !/^portsniff: \S+ packets \(/.test(l))).toEqual([`portsniff: error: cannot write ${alerts}: file too large after 0 lines; everything was read`]);
    expect(readFileSync(alerts).length).toBe(0);
    const s = JSON.parse(r.stdout) as RunSummary;
    expect(s.interrupted).toBe(false);
    expect(s.totals.packets).toBe(PACKETS);
  });
});

describe('stdout that cannot be written: the error, then the summary on stderr, exit 1', () => {
  it.each([
    ['--json', ['--json']],
    ['the text table', []],
  ])('a full device at the end (%s): everything was read', async (_name, extra) => {
    const r = await sh(`exec "$NODE" "$MAIN" replay "${DEMO}" ${extra.join(' ')} > /dev/full`);
    expect(r.code).toBe(1);
    noStack(r.stderr);
    const [first, ...rest] = r.stderr.split('\n');
    expect(first).toBe('portsniff: error: cannot write stdout: no space left on device after 0 lines; everything was read');
    const report = rest.join('\n');
    if (extra.length > 0) {
      const s = JSON.parse(report) as RunSummary;
      expect(s.interrupted).toBe(false);
      expect(s.totals.packets).toBe(2305);
    } else {
      expect(report).toMatch(/^portsniff: .*demo\.pcap: pcap/);
      expect(report).toContain('2305 packets');
      expect(report).toContain('zeebe.gateway-grpc');
    }
  });

  it('the flow log on stdout hits the size limit: reading stops; the summary goes to stderr', async () => {
    const out = join(dir, 'stdout.ndjson');
    const r = await sh(`ulimit -f 64; exec "$NODE" "$MAIN" replay "${cap}" --json --max-flows 64 --flows - > "${out}"`);
    expect(r.code).toBe(1);
    noStack(r.stderr);
    const err = lines(r.stderr);
    const m = /^portsniff: error: cannot write stdout: file too large: stopped reading after (\d+) packets \((\d+) lines were written\)$/.exec(err[0] ?? '');
    expect(m, r.stderr).not.toBeNull();
    expect(newlines(out)).toBe(Number(m![2]));
    const s = JSON.parse(err[1]!) as RunSummary;
    expect(s.interrupted).toBe(true);
    expect(s.totals.packets).toBe(Number(m![1]));
  });

  it('commands other than a session: help and rules list on a full device exit 1 with the error', async () => {
    for (const args of ['--help', 'rules list']) {
      const r = await sh(`exec "$NODE" "$MAIN" ${args} > /dev/full`);
      expect(r.code, args).toBe(1);
      expect(r.stderr).toBe('portsniff: error: cannot write stdout: no space left on device\n');
    }
  });
});

describe('stderr whose reader left (`2>&1 >summary.json | head -1`)', () => {
  it('the progress line meets the closed pipe: the run goes on, the summary on stdout is whole, exit 0', async () => {
    // 2.5 s of capture at its recorded pace: the progress line comes at 2 s. Before, its failed
    // write was an unhandled 'error' event: the process died with exit 1 and no summary.
    const paced = join(dir, 'paced.pcap');
    writeBigCapture(paced, 25_000);
    const p = spawn(process.execPath, [MAIN, 'replay', paced, '--json', '--speed', '1x'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stderr.destroy();
    const r = await finished(p);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as RunSummary;
    expect(s.totals.packets).toBe(25_000);
    expect(s.interrupted).toBe(false);
  });
});

describe('a --flows FIFO whose reader leaves: reading stops, a notice, exit 0 (as stdout with `| head`)', () => {
  it.each([0, 2])('%i workers', async (workers) => {
    const fifo = join(dir, `flows${workers}.fifo`);
    const r = await sh(`mkfifo "${fifo}"; "$NODE" "$MAIN" replay "${cap}" --json --max-flows 64 --workers ${workers} --flows "${fifo}" & head -c 100 "${fifo}" > /dev/null; wait $!`);
    expect(r.code).toBe(0);
    noStack(r.stderr);
    const m = new RegExp(`^portsniff: ${fifo.replace(/[.]/g, '\\.')} was closed: stopped reading after (\\d+) packets \\((\\d+) lines were handed to it\\)$`, 'm').exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const s = JSON.parse(r.stdout) as RunSummary;
    expect(s.interrupted).toBe(true);
    expect(s.totals.packets).toBe(Number(m![1]));
    expect(s.totals.packets).toBeLessThan(PACKETS);
  });
});
