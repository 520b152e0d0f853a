/**
 * `--ipfix` against a real collector: Debian's nfcapd (nfdump) listens on a loopback UDP port,
 * portsniff replays a capture with `--ipfix` and `--flows`, nfcapd is stopped (which closes its
 * file), and `nfdump -r FILE -o json` must list every direction of every flow with the packets and
 * bytes the flow log gives, the addresses, ports, protocol, start time and VLAN; nfcapd saw no
 * sequence errors. Runs on a generated fixture and on a third-party corpus capture (when present).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClassifiedFlow } from '../../src/pipeline/results.js';
import { parseTimestamp } from '../../src/util/time.js';
import { which } from '../capture/live/env.js';
import { CORPUS_DIR, corpusPresent } from '../helpers/corpus.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');
const NFCAPD = which('nfcapd');
const NFDUMP = which('nfdump');
const dir = mkdtempSync(join(tmpdir(), 'portsniff-nfcapd-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
if (NFCAPD === null || NFDUMP === null) console.warn('SKIPPED IPFIX collector test: nfdump is not installed (scripts/setup.sh installs it)');

function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

interface NfRecord {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto: number;
  packets: number;
  bytes: number;
  firstMs: number;
  vlan: number;
}

/** nfcapd on a fresh directory; resolves once it listens. */
async function startCollector(name: string): Promise<{ port: number; out: string; stop: () => Promise<string> }> {
  const port = await freeUdpPort();
  const out = join(dir, name);
  mkdirSync(out);
  const child = spawn(NFCAPD!, ['-p', String(port), '-b', '127.0.0.1', '-w', out, '-t', '3600'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let log = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (log += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (log += s));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!log.includes('Startup nfcapd.')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`nfcapd did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    out,
    // SIGTERM: nfcapd writes out and closes the current file (what a rotation does every -t seconds).
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      return log;
    },
  };
}

function replay(capture: string, port: number, flowsPath: string): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, 'replay', capture, '--ipfix', `127.0.0.1:${port}`, '--flows', flowsPath, '--json', '--no-progress'], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { code: r.status, stderr: r.stderr };
}

function nfdumpRecords(out: string): NfRecord[] {
  const files = readdirSync(out).filter((f) => f.startsWith('nfcapd.') && !f.startsWith('nfcapd.current'));
  expect(files.length).toBeGreaterThan(0);
  const records: NfRecord[] = [];
  for (const f of files) {
    const r = spawnSync(NFDUMP!, ['-r', join(out, f), '-o', 'json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    // nfdump 1.7 writes a JSON array (possibly with a trailing comma before the closing bracket).
    const list = JSON.parse(r.stdout.replace(/,\s*\]\s*$/, ']')) as Array<Record<string, unknown>>;
    for (const j of list) {
      if (j['type'] !== 'FLOW') continue;
      records.push({
        src: String(j['src4_addr'] ?? j['src6_addr']),
        dst: String(j['dst4_addr'] ?? j['dst6_addr']),
        sport: Number(j['src_port'] ?? 0),
        dport: Number(j['dst_port'] ?? 0),
        proto: Number(j['proto']),
        packets: Number(j['in_packets']),
        bytes: Number(j['in_bytes']),
        firstMs: Date.parse(`${String(j['first'])}Z`),
        vlan: Number(j['src_vlan'] ?? 0),
      });
    }
  }
  return records;
}

const PROTO: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, sctp: 132 };

/** What nfdump should list for the flow log: one record per direction with packets. */
function expected(flows: ClassifiedFlow[]): NfRecord[] {
  const out: NfRecord[] = [];
  for (const f of flows) {
    const t = parseTimestamp(f.first)!;
    const firstMs = Math.floor(t.sec) * 1000 + Math.floor(t.nsec / 1e6);
    const proto = PROTO[f.transport] ?? Number(/\d+/.exec(f.transport)?.[0] ?? 0);
    const vlan = f.vlan![0] ?? 0;
    if (f.packets!.toServer > 0) out.push({ src: f.client.ip, dst: f.server.ip, sport: f.client.port, dport: f.server.port, proto, packets: f.packets!.toServer, bytes: f.bytes!.toServer, firstMs, vlan });
    if (f.packets!.toClient > 0) out.push({ src: f.server.ip, dst: f.client.ip, sport: f.server.port, dport: f.client.port, proto, packets: f.packets!.toClient, bytes: f.bytes!.toClient, firstMs, vlan });
  }
  return out;
}

/** Comparable form: ICMP "ports" are the flow log's identifiers/types, which nfdump re-reads as type/code. */
function key(r: NfRecord): string {
  const ports = r.proto === 1 || r.proto === 58 ? '' : `${r.sport}>${r.dport}`;
  return `${r.proto} ${r.src}>${r.dst} ${ports} first=${r.firstMs} vlan=${r.vlan} packets=${r.packets} bytes=${r.bytes}`;
}

async function roundTrip(name: string, capture: string): Promise<{ flows: ClassifiedFlow[]; got: NfRecord[]; log: string }> {
  const collector = await startCollector(name);
  const flowsPath = join(dir, `${name}.flows.ndjson`);
  const r = replay(capture, collector.port, flowsPath);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toContain(`portsniff: IPFIX flow records to 127.0.0.1:${collector.port} (UDP)`);
  expect(r.stderr).not.toMatch(/warning: ipfix/);
  // UDP: give the collector a moment to read what is in its socket buffer before it stops.
  await new Promise((res) => setTimeout(res, 300));
  const log = await collector.stop();
  const flows = readFileSync(flowsPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ClassifiedFlow);
  return { flows, got: nfdumpRecords(collector.out), log };
}

describe.skipIf(NFCAPD === null || NFDUMP === null)('--ipfix into nfcapd, read back with nfdump', () => {
  it('fleet.pcap (generated): every flow direction arrives with the flow log packets and bytes', async () => {
    const { flows, got, log } = await roundTrip('fleet', join(ROOT, 'fixtures/captures/fleet.pcap'));
    expect(flows.length).toBe(71);
    expect(got.map(key).sort()).toEqual(expected(flows).map(key).sort());
    expect(log).toMatch(/Sequence Errors: 0/);
  }, 60_000);

  it('demo.pcap (generated): IPv6 and VLAN-tagged flows arrive too', async () => {
    const { flows, got } = await roundTrip('demo', join(ROOT, 'fixtures/captures/demo.pcap'));
    expect(got.map(key).sort()).toEqual(expected(flows).map(key).sort());
    expect(got.some((r) => r.src.includes(':'))).toBe(true);
    expect(got.some((r) => r.vlan === 20)).toBe(true);
  }, 60_000);

  it.skipIf(!corpusPresent)('a corpus capture (chrissanders__http_ip4and6.pcapng): every flow direction arrives', async () => {
    const { flows, got } = await roundTrip('corpus', join(CORPUS_DIR, 'chrissanders__http_ip4and6.pcapng'));
    expect(flows.length).toBeGreaterThan(0);
    expect(got.map(key).sort()).toEqual(expected(flows).map(key).sort());
  }, 60_000);
});
