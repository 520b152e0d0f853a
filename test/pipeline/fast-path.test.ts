/**
 * The engine's WebAssembly fast path (src/pipeline/fast-path.ts, src/wasm/fast-path.ts) must change
 * nothing but speed: the same flows, records, totals and statistics as the engine without it, on
 * generated captures that exercise what it leaves to the engine (new flows, handshakes, FIN/RST,
 * payload inspection, expiry sweeps, active-timeout cuts, evictions, VLANs, IPv6, fragments,
 * tunnels, ICMP errors, truncated frames, steps back in time) and on random mutations of them,
 * read from pcap files and from pcapng files (Enhanced Packet Blocks of the interfaces it takes,
 * among sections, interfaces and blocks it leaves to the engine). It must also really take the
 * common packet (else it is only overhead).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { readCaptureFile, readCaptureStream, READ_BUFFER_BYTES } from '../../src/capture/file.js';
import { CaptureParser } from '../../src/capture/parser.js';
import { buildPcap } from '../../src/capture/pcap-writer.js';
import { PcapStreamFeeder } from '../../src/capture/live/pcap-stream.js';
import { buildPcapng, type PcapngBlockSpec, type PcapngSectionSpec } from '../../src/capture/pcapng-writer.js';
import { BT_EPB } from '../../src/capture/pcapng-reader.js';
import { PortMapClassifier } from '../../src/classify/classifier.js';
import { tableCapacity, type FlowTable } from '../../src/flow/table.js';
import type { Classification, FlowClassifier } from '../../src/classify/types.js';
import { Engine, type ClassifiedFlow } from '../../src/pipeline/engine.js';
import { FastPath, QUEUE_BYTES, QUEUE_ENTRIES } from '../../src/pipeline/fast-path.js';
import { compileRules } from '../../src/rules/compile.js';
import { defaultRulesDir, loadRuleDirs } from '../../src/rules/load.js';
import { generateCapture } from '../../bench/gen-capture.js';
import { DEMO_CAPTURE } from '../../fixtures/gen/demo.js';
import { DEMO_TUNNELS_CAPTURE } from '../../fixtures/gen/demo-tunnels.js';
import { frame, icmpMessage, ipv4IcmpEcho, ipv4IcmpError, ipv4Packet, ipv4Tcp, ipv4Udp, ipv6IcmpEcho, ipv6Packet, ipv6Tcp } from '../../fixtures/gen/packet-builder.js';
import { clientHello, serverFlight } from '../../fixtures/gen/tls-records.js';
import { mixedCapture } from './mixed-capture.js';

const index = compileRules(loadRuleDirs([defaultRulesDir()]));
const UNCLASSIFIED: Classification = { service: null, verdict: 'unknown', ambiguous: false, candidates: [], basis: 'none', evidence: {}, exposure: null };

interface Run {
  flows: string[];
  totals: string;
  services: string;
  ports: string;
  fastRecords: number;
}

interface EngineSetup {
  maxFlows: number;
  idleTimeout: number;
  activeTimeout: number;
  classify: boolean;
}

function engineFor(o: EngineSetup, fastPath: boolean, flows: ClassifiedFlow[]): Engine {
  return new Engine({
    maxFlows: o.maxFlows,
    idleTimeout: o.idleTimeout,
    activeTimeout: o.activeTimeout,
    classifier: o.classify ? new PortMapClassifier(index, tableCapacity(o.maxFlows), { evidenceDetail: true }) : null,
    onFlow: (f) => flows.push(f),
    fastPath,
  });
}

function result(engine: Engine, flows: ClassifiedFlow[]): Run {
  engine.finish();
  return {
    flows: flows.map((f) => JSON.stringify(f)),
    totals: JSON.stringify(engine.totals()),
    services: JSON.stringify(engine.services.list()),
    ports: JSON.stringify(engine.ports.toData(false)),
    fastRecords: engine.fastRecords,
  };
}

/** readCaptureFile, as the CLI reads a file (into the fast path's buffers when there is one). */
async function runFile(file: string, o: EngineSetup, fastPath: boolean): Promise<Run> {
  const flows: ClassifiedFlow[] = [];
  const engine = engineFor(o, fastPath, flows);
  await readCaptureFile(file, engine);
  return result(engine, flows);
}

/** The whole file in one buffer (the fast path's own, when it fits), through the parser. */
function runBytes(bytes: Uint8Array, o: EngineSetup, fastPath: boolean): Run & { error: unknown } {
  const flows: ClassifiedFlow[] = [];
  const engine = engineFor(o, fastPath, flows);
  let buf = bytes;
  if (fastPath) {
    const own = engine.readBuffer(READ_BUFFER_BYTES);
    if (own === null || own.length < bytes.length) throw new Error('no fast-path buffer for the test file');
    own.set(bytes);
    buf = own;
  }
  const parser = new CaptureParser(engine, 'test.pcap');
  let error: unknown = null;
  try {
    const used = parser.feed(buf, 0, bytes.length);
    parser.finish(bytes.length - used, used);
  } catch (err) {
    error = err instanceof Error ? err.message : err;
  }
  return { ...result(engine, flows), error };
}

function expectSame(fast: Run, slow: Run, what: string): void {
  expect(slow.fastRecords, what).toBe(0);
  expect(fast.totals, what).toBe(slow.totals);
  expect(fast.services, what).toBe(slow.services);
  expect(fast.ports, what).toBe(slow.ports);
  expect(fast.flows.length, what).toBe(slow.flows.length);
  for (let i = 0; i < slow.flows.length; i++) expect(fast.flows[i], `${what}: flow ${i}`).toBe(slow.flows[i]);
}

/** The same output and the same error (a broken file's), with the fast path and without. */
function expectSameOnBytes(bytes: Uint8Array, o: EngineSetup, what: string): void {
  const fast = runBytes(bytes, o, true);
  const slow = runBytes(bytes, o, false);
  expect(fast.error, what).toEqual(slow.error);
  expectSame(fast, slow, what);
}

interface PcapFrame {
  tsSec: number;
  tsNsec: number;
  data: Uint8Array;
  origLen?: number;
}

function pcapOf(frames: readonly PcapFrame[], nano: boolean): Uint8Array {
  return buildPcap(
    frames.map(({ tsSec, tsNsec, data, origLen }) => ({ tsSec, tsFrac: nano ? tsNsec : Math.floor(tsNsec / 1000), data, ...(origLen !== undefined ? { origLen } : {}) })),
    { linkType: 1, nano },
  );
}

