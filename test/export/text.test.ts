/** The plain-text summary (no TTY, no --json): totals, services, top flows, anomalies. */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { LineWriter } from '../../src/export/line-writer.js';
import { formatBytes, TopFlows } from '../../src/export/text.js';
import type { ClassifiedFlow } from '../../src/pipeline/engine.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSync, closeSync } from 'node:fs';

const DEMO = fileURLToPath(new URL('../../fixtures/captures/demo.pcap', import.meta.url));
const DEMO_TUNNELS = fileURLToPath(new URL('../../fixtures/captures/demo-tunnels.pcap', import.meta.url));

async function replayText(args: string[], capture = DEMO): Promise<{ code: number; out: string; err: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'psn-text-'));
  const path = join(dir, 'out.txt');
  const fd = openSync(path, 'w');
  const err: string[] = [];
  const code = await main(['replay', capture, '--workers', '0', ...args], {
    stdout: new LineWriter(fd),
    stderr: (l) => err.push(l),
    stdin: process.stdin,
    isTTY: false,
    signal: new AbortController().signal,
  });
  closeSync(fd);
  return { code, out: readFileSync(path, 'utf8'), err };
}

describe('text summary', () => {
  it('shows totals, a service table with ambiguity spelled out, and the top flows', async () => {
    const r = await replayText(['--top', '3']);
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^portsniff: .*demo\.pcap: pcap, little-endian, link types: Ethernet \(1\)$/);
    expect(lines[1]).toMatch(/^2305 packets, [\d.]+ KiB on the wire, 91 flows, 2024-05-01T12:00:00\.000000000Z \.\. /);
    expect(r.out).toMatch(/\nservices\nservice\s+product\s+flows\s+packets\s+bytes\s+verified\s+mismatch\s+encrypted\s+port-only\s+exposure!\n/);
    // An ambiguous row lists its candidates instead of a rule id.
    expect(r.out).toMatch(/\nedgecomet\.redis \| gloo-mesh-enterprise\.redis\s+ambiguous\s+\d+/);
    expect(r.out).toMatch(/\nredis-enterprise\.database-endpoints\s+redis-enterprise\s+\d+/);
    const top = r.out.slice(r.out.indexOf('top 3 flows by bytes')).split('\n\n')[0]!;
    expect(top.split('\n').filter((l) => /^(tcp|udp)\s/.test(l))).toHaveLength(3);
  });

  it('--top 0 leaves the flow table out', async () => {
    const r = await replayText(['--top', '0']);
    expect(r.out).not.toContain('flows by bytes');
  });

  it('tunnels: a via column naming each service\'s overlays and an encapsulations table; neither without tunnels', async () => {
    const plain = await replayText(['--top', '0']);
    expect(plain.out).not.toMatch(/\bvia\b/);
    expect(plain.out).not.toContain('encapsulations');
    const r = await replayText(['--top', '0'], DEMO_TUNNELS);
    expect(r.out).toMatch(/\nservice\s+product\s+flows\s+packets\s+bytes\s+verified\s+mismatch\s+encrypted\s+port-only\s+exposure!\s+via\n/);
    expect(r.out).toMatch(/\nzeebe\.gateway-grpc\s+zeebe\s+2\s.*\s+ip-in-ip \(2\)\n/);
    expect(r.out).toMatch(/\nkgateway\.gloo-xds\s+kgateway\s+1\s.*\s+geneve 16 \(1\)\n/);
    expect(r.out).toMatch(/\nencapsulations \(flows found inside each, at any depth\)\ntype\s+id\s+flows\s+packets\s+bytes\n[- ]+\ngeneve\s+16\s+6\s+105\s.*\nip-in-ip\s+-\s+10\s+332\s.*\nvxlan\s+1\s+75\s+1868\s/);
  });
});

describe('formatBytes and TopFlows', () => {
  it('formats binary units', () => {
    expect([formatBytes(0), formatBytes(1023), formatBytes(1024), formatBytes(10 * 1024 * 1024), formatBytes(5 * 1024 ** 3)]).toEqual([
      '0 B', '1023 B', '1.00 KiB', '10.0 MiB', '5.00 GiB',
    ]);
  });

  it('exposure: a count under the totals, an exposure! column and a table of the violating flows', async () => {
    const r = await replayText(['--top', '3', '--monitoring-hosts', '10.90.0.0/24']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('\nexposure: 2 flows from clients the documents do not expect on that port (column exposure!)\n');
    expect(r.out).toMatch(/\nredis-enterprise\.shards\s+redis-enterprise(\s+\S+){8}\s+1\n/);
    const table = r.out.slice(r.out.indexOf('exposure violations')).split('\n\n')[0]!.split('\n');
    expect(table[0]).toBe('exposure violations (flows from clients the documents do not expect)');
    expect(table.slice(3).filter((l) => l !== '').map((l) => l.split(/ {2,}/))).toEqual([
      ['tcp', '203.0.113.7:61000', '10.20.0.12:23001', 'public', 'redis-enterprise.shards', 'internal'],
      ['tcp', '10.66.6.66:38300', '10.30.0.20:10079', 'private, not a monitoring host', 'edgecomet.edge-gateway-metrics', 'monitoring-only'],
    ]);
    // Without the monitoring hosts the metrics scrape cannot be judged: one violation.
    const plain = await replayText(['--top', '3']);
    expect(plain.out).toContain('\nexposure: 1 flow from clients');
    expect(plain.out).toContain("\nexposure: 3 flows on monitoring-only ports not checked: give --monitoring-hosts with your monitoring systems' addresses\n");
    expect(r.out).not.toContain('not checked');
  });

  it('keeps the N largest flows, ties by id', () => {
    const t = new TopFlows(2);
    const f = (id: number, b: number) => ({ id, bytes: { toServer: b, toClient: 0 } }) as unknown as ClassifiedFlow;
    for (const x of [f(1, 10), f(2, 30), f(3, 20), f(4, 30), f(5, 5)]) t.add(x);
    expect(t.list().map((x) => x.id)).toEqual([2, 4]);
  });
});
