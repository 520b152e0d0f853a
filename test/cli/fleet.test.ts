/**
 * The fleet options as a user runs them (the built CLI in a child process): --policy errors and
 * effect, --alerts to a file and to stdout, --fail-on exit codes, --metrics start-up errors and
 * announcements, the coverage section, and SIGHUP reopening the --flows and --alerts files in the
 * middle of a run (logrotate).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { AlertLine } from '../../src/export/alerts.js';
import type { RunSummary } from '../../src/export/summary.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');
const FLEET = join(ROOT, 'fixtures/captures/fleet.pcap');
const DEMO = join(ROOT, 'fixtures/captures/demo.pcap');
const REDIS = join(ROOT, 'fixtures/captures/real/redis-6379.pcap');
const POLICY = join(ROOT, 'fixtures/policy/fleet.yaml');
const dir = mkdtempSync(join(tmpdir(), 'portsniff-fleet-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args, '--no-progress'], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (s: string): string[] => s.split('\n').filter(Boolean);

describe('--policy', () => {
  it('a bad policy file: every problem as file:line:col on stderr, exit 2, nothing read', () => {
    const r = cli(['replay', FLEET, '--policy', join(ROOT, 'fixtures/policy-bad/everything-wrong.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const err = lines(r.stderr);
    expect(err).toHaveLength(15);
    expect(err[0]).toMatch(/everything-wrong\.yaml:3:33: network cluster-nodes: '10\.20\.0\.300' is not an IPv4 or IPv6 address or prefix$/);
    expect(err.at(-1)).toBe('portsniff: 14 problems in the policy file');
  });

  it('changes the exposure verdicts of the text summary and the JSON services', () => {
    const plain = JSON.parse(cli(['replay', FLEET, '--json']).stdout) as RunSummary;
    const withPolicy = JSON.parse(cli(['replay', FLEET, '--json', '--policy', POLICY]).stdout) as RunSummary;
    const violations = (s: RunSummary) => s.services.reduce((n, e) => n + e.exposure.violation, 0);
    expect(violations(plain)).toBe(1);
    expect(violations(withPolicy)).toBe(6);
    const text = cli(['replay', FLEET, '--policy', POLICY]).stdout;
    expect(text).toContain('exposure: 6 flows from clients the documents do not expect on that port');
  });

  it('needs rules', () => {
    const r = cli(['replay', FLEET, '--no-rules', '--policy', POLICY]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('portsniff: --policy needs rules: it names products and rules (drop --no-rules)\n');
  });
});

describe('--alerts and --fail-on', () => {
  it('--alerts PATH: NDJSON lines, the summary unchanged on stdout', () => {
    const path = join(dir, 'alerts.ndjson');
    const r = cli(['replay', FLEET, '--json', '--alerts', path, '--policy', POLICY]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as RunSummary;
    const alerts = lines(readFileSync(path, 'utf8')).map((l) => JSON.parse(l) as AlertLine);
    expect(new Set(alerts.map((a) => a.kind))).toEqual(new Set(['exposure-violation', 'mismatch', 'undocumented-port']));
    expect(alerts.filter((a) => a.kind === 'exposure-violation' && a.new).length).toBe(6);
    expect(summary.totals.packets).toBe(1445);
  });

  it('--alerts - with --json: alert lines, then the summary as the last compact line', () => {
    const r = cli(['replay', FLEET, '--json', '--alerts', '-']);
    const out = lines(r.stdout);
    expect(out.length).toBeGreaterThan(3);
    for (const l of out.slice(0, -1)) expect((JSON.parse(l) as AlertLine).kind).toBeDefined();
    expect((JSON.parse(out.at(-1)!) as RunSummary).schema).toBe(1);
  });

  it('--fail-on: exit 3 and a line naming what occurred; 0 when nothing did', () => {
    const r = cli(['replay', DEMO, '--fail-on', 'exposure,mismatch', '--json']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('portsniff: --fail-on: 1 exposure-violation flow, 1 mismatch flow (exit 3)\n');
    expect(JSON.parse(r.stdout).totals.packets).toBeGreaterThan(0);
    const clean = cli(['replay', REDIS, '--fail-on', 'exposure,mismatch,undocumented', '--json']);
    expect(clean.code).toBe(0);
    expect(clean.stderr).toBe('');
    expect(cli(['replay', FLEET, '--fail-on', 'undocumented']).code).toBe(3);
    const bad = cli(['replay', FLEET, '--fail-on', 'exposur']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--fail-on: unknown kind 'exposur' \(known: exposure, mismatch, undocumented\)/);
  });

  it('a runtime error (exit 1) wins over --fail-on', () => {
    const broken = join(dir, 'broken.pcap');
    // The whole demo (with its violation), then a record header announcing 2 GiB: an error at the end.
    writeFileSync(broken, Buffer.concat([readFileSync(DEMO), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f])]));
    const r = cli(['replay', broken, '--fail-on', 'exposure', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/portsniff: error: /);
  });
});

describe('--flows and --alerts naming one file', () => {
  it('one stream through one writer: every flow line and every alert line whole (also through a symlink)', () => {
    // Each alone, for the expected lines.
    const flowsAlone = join(dir, 'alone-flows.ndjson');
    const alertsAlone = join(dir, 'alone-alerts.ndjson');
    expect(cli(['replay', FLEET, '--json', '--policy', POLICY, '--flows', flowsAlone, '--alerts', alertsAlone]).code).toBe(0);
    const expected = [...lines(readFileSync(flowsAlone, 'utf8')), ...lines(readFileSync(alertsAlone, 'utf8'))].sort();
    const both = join(dir, 'both.ndjson');
    const link = join(dir, 'both-link.ndjson');
    for (const flowsPath of [both, link]) {
      rmSync(both, { force: true });
      rmSync(link, { force: true });
      writeFileSync(both, '');
      symlinkSync(both, link);
      const r = cli(['replay', FLEET, '--json', '--policy', POLICY, '--flows', flowsPath, '--alerts', both]);
      expect(r.code).toBe(0);
      // Before, two descriptors wrote from their own offsets over each other's lines (82 lines for
      // 89, one of them cut).
      expect(lines(readFileSync(both, 'utf8')).sort()).toEqual(expected);
    }
  });
});

describe('--metrics at start-up', () => {
  let blocker: Server | null = null;
  afterAll(() => blocker?.close());

  it('a port in use: one line naming it, exit 1, before any packet is read', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const r = cli(['replay', FLEET, '--metrics', String(port)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`portsniff: --metrics: cannot listen on 127.0.0.1:${port}: the port is in use\n`);
  });

  it('announces the address it listens on; loopback by default', () => {
    const r = cli(['replay', FLEET, '--metrics', '0', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^portsniff: metrics at http:\/\/127\.0\.0\.1:\d+\/metrics \(loopback only\)\n$/);
    const any = cli(['replay', FLEET, '--metrics', '0.0.0.0:0', '--json']);
    expect(any.stderr).toMatch(/metrics at http:\/\/0\.0\.0\.0:\d+\/metrics: bound to 0\.0\.0\.0 as asked, so other hosts can reach it/);
    expect(cli(['replay', FLEET, '--metrics-linger', '5']).stderr).toBe('portsniff: --metrics-linger needs --metrics\n');
  });
});

describe('coverage in the summaries', () => {
  it('text: documented ports never seen and the busiest unknown server ports with their payload', () => {
    const text = cli(['replay', FLEET, '--products', 'zeebe']).stdout;
    expect(text).toContain('coverage: 2 of 4 documented ports and ranges of 4 rules saw no flow');
    expect(text).toMatch(/zeebe\.gateway-grpc +tcp\/26500/);
    expect(text).toMatch(/zeebe\.internal-api +tcp\/26502/);
    expect(text).toMatch(/busiest server ports no rule documents \(10 of \d+\)/);
    expect(text).toMatch(/tcp\/7000 +22 +396 +25\.6 KiB +resp 22/);
  });

  it('JSON: the same figures whatever the number of workers', () => {
    const runs = [0, 2].map((w) => (JSON.parse(cli(['replay', FLEET, '--json', '--workers', String(w)]).stdout) as RunSummary).coverage);
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[0]!.unknownPorts[0]).toEqual({ transport: 'tcp', port: 7000, flows: 22, packets: 396, bytes: 26214, payload: { resp: 22 } });
  });
});

describe('SIGHUP (logrotate)', () => {
  it('reopens the --flows and --alerts files: lines before go to the rotated files, after to new ones, none lost', async () => {
    const capture = readFileSync(FLEET);
    const flows = join(dir, 'hup-flows.ndjson');
    const alerts = join(dir, 'hup-alerts.ndjson');
    const child = spawn(process.execPath, [MAIN, 'replay', '-', '--idle-timeout', '5', '--flows', flows, '--alerts', alerts, '--json', '--no-progress', '--workers', '0'], {
      cwd: dir,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const done = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    // First half of the capture, then rotate, then the rest.
    const half = Math.floor(capture.length / 2);
    child.stdin.write(capture.subarray(0, half));
    await new Promise((r) => setTimeout(r, 1500));
    renameSync(flows, `${flows}.1`);
    renameSync(alerts, `${alerts}.1`);
    child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 500));
    child.stdin.end(capture.subarray(half));
    expect(await done, stderr).toBe(0);

    const reference = cli(['replay', FLEET, '--idle-timeout', '5', '--flows', join(dir, 'ref-flows.ndjson'), '--alerts', join(dir, 'ref-alerts.ndjson'), '--workers', '0']);
    expect(reference.code).toBe(0);
    const before = readFileSync(`${flows}.1`, 'utf8');
    const after = readFileSync(flows, 'utf8');
    expect(lines(before).length).toBeGreaterThan(0);
    expect(lines(after).length).toBeGreaterThan(0);
    expect(before + after).toBe(readFileSync(join(dir, 'ref-flows.ndjson'), 'utf8'));
    const alertsBefore = readFileSync(`${alerts}.1`, 'utf8');
    const alertsAfter = readFileSync(alerts, 'utf8');
    expect(lines(alertsBefore).length).toBeGreaterThan(0);
    expect(alertsBefore + alertsAfter).toBe(readFileSync(join(dir, 'ref-alerts.ndjson'), 'utf8'));
  }, 60_000);
});