const DEFAULT: EngineSetup = { maxFlows: 262_144, idleTimeout: 120, activeTimeout: 0, classify: true };

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'portsniff-fast-path-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the WebAssembly fast path', () => {
  it('is built (npm run build) and loads', () => {
    expect(FastPath.create(1024, READ_BUFFER_BYTES, null)).not.toBeNull();
  });

  it('takes most packets of long flows, with the same output as the engine alone', async () => {
    const file = join(dir, 'long.pcap');
    const g = generateCapture({ packets: 60_000, flows: 600, size: 'mixed', seed: 11, out: file });
    const fast = await runFile(file, DEFAULT, true);
    const slow = await runFile(file, DEFAULT, false);
    expectSame(fast, slow, 'generated capture, 100 packets per flow');
    expect(fast.fastRecords).toBeGreaterThan(g.packets * 0.6);
  });

  it('same output with expiry sweeps, active-timeout cuts and evictions, with and without classification', async () => {
    // The mixed capture: short conversations with every case the engine keeps for itself.
    const mixed = join(dir, 'mixed.pcap');
    writeFileSync(mixed, mixedCapture({ seed: 5, conversations: 3000 }).pcap);
    // Long flows at 100k packets per capture second: runs the fast path takes, cut by sweeps
    // every second, by evictions from a small table and by active-timeout cuts.
    const long = join(dir, 'long-sweeps.pcap');
    generateCapture({ packets: 40_000, flows: 400, size: 'small', seed: 12, out: long, pps: 5_000 });
    const setups: EngineSetup[] = [
      { maxFlows: 262_144, idleTimeout: 30, activeTimeout: 4, classify: true },
      { maxFlows: 64, idleTimeout: 20, activeTimeout: 0, classify: false },
      { maxFlows: 1000, idleTimeout: 1, activeTimeout: 2, classify: true },
    ];
    for (const o of setups) {
      expectSame(await runFile(mixed, o, true), await runFile(mixed, o, false), `mixed, ${JSON.stringify(o)}`);
      const fast = await runFile(long, o, true);
      expectSame(fast, await runFile(long, o, false), `long flows, ${JSON.stringify(o)}`);
      expect(fast.fastRecords, JSON.stringify(o)).toBeGreaterThan(10_000);
    }
  });

  it('same output on the demo captures (tunnels among them)', async () => {
    for (const file of [DEMO_CAPTURE, DEMO_TUNNELS_CAPTURE]) {
      expectSame(await runFile(file, DEFAULT, true), await runFile(file, DEFAULT, false), file);
    }
  });

  it('takes IPv6 with two VLAN tags and nanosecond timestamps, and IPv4 UDP with a snaplen-cut frame, as the engine would', () => {
    const v6: PcapFrame[] = [];
    const v4: PcapFrame[] = [];
    for (let i = 0; i < 40; i++) {
      const toServer = i % 2 === 0;
      const flags = i === 0 ? 'S' : i === 1 ? 'SA' : i === 39 ? 'FA' : 'A';
      const payload = i > 2 && i < 36 ? new Uint8Array(100 + i) : undefined;
      const data = ipv6Tcp({ src: toServer ? 'fd00::1' : 'fd00::2', dst: toServer ? 'fd00::2' : 'fd00::1', sport: toServer ? 40000 : 2222, dport: toServer ? 2222 : 40000, flags, ...(payload ? { payload } : {}), vlan: [10, 20] });
      v6.push({ tsSec: 1_700_000_000, tsNsec: i * 1000 + 7, data });
      const udp = ipv4Udp({ src: toServer ? '10.0.0.1' : '10.0.0.2', dst: toServer ? '10.0.0.2' : '10.0.0.1', sport: toServer ? 50000 : 7777, dport: toServer ? 7777 : 50000, payload: new Uint8Array(64) });
      v4.push({ tsSec: 1_700_000_000, tsNsec: i * 1000 + 9, data: i === 20 ? udp.subarray(0, 40) : udp, origLen: udp.length });
    }
    for (const [name, frames] of [['IPv6, VLAN 10 and 20', v6], ['IPv4 UDP, one frame cut', v4]] as const) {
      for (const nano of [true, false]) {
        const bytes = pcapOf(frames, nano);
        for (const o of [DEFAULT, { ...DEFAULT, classify: false }]) {
          const what = `${name}, nano ${nano}, classify ${o.classify}`;
          const fast = runBytes(bytes, o, true);
          const slow = runBytes(bytes, o, false);
          expect(fast.error, what).toBeNull();
          expectSame(fast, slow, what);
          if (!o.classify) expect(fast.fastRecords, what).toBeGreaterThan(20);
        }
      }
    }
  });

  it('takes the payloads of a direction the classifier is done with, while it still inspects the other', () => {
    // The client's request says what it is at once; the server only acknowledges, so the flow's
    // other direction is inspected until the flow ends. The client's later payloads are not.
    const request = new TextEncoder().encode('GET /metrics HTTP/1.1\r\nHost: prometheus:9090\r\n\r\n');
    const tcp = (toServer: boolean, flags: string, payload?: Uint8Array): Uint8Array =>
      ipv4Tcp({ src: toServer ? '10.0.0.1' : '10.0.0.2', dst: toServer ? '10.0.0.2' : '10.0.0.1', sport: toServer ? 41000 : 9090, dport: toServer ? 9090 : 41000, flags, ...(payload ? { payload } : {}) });
    const frames: PcapFrame[] = [tcp(true, 'S'), tcp(false, 'SA'), tcp(true, 'A'), tcp(true, 'PA', request)].map((data, i) => ({ tsSec: 1_700_000_000, tsNsec: i * 1000, data }));
    for (let i = 0; i < 60; i++) {
      frames.push({ tsSec: 1_700_000_001, tsNsec: i * 1000, data: tcp(true, 'PA', new Uint8Array(200).fill(i)) });
      frames.push({ tsSec: 1_700_000_001, tsNsec: i * 1000 + 500, data: tcp(false, 'A') });
    }
    const bytes = pcapOf(frames, false);
    const fast = runBytes(bytes, DEFAULT, true);
    expect(fast.error).toBeNull();
    expectSame(fast, runBytes(bytes, DEFAULT, false), 'one direction done, the other still inspected');
    expect(JSON.parse(fast.flows[0]!).verdict).toBeDefined();
    // The 60 later client payloads and the server's acknowledgements: all but a few.
    expect(fast.fastRecords).toBeGreaterThan(100);
  });

  it('queues the payloads the classifier inspects: a ClientHello split over segments, a reply, payloads after a verdict, all in one run', () => {
    // After the SYN (a new flow: the engine's), every record is the module's. The hello comes in
    // three segments, so the classifier reassembles it from the queue; the HTTP client's later
    // payloads follow its complete request in the same run and are dropped at delivery.
    let seed = 7;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const hello = clientHello({ sni: 'kgateway.example.com', alpn: ['h2'] }, rand);
    const flight = serverFlight(true, 600, rand, 'h2');
    // TCP timestamps (NOP, NOP, kind 8): the payload starts 32 bytes into the segment, not 20.
    const timestamps = Uint8Array.of(1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2);
    const conn = (client: string, sport: number, dport: number) => (toServer: boolean, flags: string, payload?: Uint8Array): Uint8Array =>
      ipv4Tcp({ src: toServer ? client : '10.0.0.2', dst: toServer ? '10.0.0.2' : client, sport: toServer ? sport : dport, dport: toServer ? dport : sport, flags, tcpOptions: timestamps, ...(payload ? { payload } : {}) });
    const tls = conn('10.0.0.1', 41000, 8443);
    const http = conn('10.0.0.3', 42000, 9090);
    const request = new TextEncoder().encode('GET /metrics HTTP/1.1\r\nHost: prometheus:9090\r\n\r\n');
    const cut = [0, 100, 180, hello.length];
    const datas = [
      tls(true, 'S'), http(true, 'S'), tls(false, 'SA'), http(false, 'SA'), tls(true, 'A'), http(true, 'A'),
      ...[0, 1, 2].map((i) => tls(true, 'PA', hello.subarray(cut[i], cut[i + 1]))),
      http(true, 'PA', request),
      tls(false, 'PA', flight),
      ...[0, 1, 2, 3, 4].map((i) => http(true, 'PA', new Uint8Array(300).fill(i))),
      http(false, 'PA', new TextEncoder().encode('HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: 0\r\n\r\n')),
    ];
    const bytes = pcapOf(datas.map((data, i) => ({ tsSec: 1_700_000_000, tsNsec: i * 1000, data })), false);
    const fast = runBytes(bytes, DEFAULT, true);
    expect(fast.error).toBeNull();
    expectSame(fast, runBytes(bytes, DEFAULT, false), 'queued payloads');
    const flows = fast.flows.map((f) => JSON.parse(f) as { evidence: Record<string, string> });
    expect(flows.map((f) => f.evidence['protocol']).sort()).toEqual(['http1', 'tls']);
    expect(flows.find((f) => f.evidence['protocol'] === 'tls')!.evidence['sni']).toBe('kgateway.example.com');
    // The engine's: the two SYNs (new flows), and the SYN-ACK after them (a run that took nothing
    // sends the next record straight to the engine: the back-off).
    expect(fast.fastRecords).toBe(datas.length - 3);
  });

  it('hands the classifier the payload calls the engine alone makes: same flows, directions, bytes and order', async () => {
    /** Inspects up to 6 payloads per direction, and stops both at a payload whose first byte is even. */
    class Recorder implements FlowClassifier {
      readonly capacity = tableCapacity(DEFAULT.maxFlows);
      readonly calls: string[] = [];
      private readonly seen = new Uint8Array(this.capacity * 2);
      flowStarted(t: FlowTable, s: number): void {
        this.seen[s * 2] = this.seen[s * 2 + 1] = 0;
        t.setInspect(s, true);
      }
      payload(t: FlowTable, s: number, toServer: boolean, buf: Uint8Array, offset: number, length: number): void {
        let h = 0x811c9dc5;
        for (let i = offset; i < offset + length; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
        this.calls.push(`${s} ${toServer ? 'c' : 's'} ${length} ${h >>> 0}`);
        const d = s * 2 + (toServer ? 0 : 1);
        if (++this.seen[d]! >= 6) t.stopInspecting(s, toServer);
        if ((buf[offset]! & 1) === 0) t.setInspect(s, false);
      }
      classify(): Classification {
        return UNCLASSIFIED;
      }
      peek(): Classification {
        return UNCLASSIFIED;
      }
    }
    const long = join(dir, 'long-recorded.pcap');
    generateCapture({ packets: 30_000, flows: 300, size: 'mixed', seed: 13, out: long });
    const mixed = join(dir, 'mixed-recorded.pcap');
    writeFileSync(mixed, mixedCapture({ seed: 6, conversations: 1500 }).pcap);
    for (const file of [long, mixed, DEMO_CAPTURE]) {
      const runs = [true, false].map(async (fastPath) => {
        const recorder = new Recorder();
        const engine = new Engine({ ...DEFAULT, classifier: recorder, fastPath });
        await readCaptureFile(file, engine);
        engine.finish();
        return { calls: recorder.calls, fastRecords: engine.fastRecords };
      });
      const [fast, slow] = await Promise.all(runs);
      expect(fast!.calls.length, file).toBeGreaterThan(100);
      expect(fast!.calls, file).toEqual(slow!.calls);
      expect(fast!.fastRecords, file).toBeGreaterThan(0);
    }
  });

  it('a run whose inspected payloads do not fit the queue stops at the first that does not, and goes on after', () => {
    // 1,100 UDP flows (each first datagram a new flow: the engine's), then a reply on each in one
    // run: more entries than the queue holds (100-byte replies), or more bytes (300-byte ones).
    const flowsN = QUEUE_ENTRIES + 76;
    for (const size of [100, 300]) {
      const udp = (i: number, toServer: boolean): Uint8Array => {
        const client = `10.1.${i >> 8}.${i & 255}`;
        return ipv4Udp({ src: toServer ? client : '10.0.0.9', dst: toServer ? '10.0.0.9' : client, sport: toServer ? 30000 + i : 7000, dport: toServer ? 7000 : 30000 + i, payload: new Uint8Array(size).fill(toServer ? 1 : 2) });
      };
      const frames: PcapFrame[] = [];
      for (let i = 0; i < flowsN; i++) frames.push({ tsSec: 1_700_000_000, tsNsec: i, data: udp(i, true) });
      for (let i = 0; i < flowsN; i++) frames.push({ tsSec: 1_700_000_000, tsNsec: flowsN + i, data: udp(i, false) });
      expect(flowsN * size > QUEUE_BYTES).toBe(size === 300);
      const bytes = pcapOf(frames, false);
      const fast = runBytes(bytes, DEFAULT, true);
      expect(fast.error).toBeNull();
      expectSame(fast, runBytes(bytes, DEFAULT, false), `a full queue, ${size}-byte payloads`);
      // The replies, but for the first few after the new flows (the back-off after short runs
      // sends them straight to the engine) and the one at which a run stopped.
      expect(fast.fastRecords, `${size}-byte payloads`).toBeGreaterThan(flowsN - 80);
    }
  });

  it('takes ICMP and ICMPv6 queries of a known flow, and leaves errors, other types and odd frames to the engine', () => {
    const frames: PcapFrame[] = [];
    const at = (i: number): { tsSec: number; tsNsec: number } => ({ tsSec: 1_700_000_000, tsNsec: i * 1000 });
    let n = 0;
    for (let i = 0; i < 40; i++) {
      const request = i % 2 === 0;
      const seq = i >> 1;
      // Echo over IPv4 (one flow with a VLAN tag, one without), over IPv6, and a timestamp query.
      const v4 = { src: request ? '10.0.0.1' : '10.0.0.2', dst: request ? '10.0.0.2' : '10.0.0.1', ident: 0x1234, seq, request, payload: new Uint8Array(56).fill(i) };
      frames.push({ ...at(n++), data: ipv4IcmpEcho(v4) });
      frames.push({ ...at(n++), data: ipv4IcmpEcho({ ...v4, ident: 0x4321, vlan: [7] }) });
      frames.push({ ...at(n++), data: ipv6IcmpEcho({ src: request ? 'fd00::1' : 'fd00::2', dst: request ? 'fd00::2' : 'fd00::1', ident: 77, seq, request, payload: new Uint8Array(32) }) });
      const ts = new Uint8Array(20);
      ts[0] = request ? 13 : 14;
      ts[4] = 0; ts[5] = 9; // identifier 9
      frames.push({ ...at(n++), data: frame(ipv4Packet({ src: request ? '10.0.0.3' : '10.0.0.4', dst: request ? '10.0.0.4' : '10.0.0.3' }, 1, ts)) });
      if (i % 10 === 5) {
        // An error quoting a UDP datagram of the pair, a router's error, a neighbour solicitation,
        // an echo cut by the snaplen and an echo with a short ICMP header: the engine's.
        // A UDP flow of the pair, and errors quoting one of its datagrams.
        frames.push({ ...at(n++), data: ipv4Udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 5000, dport: 53, payload: new Uint8Array(8) }) });
        const quoted = ipv4Packet({ src: '10.0.0.1', dst: '10.0.0.2' }, 17, Uint8Array.of(0x13, 0x88, 0, 53, 0, 16, 0, 0, ...new Array<number>(8).fill(0)));
        frames.push({ ...at(n++), data: ipv4IcmpError({ src: '10.0.0.2', dst: '10.0.0.1', type: 3, code: 3, quoted }) });
        // The router's error carries its type and code where a query has its identifier: read as a
        // query, it would be a packet of the router's own ICMP flow instead of crediting the quoted one.
        frames.push({ ...at(n++), data: ipv4IcmpError({ src: '192.0.2.1', dst: '10.0.0.1', type: 3, code: 3, rest: 0x00030003, quoted }) });
        frames.push({ ...at(n++), data: frame(ipv6Packet({ src: 'fd00::1', dst: 'ff02::1:ff00:2' }, 58, icmpMessage({ type: 135, body: new Uint8Array(16) }))) });
        const whole = ipv4IcmpEcho(v4);
        frames.push({ ...at(n++), data: whole.subarray(0, whole.length - 20), origLen: whole.length });
        frames.push({ ...at(n++), data: frame(ipv4Packet({ src: '10.0.0.1', dst: '10.0.0.2' }, 1, Uint8Array.of(8, 0, 0, 0, 0x12))) });
      }
    }
    for (const nano of [false, true]) {
      const bytes = pcapOf(frames, nano);
      for (const o of [DEFAULT, { ...DEFAULT, classify: false }, { ...DEFAULT, maxFlows: 2 }]) {
        const what = `ICMP queries, nano ${nano}, classify ${o.classify}, max flows ${o.maxFlows}`;
        const fast = runBytes(bytes, o, true);
        const slow = runBytes(bytes, o, false);
        expect(fast.error, what).toBeNull();
        expectSame(fast, slow, what);
        // 160 queries on 4 flows: all but each flow's first packet and the records around the odd ones.
        if (o.maxFlows > 2) expect(fast.fastRecords, what).toBeGreaterThan(120);
      }
    }
  });

  it('counts the wire length of a frame captured without its trailer (capLen < origLen, the datagram whole)', () => {
    const frames: PcapFrame[] = [];
    for (let i = 0; i < 30; i++) {
      const toServer = i % 2 === 0;
      const data = ipv4Udp({ src: toServer ? '10.0.0.1' : '10.0.0.2', dst: toServer ? '10.0.0.2' : '10.0.0.1', sport: toServer ? 50000 : 7777, dport: toServer ? 7777 : 50000, payload: new Uint8Array(80) });
      // An Ethernet FCS on the wire, not in the capture.
      frames.push({ tsSec: 1_700_000_000, tsNsec: i * 1000, data, origLen: data.length + 4 });
    }
    const o = { ...DEFAULT, classify: false };
    const fast = runBytes(pcapOf(frames, false), o, true);
    expectSame(fast, runBytes(pcapOf(frames, false), o, false), 'frames with an FCS on the wire');
    expect(fast.fastRecords).toBeGreaterThan(20);
    expect(JSON.parse(fast.totals).truncatedFrames).toBe(30);
  });

  it('a packet that steps back in time, taken by the fast path, still widens the idle scan behind it', () => {
    // H is seen at t = 90-92 (so that its packets are ordinary), G at t = 100, then H again at t = 97:
    // the clock stepped back 3 s. Only ARP frames carry time on. At t = 128 G (28 s idle) is ahead
    // of H (31 s) in last-packet order: the sweep must look past G, by the 3 s of the step back,
    // to end H then and not at G's sweep.
    const udp = (toServer: boolean, sport: number): Uint8Array =>
      ipv4Udp({ src: toServer ? '10.0.0.5' : '10.0.0.6', dst: toServer ? '10.0.0.6' : '10.0.0.5', sport: toServer ? sport : 5000, dport: toServer ? 5000 : sport, payload: new Uint8Array(20) });
    const arp = frame(Uint8Array.from([0, 1, 8, 0, 6, 4, 0, 1, ...new Array<number>(20).fill(0)]), { etherType: 0x0806 });
    const frames: PcapFrame[] = [
      { tsSec: 90, tsNsec: 0, data: udp(true, 2000) },
      { tsSec: 91, tsNsec: 0, data: udp(false, 2000) },
    ];
    // Runs of ordinary packets, so that the fast path is offered the record after G at once.
    for (let i = 0; i < 8; i++) frames.push({ tsSec: 92, tsNsec: i, data: udp(i % 2 === 0, 2000) });
    frames.push({ tsSec: 100, tsNsec: 0, data: udp(true, 3000) });
    for (let i = 0; i < 6; i++) frames.push({ tsSec: 97, tsNsec: i * 1000, data: udp(i % 2 === 0, 2000) });
    for (let t = 101; t <= 140; t++) frames.push({ tsSec: t, tsNsec: 0, data: arp });
    const o = { maxFlows: 64, idleTimeout: 30, activeTimeout: 0, classify: false };
    const fast = runBytes(pcapOf(frames, false), o, true);
    const slow = runBytes(pcapOf(frames, false), o, false);
    expectSame(fast, slow, 'a step back in time');
    expect(fast.fastRecords).toBeGreaterThanOrEqual(12);
    // H (client port 2000) ends at the t = 128 sweep, by the idle timeout.
    const h = slow.flows.map((f) => JSON.parse(f) as ClassifiedFlow).find((f) => f.client.port === 2000)!;
    expect(h.end).toBe('idle-timeout');
    expect(h.last).toBe('1970-01-01T00:01:37.000005000Z');
    expect(h.packets).toEqual({ toServer: 8, toClient: 8 });
  });

  it('random mutations of a capture: the same output, errors included', () => {
    const seeds = [
      ipv4Tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 6379, flags: 'A' }),
      ipv4Tcp({ src: '10.0.0.2', dst: '10.0.0.1', sport: 6379, dport: 40000, flags: 'A' }),
      ipv4Tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 6379, flags: 'PA', payload: new TextEncoder().encode('*1\r\n$4\r\nPING\r\n') }),
      ipv4Tcp({ src: '10.0.0.3', dst: '10.0.0.4', sport: 40001, dport: 22, flags: 'PA', payload: new Uint8Array(30), vlan: [7] }),
      ipv4Udp({ src: '10.0.0.9', dst: '10.0.0.8', sport: 1000, dport: 4789, payload: new Uint8Array(60) }),
      ipv4Udp({ src: '10.0.0.8', dst: '10.0.0.9', sport: 53, dport: 1000, payload: new Uint8Array(40) }),
    ];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(seeds.length - 1), fc.array(fc.tuple(fc.nat(80), fc.nat(255)), { maxLength: 2 }), fc.nat(3), fc.nat(1_100_000)), { minLength: 1, maxLength: 120 }),
        fc.array(fc.tuple(fc.nat(20_000), fc.nat(255)), { maxLength: 3 }),
        fc.boolean(),
        (list, fileFlips, classify) => {
          const bytes = buildPcap(
            list.map(([i, flips, t, frac]) => {
              const data = new Uint8Array(seeds[i]!);
              for (const [pos, val] of flips) if (pos < data.length) data[pos] = val;
              return { tsSec: 1_700_000_000 + t, tsFrac: frac % 1_000_000, data };
            }),
            { linkType: 1 },
          );
          // Flips in the file itself reach record headers: lengths, and fractions of a second of a
          // million or more (the reader carries those into the seconds).
          for (const [pos, val] of fileFlips) if (pos < bytes.length) bytes[pos] = val;
          expectSameOnBytes(bytes, { maxFlows: 8, idleTimeout: 2, activeTimeout: 1, classify }, 'mutated capture');
        },
      ),
      { numRuns: process.env['CI'] ? 300 : 100 },
    );
  });
});

