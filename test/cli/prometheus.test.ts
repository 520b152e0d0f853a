/**
 * `--metrics` against a real Prometheus (Debian's prometheus, started here on loopback with a
 * temporary configuration and data directory): Prometheus scrapes portsniff every second during a
 * paced replay (`--speed`), and the per-service counters read back through Prometheus's HTTP query
 * API equal the `--json` summary of the same run; they never reset and were seen growing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/export/summary.js';
import { which } from '../capture/live/env.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');
const FLEET = join(ROOT, 'fixtures/captures/fleet.pcap');
const PROMETHEUS = which('prometheus');
const dir = mkdtempSync(join(tmpdir(), 'portsniff-prometheus-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
if (PROMETHEUS === null) console.warn('SKIPPED real-Prometheus test: prometheus is not installed (scripts/setup.sh installs it)');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(cmd: string, args: string[]): Running {
  const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function until<T>(what: string, f: () => Promise<T | null> | T | null, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface PromResult {
  metric: Record<string, string>;
  value?: [number, string];
  values?: Array<[number, string]>;
}

async function query(base: string, q: string): Promise<PromResult[]> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { status: string; data: { result: PromResult[] }; error?: string };
  if (body.status !== 'success') throw new Error(`query ${q}: ${body.error}`);
  return body.data.result;
}

describe.skipIf(PROMETHEUS === null)('--metrics scraped by a real Prometheus during a paced replay', () => {
  it('per-service counters read back from Prometheus equal the --json summary', async () => {
    // The fleet capture lasts 217 s of capture time: 16 s at --speed 14x.
    const ps = start(process.execPath, [MAIN, 'replay', FLEET, '--speed', '14x', '--metrics', '127.0.0.1:0', '--metrics-linger', '30', '--json', '--no-progress', '--workers', '0']);
    const metricsUrl = await until('the metrics startup line', () => /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics) \(loopback only\)/.exec(ps.stderr())?.[1] ?? null, 15_000);
    const target = new URL(metricsUrl).host;
    const promPort = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: portsniff\n    static_configs:\n      - targets: ['${target}']\n`,
    );
    const prom = start(PROMETHEUS!, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ]);
    const base = `http://127.0.0.1:${promPort}`;
    await until('Prometheus ready', async () => ((await fetch(`${base}/-/ready`).catch(() => null))?.ok ? true : null), 30_000);

    // portsniff ends once Prometheus has scraped the final figures (--metrics-linger).
    const code = await ps.exited;
    expect(code, ps.stderr()).toBe(0);
    expect(ps.stderr()).toMatch(/keeping http:\/\/127\.0\.0\.1:\d+\/metrics up for a final scrape/);
    const summary = JSON.parse(ps.stdout()) as RunSummary;
    expect(summary.totals.packets).toBe(1445);

    // Range selectors skip the staleness markers written once the target is gone.
    // Keyed by the values of `by` labels, in the order given.
    const last = async (q: string, by: string[]): Promise<Map<string, number>> =>
      new Map((await query(base, q)).map((r) => [by.map((l) => r.metric[l]).join('|'), Number(r.value![1])]));
    const flows = await last('sum by (service) (last_over_time(portsniff_flow_records_total[10m]))', ['service']);
    const pkts = await last('sum by (service, direction) (last_over_time(portsniff_flow_packets_total[10m]))', ['service', 'direction']);
    const bytes = await last('sum by (service, direction) (last_over_time(portsniff_flow_bytes_total[10m]))', ['service', 'direction']);
    expect([...flows.keys()].sort()).toEqual(summary.services.map((s) => s.key).sort());
    for (const s of summary.services) {
      expect(flows.get(s.key), s.key).toBe(s.flows);
      expect(pkts.get(`${s.key}|to_server`), s.key).toBe(s.packets.toServer);
      expect(pkts.get(`${s.key}|to_client`), s.key).toBe(s.packets.toClient);
      expect(bytes.get(`${s.key}|to_server`), s.key).toBe(s.bytes.toServer);
      expect(bytes.get(`${s.key}|to_client`), s.key).toBe(s.bytes.toClient);
    }
    const verdicts = await last('sum by (verdict) (last_over_time(portsniff_flow_records_total[10m]))', ['verdict']);
    expect(verdicts.get('mismatch')).toBe(summary.services.reduce((n, s) => n + s.verdicts.mismatch, 0));
    expect((await last('sum(last_over_time(portsniff_packets_total[10m]))', [])).get('')).toBe(summary.totals.packets);
    expect((await last('sum(last_over_time(portsniff_bytes_total[10m]))', [])).get('')).toBe(summary.totals.bytes);

    // Scraped while the replay ran: many samples, growing, never reset.
    const series = await query(base, 'portsniff_packets_total[10m]');
    const samples = series[0]!.values!.map(([, v]) => Number(v));
    expect(samples.length).toBeGreaterThanOrEqual(5);
    expect(samples[0]!).toBeLessThan(samples.at(-1)!);
    for (let i = 1; i < samples.length; i++) expect(samples[i]!).toBeGreaterThanOrEqual(samples[i - 1]!);
    const resets = await query(base, 'sum(resets(portsniff_flow_records_total[10m]))');
    expect(Number(resets[0]!.value![1])).toBe(0);

    prom.child.kill('SIGTERM');
    await prom.exited;
  }, 90_000);
});