// The file read through readCaptureFile lands in the fast path's buffers; a check that it did.
describe('reading a file into the fast path', () => {
  it('the reader reads into the engine\'s buffers, so a replay takes the fast path', async () => {
    const file = join(dir, 'small.pcap');
    generateCapture({ packets: 5_000, flows: 20, size: 'small', seed: 2, out: file });
    const fast = await runFile(file, DEFAULT, true);
    expect(fast.fastRecords).toBeGreaterThan(2_500);
    expect(readFileSync(file).length).toBeLessThan(READ_BUFFER_BYTES);
  });
});

describe('an engine that reads twice', () => {
  it('takes the fast path on the second read too (the reader gets the same two buffers again)', async () => {
    const file = join(dir, 'twice.pcap');
    generateCapture({ packets: 5_000, flows: 20, size: 'small', seed: 3, out: file });
    const engine = new Engine({ maxFlows: 1024, idleTimeout: 120, activeTimeout: 0, fastPath: true });
    await readCaptureFile(file, engine);
    const first = engine.fastRecords;
    await readCaptureFile(file, engine);
    expect(first).toBeGreaterThan(2_500);
    expect(engine.fastRecords - first).toBeGreaterThan(2_500);
  });
});

describe('a table too large for the module\'s memory', () => {
  it('runs without the fast path (4 GiB of pages at most), with nothing else changed', () => {
    expect(FastPath.create(40_000_000, READ_BUFFER_BYTES, null)).toBeNull();
  });
});

describe('a Node without WebAssembly (node --jitless)', () => {
  it('runs the built CLI without the fast path, with the same output', () => {
    const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
    const demo = fileURLToPath(new URL('../../fixtures/captures/demo.pcap', import.meta.url));
    const run = (flags: string[], workers: string): string => {
      const r = spawnSync(process.execPath, [...flags, cli, 'replay', demo, '--json', '--workers', workers], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };
    expect(run(['--jitless'], '0')).toBe(run([], '0'));
    expect(run(['--jitless'], '1')).toBe(run([], '1'));
  });
});

/**
 * The same packets as a pcapng file: one little-endian section, one Ethernet interface with the pcap
 * file's timestamp unit (if_tsresol 6 or 9).
 */
function pcapngOfPcap(pcap: Uint8Array): Uint8Array {
  const dv = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  const nano = dv.getUint32(0, true) === 0xa1b23c4d;
  const unit = nano ? 1_000_000_000n : 1_000_000n;
  const blocks: PcapngBlockSpec[] = [{ type: 'idb', linkType: 1, snaplen: dv.getUint32(16, true), tsresol: nano ? 9 : 6 }];
  for (let p = 24; p + 16 <= pcap.length; ) {
    const capLen = dv.getUint32(p + 8, true);
    const ts = BigInt(dv.getUint32(p, true)) * unit + BigInt(dv.getUint32(p + 4, true));
    blocks.push({ type: 'epb', interfaceId: 0, ts, data: pcap.slice(p + 16, p + 16 + capLen), origLen: dv.getUint32(p + 12, true) });
    p += 16 + capLen;
  }
  return buildPcapng([{ blocks }]);
}

/** The flows, totals and statistics of two runs alike (whichever took the fast path). */
function expectSameOutput(a: Run, b: Run, what: string): void {
  expect(a.totals, what).toBe(b.totals);
  expect(a.services, what).toBe(b.services);
  expect(a.ports, what).toBe(b.ports);
  expect(a.flows, what).toEqual(b.flows);
}

describe('the WebAssembly fast path over pcapng', () => {
  it('takes the Enhanced Packet Blocks of an Ethernet interface as it takes pcap records: same output as the engine alone and as the pcap file', async () => {
    const generated = join(dir, 'long-ng.pcap');
    const g = generateCapture({ packets: 60_000, flows: 600, size: 'mixed', seed: 13, out: generated });
    const mixed = join(dir, 'mixed-ng.pcap');
    writeFileSync(mixed, mixedCapture({ seed: 6, conversations: 1500 }).pcap);
    // Microsecond timestamps (the generated file) and nanosecond ones (the mixed capture).
    for (const pcapFile of [generated, mixed]) {
      const file = `${pcapFile}ng`;
      writeFileSync(file, pcapngOfPcap(readFileSync(pcapFile)));
      const fast = await runFile(file, DEFAULT, true);
      expectSame(fast, await runFile(file, DEFAULT, false), file);
      const viaPcap = await runFile(pcapFile, DEFAULT, true);
      expectSameOutput(fast, viaPcap, `${file} and the pcap file`);
      // Runs end at other places (blocks are longer than records, chunks end elsewhere), but the
      // fast path takes about as much of either file.
      expect(fast.fastRecords, file).toBeGreaterThan(viaPcap.fastRecords * 0.9);
    }
    expect((await runFile(`${generated}ng`, DEFAULT, true)).fastRecords).toBeGreaterThan(g.packets * 0.6);
  });

  it('same output with expiry sweeps, active-timeout cuts and evictions', async () => {
    const file = join(dir, 'mixed.pcapng');
    writeFileSync(file, pcapngOfPcap(mixedCapture({ seed: 7, conversations: 2000 }).pcap));
    for (const o of [
      { maxFlows: 64, idleTimeout: 20, activeTimeout: 0, classify: false },
      { maxFlows: 1000, idleTimeout: 1, activeTimeout: 2, classify: true },
    ]) {
      expectSame(await runFile(file, o, true), await runFile(file, o, false), `mixed pcapng, ${JSON.stringify(o)}`);
    }
  });

  it('leaves to the engine what it does not take: other interfaces, sections and blocks, with the same output', () => {
    // Five conversations' packets; a section sends them on its interfaces in turn, 64 at a time (runs
    // the fast path takes, between the blocks it leaves to the engine).
    const packets: Uint8Array[] = [];
    for (let c = 0; c < 5; c++) {
      const client = { src: `10.1.0.${c + 1}`, dst: '10.2.0.1', sport: 41000 + c, dport: 6379 };
      const server = { src: '10.2.0.1', dst: `10.1.0.${c + 1}`, sport: 6379, dport: 41000 + c };
      packets.push(ipv4Tcp({ ...client, flags: 'S' }), ipv4Tcp({ ...server, flags: 'SA' }), ipv4Tcp({ ...client, flags: 'A' }));
      for (let i = 0; i < 30; i++) {
        packets.push(ipv4Tcp({ ...client, flags: 'PA', payload: new TextEncoder().encode('*1\r\n$4\r\nPING\r\n') }));
        packets.push(ipv4Tcp({ ...server, flags: 'A', payload: new TextEncoder().encode('+PONG\r\n') }));
      }
    }
    const raw = (f: Uint8Array): Uint8Array => f.subarray(14); // the IP datagram of an Ethernet frame
    // Interfaces of each section: [link type, if_tsresol, if_tsoffset]; what the fast path does with
    // them is in the comment.
    const sections: { order: 'little' | 'big'; ifaces: [number, number | undefined, number | undefined][] }[] = [
      // taken (microseconds, the default unit), taken (nanoseconds), left (milliseconds), left (raw IP), left (an offset)
      { order: 'little', ifaces: [[1, undefined, undefined], [1, 9, undefined], [1, 3, undefined], [101, 9, undefined], [1, 6, 1000]] },
      // a big-endian section: all left to the engine
      { order: 'big', ifaces: [[1, 6, undefined], [1, 9, undefined]] },
      // a new section renumbers its interfaces: 0 (microseconds in the first section) counts 2^-20 s
      // here (left: read as microseconds, its times would be 5% late), 1 nanoseconds, 2 is raw IP, 3
      // counts tenths of nanoseconds (left)
      { order: 'little', ifaces: [[1, 0x80 | 20, undefined], [1, 9, undefined], [101, 6, undefined], [1, 10, undefined]] },
    ];
    let t = 0n;
    const spec: PcapngSectionSpec[] = sections.map(({ order, ifaces }, si) => {
      const blocks: PcapngBlockSpec[] = ifaces.map(([linkType, tsresol, tsoffset]) => ({
        type: 'idb', linkType, snaplen: 65535, ...(tsresol !== undefined ? { tsresol } : {}), ...(tsoffset !== undefined ? { tsoffset } : {}),
      }));
      packets.forEach((pkt, i) => {
        const id = (Math.floor(i / 64) + si) % ifaces.length;
        const [linkType, tsresol] = ifaces[id]!;
        t += 1_234_567n;
        // From 1 s after the epoch: a time read in the wrong unit is late by a fraction of a second
        // (not by years, which would make it a new capture second the engine handles itself).
        const ns = 1_000_000_000n + t;
        const res = tsresol ?? 6;
        const ts = res >= 0x80 ? (ns << BigInt(res & 0x7f)) / 1_000_000_000n : res >= 9 ? ns * 10n ** BigInt(res - 9) : ns / 10n ** BigInt(9 - res);
        blocks.push({ type: 'epb', interfaceId: id, ts, data: linkType === 101 ? raw(pkt) : pkt, ...(i % 7 === 3 ? { comment: 'x' } : {}) });
        if (i % 41 === 5) blocks.push({ type: 'spb', data: packets[(i * 3) % packets.length]! });
        if (i % 43 === 2) blocks.push({ type: 'isb', interfaceId: 0, stats: { ifrecv: i } });
        if (i % 47 === 9) blocks.push({ type: 'raw', blockType: 0x00000bad, body: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) });
      });
      return { byteOrder: order, blocks };
    });
    const bytes = buildPcapng(spec);
    for (const classify of [true, false]) {
      const o = { ...DEFAULT, idleTimeout: 5, classify };
      const fast = runBytes(bytes, o, true);
      const slow = runBytes(bytes, o, false);
      expect(fast.error).toBeNull();
      expectSame(fast, slow, `sections and interfaces, classify ${classify}`);
      expect(fast.fastRecords).toBeGreaterThan(0);
    }
  });

  it('timestamps of 64-bit counts, up to 2^64 - 1 units: the same as the engine alone', () => {
    const a = { src: '10.3.0.1', dst: '10.3.0.2', sport: 40000, dport: 22 };
    const b = { src: '10.3.0.2', dst: '10.3.0.1', sport: 22, dport: 40000 };
    const counts = [0n, 1n, 999_999n, 1_000_000n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 2n, 2n ** 64n - 1n];
    for (const tsresol of [6, 9]) {
      const blocks: PcapngBlockSpec[] = [{ type: 'idb', linkType: 1, tsresol }];
      blocks.push({ type: 'epb', interfaceId: 0, ts: 0n, data: ipv4Tcp({ ...a, flags: 'S' }) }, { type: 'epb', interfaceId: 0, ts: 0n, data: ipv4Tcp({ ...b, flags: 'SA' }) });
      for (const ts of counts) {
        blocks.push({ type: 'epb', interfaceId: 0, ts, data: ipv4Tcp({ ...a, flags: 'A' }) }, { type: 'epb', interfaceId: 0, ts, data: ipv4Tcp({ ...b, flags: 'A' }) });
      }
      const bytes = buildPcapng([{ blocks }]);
      const o = { maxFlows: 64, idleTimeout: 1e12, activeTimeout: 0, classify: false };
      const fast = runBytes(bytes, o, true);
      expectSame(fast, runBytes(bytes, o, false), `if_tsresol ${tsresol}`);
      expect(fast.fastRecords, `if_tsresol ${tsresol}`).toBeGreaterThan(0);
    }
  });

  it('random mutations of a pcapng file: the same output, errors included', () => {
    const seeds = [
      ipv4Tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 6379, flags: 'A' }),
      ipv4Tcp({ src: '10.0.0.2', dst: '10.0.0.1', sport: 6379, dport: 40000, flags: 'A' }),
      ipv4Tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 6379, flags: 'PA', payload: new TextEncoder().encode('*1\r\n$4\r\nPING\r\n') }),
      ipv4Udp({ src: '10.0.0.8', dst: '10.0.0.9', sport: 53, dport: 1000, payload: new Uint8Array(40) }),
    ];
    // Flips aimed at the fields the fast path reads (type, lengths, interface id, timestamp,
    // captured and original length, the trailing length), and anywhere.
    const FIELDS = [0, 4, 8, 12, 16, 20, 24, -4];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(seeds.length - 1), fc.nat(9), fc.nat(40_000), fc.nat(40)), { minLength: 1, maxLength: 80 }),
        fc.array(fc.tuple(fc.nat(1000), fc.nat(FIELDS.length - 1), fc.constantFrom(0, 1, 2, 3, 5, 7, 31, 32, 33, 255, 0xffff, 0x1000000, 0x1000001, 0xffffffff), fc.boolean()), { maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(20_000), fc.nat(255)), { maxLength: 2 }),
        (list, fieldFlips, byteFlips) => {
          // Interface 0 (most packets): microseconds, 1: nanoseconds, 3: Linux cooked v2 (taken), 2: raw
          // IP (left to the engine); now and then a block the reader reads itself (SPB, ISB, custom).
          // Packets at most 40 ms apart: runs, not a new capture second (a sweep) at every packet.
          const blocks: PcapngBlockSpec[] = [
            { type: 'idb', linkType: 1 }, { type: 'idb', linkType: 1, tsresol: 9 }, { type: 'idb', linkType: 101 }, { type: 'idb', linkType: 276, tsresol: 9 },
          ];
          let ts = 1_700_000_000_000_000n;
          for (const [i, pick, step, other] of list) {
            const id = pick < 7 ? 0 : pick - 6;
            ts += BigInt(step);
            const data = id === 2 ? seeds[i]!.subarray(14) : id === 3 ? cooked(seeds[i]!, 276) : seeds[i]!;
            blocks.push({ type: 'epb', interfaceId: id, ts: id === 1 || id === 3 ? ts * 1000n : ts, data });
            if (other === 0) blocks.push({ type: 'spb', data: seeds[i]! });
            else if (other === 1) blocks.push({ type: 'isb', interfaceId: 0, stats: { ifrecv: step } });
            else if (other === 2) blocks.push({ type: 'raw', blockType: 0x40000bad, body: new Uint8Array(24) });
          }
          const built = buildPcapng([{ blocks }]);
          const bytes = new Uint8Array(built);
          const dv = new DataView(bytes.buffer);
          // Block starts: walk the lengths as written.
          const starts: number[] = [];
          for (let p = 0; p + 8 <= bytes.length; p += dv.getUint32(p + 4, true)) starts.push(p);
          for (const [which, field, value, add] of fieldFlips) {
            const p = starts[which % starts.length]!;
            const at = FIELDS[field]! < 0 ? p + dv.getUint32(p + 4, true) - 4 : p + FIELDS[field]!;
            if (dv.getUint32(p, true) !== BT_EPB || at + 4 > bytes.length) continue;
            dv.setUint32(at, add ? (dv.getUint32(at, true) + value) >>> 0 : value, true);
          }
          for (const [pos, val] of byteFlips) if (pos < bytes.length) bytes[pos] = val;
          expectSameOnBytes(bytes, { maxFlows: 8, idleTimeout: 2, activeTimeout: 1, classify: true }, 'mutated pcapng');
        },
      ),
      { numRuns: process.env['CI'] ? 300 : 100 },
    );
  });
});

describe('the WebAssembly fast path over streams', () => {
  it('a gzip file and a stream of odd pieces take it too: their chunks are copied into its buffer, with the same output', async () => {
    const file = join(dir, 'long-stream.pcap');
    const g = generateCapture({ packets: 40_000, flows: 300, size: 'mixed', seed: 14, out: file });
    const bytes = readFileSync(file);
    const gz = `${file}.gz`;
    writeFileSync(gz, gzipSync(bytes));
    const fastGz = await runFile(gz, DEFAULT, true);
    expectSame(fastGz, await runFile(gz, DEFAULT, false), 'gzip file');
    expect(fastGz.fastRecords).toBeGreaterThan(g.packets * 0.5);
    // Pieces of every size: a few bytes, a pipe's 64 KiB, more than the fast path's buffer (those go
    // through a larger one, and the reader comes back to the fast path's after them).
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const pieces: Uint8Array[] = [];
    for (let p = 0; p < bytes.length; ) {
      const r = rnd();
      const n = r < 0.2 ? 1 + Math.floor(rnd() * 40) : r < 0.98 ? 65_536 : READ_BUFFER_BYTES + Math.floor(rnd() * 100_000);
      pieces.push(bytes.subarray(p, p + n));
      p += n;
    }
    const viaStream = async (fastPath: boolean): Promise<Run> => {
      const flows: ClassifiedFlow[] = [];
      const engine = engineFor(DEFAULT, fastPath, flows);
      await readCaptureStream(Readable.from(pieces), 'pieces', engine);
      return result(engine, flows);
    };
    const fast = await viaStream(true);
    expectSame(fast, await viaStream(false), 'a stream of odd pieces');
    expect(pieces.filter((p) => p.length > READ_BUFFER_BYTES).length).toBeGreaterThan(0);
    expect(fast.fastRecords).toBeGreaterThan(g.packets * 0.25);
  });

  it('a live capture\'s stream (tcpdump\'s stdout, 64 KiB at a time) takes it too, with the same output', () => {
    const file = join(dir, 'live-stream.pcap');
    const g = generateCapture({ packets: 30_000, flows: 200, size: 'small', seed: 15, out: file });
    const bytes = readFileSync(file);
    const viaFeeder = (fastPath: boolean): Run => {
      const flows: ClassifiedFlow[] = [];
      const engine = engineFor(DEFAULT, fastPath, flows);
      const feeder = new PcapStreamFeeder(engine, 'tcpdump -i lo', null);
      for (let p = 0; p < bytes.length; p += 65_536) {
        const chunk = Buffer.from(bytes.subarray(p, Math.min(bytes.length, p + 65_536)));
        feeder.push(chunk, 0, chunk.length);
      }
      feeder.finish();
      return result(engine, flows);
    };
    const fast = viaFeeder(true);
    expectSame(fast, viaFeeder(false), 'a live stream');
    expect(fast.fastRecords).toBeGreaterThan(g.packets * 0.5);
  });
});

/**
 * An Ethernet frame as a Linux cooked capture's (LINKTYPE_LINUX_SLL v1 = 113, v2 = 276: what
 * `tcpdump -i any` writes): the same EtherType and payload behind the cooked header.
 */
function cooked(frame: Uint8Array, linkType: 113 | 276): Uint8Array {
  const header = new Uint8Array(linkType === 113 ? 16 : 20);
  const dv = new DataView(header.buffer);
  if (linkType === 113) {
    dv.setUint16(2, 1); // ARPHRD_ETHER
    dv.setUint16(4, 6);
    header.set(frame.subarray(6, 12), 6);
    header.set(frame.subarray(12, 14), 14);
  } else {
    header.set(frame.subarray(12, 14), 0);
    dv.setUint32(4, 2); // interface index
    dv.setUint16(8, 1);
    header[11] = 6;
    header.set(frame.subarray(6, 12), 12);
  }
  const out = new Uint8Array(header.length + frame.length - 14);
  out.set(header, 0);
  out.set(frame.subarray(14), header.length);
  return out;
}

/** A little-endian pcap file's records, their frames made cooked (cooked()). */
function cookedPcap(pcap: Uint8Array, linkType: 113 | 276): Uint8Array {
  const dv = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  const nano = dv.getUint32(0, true) === 0xa1b23c4d;
  const frames: { tsSec: number; tsFrac: number; data: Uint8Array; origLen: number }[] = [];
  for (let p = 24; p + 16 <= pcap.length; ) {
    const capLen = dv.getUint32(p + 8, true);
    const data = cooked(pcap.subarray(p + 16, p + 16 + capLen), linkType);
    frames.push({ tsSec: dv.getUint32(p, true), tsFrac: dv.getUint32(p + 4, true), data, origLen: dv.getUint32(p + 12, true) - capLen + data.length });
    p += 16 + capLen;
  }
  return buildPcap(frames, { linkType, nano, snaplen: 262144 });
}

describe('the WebAssembly fast path over Linux cooked captures', () => {
  it('takes SLL and SLL2 frames (tcpdump -i any) as it takes Ethernet ones, with the same output as the engine alone', async () => {
    const file = join(dir, 'long-cooked.pcap');
    const g = generateCapture({ packets: 40_000, flows: 300, size: 'mixed', seed: 16, out: file });
    for (const linkType of [113, 276] as const) {
      const cookedFile = join(dir, `cooked-${linkType}.pcap`);
      writeFileSync(cookedFile, cookedPcap(readFileSync(file), linkType));
      const fast = await runFile(cookedFile, DEFAULT, true);
      expectSame(fast, await runFile(cookedFile, DEFAULT, false), `link type ${linkType}`);
      expect(fast.fastRecords, `link type ${linkType}`).toBeGreaterThan(g.packets * 0.5);
      expect(JSON.parse(fast.totals).packetsByLinkType, `link type ${linkType}`).toEqual({ [String(linkType)]: g.packets });
    }
    const mixed = mixedCapture({ seed: 8, conversations: 1500 }).pcap;
    for (const linkType of [113, 276] as const) {
      const bytes = cookedPcap(mixed, linkType);
      for (const o of [DEFAULT, { maxFlows: 64, idleTimeout: 1, activeTimeout: 2, classify: true }]) expectSameOnBytes(bytes, o, `mixed, link type ${linkType}`);
    }
  });

  it('takes them from pcapng too (a capture on Linux\'s "any"), a run at a time per link type, counted as such', () => {
    const packets = [...Array(4).keys()].flatMap((c) => {
      const client = { src: `10.5.0.${c + 1}`, dst: '10.6.0.1', sport: 42000 + c, dport: 6379 };
      const server = { src: '10.6.0.1', dst: `10.5.0.${c + 1}`, sport: 6379, dport: 42000 + c };
      return [ipv4Tcp({ ...client, flags: 'S' }), ipv4Tcp({ ...server, flags: 'SA' }), ...[...Array(60).keys()].map((i) => ipv4Tcp({ ...(i % 2 ? server : client), flags: 'A' }))];
    });
    // Interfaces: Ethernet, SLL (nanoseconds), SLL2; each sends 32 packets in turn.
    const ifaces = [[1, 6], [113, 9], [276, 6]] as const;
    const blocks: PcapngBlockSpec[] = ifaces.map(([linkType, tsresol]) => ({ type: 'idb', linkType, tsresol }));
    packets.forEach((pkt, i) => {
      const id = Math.floor(i / 32) % ifaces.length;
      const [linkType, tsresol] = ifaces[id]!;
      const us = 1_700_000_000_000_000n + BigInt(i) * 1000n;
      blocks.push({ type: 'epb', interfaceId: id, ts: tsresol === 9 ? us * 1000n : us, data: linkType === 1 ? pkt : cooked(pkt, linkType) });
    });
    const bytes = buildPcapng([{ blocks }]);
    const fast = runBytes(bytes, DEFAULT, true);
    expect(fast.error).toBeNull();
    expectSame(fast, runBytes(bytes, DEFAULT, false), 'Ethernet, SLL and SLL2 interfaces');
    expect(fast.fastRecords).toBeGreaterThan(packets.length / 2);
    expect(Object.keys(JSON.parse(fast.totals).packetsByLinkType)).toEqual(['1', '113', '276']);
  });

  it('random mutations of cooked frames (their headers included): the same output, errors included', () => {
    const seeds = [
      ipv4Tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 6379, flags: 'A' }),
      ipv4Tcp({ src: '10.0.0.2', dst: '10.0.0.1', sport: 6379, dport: 40000, flags: 'A' }),
      ipv4Tcp({ src: '10.0.0.3', dst: '10.0.0.4', sport: 40001, dport: 22, flags: 'PA', payload: new Uint8Array(30), vlan: [7] }),
      ipv4Udp({ src: '10.0.0.8', dst: '10.0.0.9', sport: 53, dport: 1000, payload: new Uint8Array(40) }),
      ipv6Tcp({ src: 'fd00::1', dst: 'fd00::2', sport: 40002, dport: 443, flags: 'A' }),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(113, 276),
        fc.array(fc.tuple(fc.nat(seeds.length - 1), fc.array(fc.tuple(fc.nat(40), fc.nat(255)), { maxLength: 2 }), fc.nat(30_000)), { minLength: 1, maxLength: 100 }),
        fc.array(fc.tuple(fc.nat(20_000), fc.nat(255)), { maxLength: 2 }),
        (linkType, list, fileFlips) => {
          let t = 0;
          const bytes = buildPcap(
            list.map(([i, flips, step]) => {
              const data = cooked(seeds[i]!, linkType as 113 | 276);
              for (const [pos, val] of flips) if (pos < data.length) data[pos] = val;
              t += step;
              return { tsSec: 1_700_000_000 + Math.floor(t / 1e6), tsFrac: t % 1_000_000, data };
            }),
            { linkType },
          );
          for (const [pos, val] of fileFlips) if (pos < bytes.length) bytes[pos] = val;
          expectSameOnBytes(bytes, { maxFlows: 8, idleTimeout: 2, activeTimeout: 1, classify: true }, `mutated cooked capture, link type ${linkType}`);
        },
      ),
      { numRuns: process.env['CI'] ? 300 : 100 },
    );
  });
});

