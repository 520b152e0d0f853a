/**
 * Micro benchmarks (`npm run bench:micro`): one layer at a time, on a generated capture held in
 * memory, packets (or lookups) per second. The losing alternatives stay as cases, as gopacket's
 * benchmark_test.go keeps them, so the reason for each hot-path choice can be re-measured:
 *
 * - pcap read: readCaptureFile() from the page cache into a counting sink (syscalls + record walk);
 *   CaptureParser.feed() over ~1 MiB chunks copied from memory (the record walk alone: what a
 *   reading thread that hands chunks to workers pays per packet); and the chunk copy alone, the
 *   baseline included in the chunked cases.
 * - decode only: PacketDecoder.decode() over every frame of each chunk, right after the copy.
 *   Chunked on purpose: decoding straight out of the whole file in memory (hundreds of MB) costs
 *   about twice as much per packet, because every record header is then a cache miss; the real
 *   pipeline decodes a chunk it has just read, while it is in cache.
 * - flow table only: FlowTable.process() over pre-decoded packets (the decoded fields are copied
 *   back into one DecodedPacket per packet, a few ns), against the losing alternative, a Map keyed
 *   by a canonical 5-tuple string holding one object per flow.
 * - classify lookup: PortIndex.lookup() (65,536-slot table per transport) on ports covered by
 *   exact rules and on ports covered by ranges, against the losing alternative, a linear scan over
 *   every rule's port specs picking the narrowest match.
 * - recognise: recognizePayload() on the first client and server segment of each kind of exchange
 *   the benchmark captures carry (bench/payloads.ts), calls per second.
 *
 *   npm run bench:micro                        # 500k packets / 10k flows, small packets
 *   npm run bench:micro -- --packets 1000000 --flows 50000 --size mixed --time 2 --only decode
 *
 * Each case runs a warm-up pass, then passes until --time seconds (default 1) and at least 5
 * passes; the median pass gives the rate. Nothing is written into the repository.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { readCaptureFile } from '../src/capture/file.js';
import { CaptureParser } from '../src/capture/parser.js';
import type { FrameSink } from '../src/capture/types.js';
import { PacketDecoder } from '../src/decode/decoder.js';
import { DecodedPacket } from '../src/decode/types.js';
import { compareEndpoints } from '../src/flow/key.js';
import { FlowTable } from '../src/flow/table.js';
import { compileRules } from '../src/rules/compile.js';
import { defaultRulesDir, loadRuleDirs } from '../src/rules/load.js';
import type { Rule } from '../src/rules/types.js';
import { describeGen, generateCapture, type PacketSizeProfile } from './gen-capture.js';
import { Prng } from './prng.js';
import { grpcExchange, httpExchange, respExchange, sshExchange, tlsExchange, zeebeCommandExchange, type Exchange } from './payloads.js';
import { recognizePayload } from '../src/classify/recognize/index.js';

export interface MicroResult {
  name: string;
  /** Packets (or lookups) per pass. */
  items: number;
  passes: number;
  /** Median items per second. */
  rate: number;
  nsPerItem: number;
}

/** Times `run` (one pass over `items` items) after `setup`; median of the passes. */
export async function timeCase(
  name: string,
  items: number,
  setup: () => () => unknown,
  minSeconds: number,
): Promise<MicroResult> {
  const samples: number[] = [];
  let sink = 0;
  // Warm-up pass (JIT), untimed.
  {
    const run = setup();
    const r = run();
    if (r instanceof Promise) await r;
  }
  let total = 0;
  while (samples.length < 5 || total < minSeconds) {
    const run = setup();
    const t0 = process.hrtime.bigint();
    let r = run();
    if (r instanceof Promise) r = await r;
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (typeof r === 'number') sink += r;
    samples.push(dt);
    total += dt;
    if (samples.length >= 200) break;
  }
  samples.sort((a, b) => a - b);
  const med = samples[samples.length >> 1]!;
  if (sink === -1) console.log(''); // keep results observable so passes are not optimised away
  return { name, items, passes: samples.length, rate: items / med, nsPerItem: (med * 1e9) / items };
}

/** Offsets, lengths and timestamps of every record of a little-endian classic pcap in memory. */
export interface FrameIndex {
  count: number;
  offset: Uint32Array;
  capLen: Uint32Array;
  origLen: Uint32Array;
  tsSec: Float64Array;
  tsNsec: Uint32Array;
}

export function indexPcap(file: Uint8Array): FrameIndex {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (dv.getUint32(0, true) !== 0xa1b2c3d4) throw new Error('micro: expected a little-endian microsecond pcap');
  let n = 0;
  for (let p = 24; p + 16 <= file.length; p += 16 + dv.getUint32(p + 8, true)) n++;
  const ix: FrameIndex = {
    count: n,
    offset: new Uint32Array(n),
    capLen: new Uint32Array(n),
    origLen: new Uint32Array(n),
    tsSec: new Float64Array(n),
    tsNsec: new Uint32Array(n),
  };
  let p = 24;
  for (let i = 0; i < n; i++) {
    const cap = dv.getUint32(p + 8, true);
    ix.tsSec[i] = dv.getUint32(p, true);
    ix.tsNsec[i] = dv.getUint32(p + 4, true) * 1000;
    ix.capLen[i] = cap;
    ix.origLen[i] = dv.getUint32(p + 12, true);
    ix.offset[i] = p + 16;
    p += 16 + cap;
  }
  return ix;
}

/** Record-aligned chunks of at most CHUNK bytes: [start, end) in the file, frames [first, last). */
export interface Chunks {
  start: Uint32Array;
  end: Uint32Array;
  first: Uint32Array;
  last: Uint32Array;
  count: number;
}

export const CHUNK = 1 << 20;

export function chunkIndex(ix: FrameIndex): Chunks {
  const s: number[] = [];
  const e: number[] = [];
  const f: number[] = [];
  const l: number[] = [];
  let i = 0;
  while (i < ix.count) {
    const start = ix.offset[i]! - 16;
    let j = i;
    while (j < ix.count && ix.offset[j]! + ix.capLen[j]! - start <= CHUNK) j++;
    if (j === i) j = i + 1; // a record larger than a chunk gets a chunk of its own
    s.push(start);
    e.push(ix.offset[j - 1]! + ix.capLen[j - 1]!);
    f.push(i);
    l.push(j);
    i = j;
  }
  return { start: Uint32Array.from(s), end: Uint32Array.from(e), first: Uint32Array.from(f), last: Uint32Array.from(l), count: s.length };
}

/** The decoded fields the flow table reads, one typed-array column each. */
interface DecodedColumns {
  status: Uint8Array;
  anomaly: Uint16Array;
  ipVersion: Uint8Array;
  ipProto: Uint8Array;
  fragment: Uint8Array;
  fragId: Float64Array;
  hasPorts: Uint8Array;
  src: Uint32Array; // 4 words per packet
  dst: Uint32Array;
  srcPort: Uint16Array;
  dstPort: Uint16Array;
  vlanCount: Uint8Array;
  vlanOuter: Uint16Array;
  vlanInner: Uint16Array;
  tcpFlags: Uint8Array;
  icmpType: Uint8Array;
  payloadOffset: Uint32Array;
  payloadCaptured: Uint32Array;
  payloadLength: Uint32Array;
}

function decodeAll(file: Uint8Array, ix: FrameIndex): DecodedColumns {
  const n = ix.count;
  const c: DecodedColumns = {
    status: new Uint8Array(n), anomaly: new Uint16Array(n), ipVersion: new Uint8Array(n), ipProto: new Uint8Array(n),
    fragment: new Uint8Array(n), fragId: new Float64Array(n), hasPorts: new Uint8Array(n),
    src: new Uint32Array(n * 4), dst: new Uint32Array(n * 4), srcPort: new Uint16Array(n), dstPort: new Uint16Array(n),
    vlanCount: new Uint8Array(n), vlanOuter: new Uint16Array(n), vlanInner: new Uint16Array(n), tcpFlags: new Uint8Array(n),
    icmpType: new Uint8Array(n), payloadOffset: new Uint32Array(n), payloadCaptured: new Uint32Array(n), payloadLength: new Uint32Array(n),
  };
  const dec = new PacketDecoder();
  for (let i = 0; i < n; i++) {
    const p = dec.decode(file, ix.offset[i]!, ix.capLen[i]!, ix.origLen[i]!, 1);
    c.status[i] = p.status; c.anomaly[i] = p.anomaly; c.ipVersion[i] = p.ipVersion; c.ipProto[i] = p.ipProto;
    c.fragment[i] = p.fragment; c.fragId[i] = p.fragId; c.hasPorts[i] = p.hasPorts ? 1 : 0;
    c.src[i * 4] = p.src0; c.src[i * 4 + 1] = p.src1; c.src[i * 4 + 2] = p.src2; c.src[i * 4 + 3] = p.src3;
    c.dst[i * 4] = p.dst0; c.dst[i * 4 + 1] = p.dst1; c.dst[i * 4 + 2] = p.dst2; c.dst[i * 4 + 3] = p.dst3;
    c.srcPort[i] = p.srcPort; c.dstPort[i] = p.dstPort;
    c.vlanCount[i] = p.vlanCount; c.vlanOuter[i] = p.vlanOuter; c.vlanInner[i] = p.vlanInner;
    c.tcpFlags[i] = p.tcpFlags; c.icmpType[i] = p.icmpType;
    c.payloadOffset[i] = p.payloadOffset; c.payloadCaptured[i] = p.payloadCaptured; c.payloadLength[i] = p.payloadLength;
  }
  return c;
}

function loadInto(p: DecodedPacket, c: DecodedColumns, i: number): void {
  p.status = c.status[i]!; p.anomaly = c.anomaly[i]!; p.ipVersion = c.ipVersion[i]!; p.ipProto = c.ipProto[i]!;
  p.fragment = c.fragment[i]!; p.fragId = c.fragId[i]!; p.hasPorts = c.hasPorts[i] === 1; p.quotedValid = false;
  const j = i * 4;
  p.src0 = c.src[j]!; p.src1 = c.src[j + 1]!; p.src2 = c.src[j + 2]!; p.src3 = c.src[j + 3]!;
  p.dst0 = c.dst[j]!; p.dst1 = c.dst[j + 1]!; p.dst2 = c.dst[j + 2]!; p.dst3 = c.dst[j + 3]!;
  p.srcPort = c.srcPort[i]!; p.dstPort = c.dstPort[i]!;
  p.vlanCount = c.vlanCount[i]!; p.vlanOuter = c.vlanOuter[i]!; p.vlanInner = c.vlanInner[i]!;
  p.tcpFlags = c.tcpFlags[i]!; p.icmpType = c.icmpType[i]!;
  p.payloadOffset = c.payloadOffset[i]!; p.payloadCaptured = c.payloadCaptured[i]!; p.payloadLength = c.payloadLength[i]!;
}

/** The losing alternative: one object per flow in a Map keyed by a canonical 5-tuple string. */
interface MapFlow {
  clientIsA: boolean;
  pktsAB: number;
  pktsBA: number;
  bytesAB: number;
  bytesBA: number;
  firstSec: number;
  lastSec: number;
  lastNsec: number;
  tcpFlags: number;
}

function mapFlowPass(c: DecodedColumns, ix: FrameIndex): number {
  const flows = new Map<string, MapFlow>();
  for (let i = 0; i < ix.count; i++) {
    if (c.ipVersion[i] === 0 || c.hasPorts[i] === 0) continue;
    const j = i * 4;
    const s0 = c.src[j]!, s1 = c.src[j + 1]!, s2 = c.src[j + 2]!, s3 = c.src[j + 3]!, sp = c.srcPort[i]!;
    const d0 = c.dst[j]!, d1 = c.dst[j + 1]!, d2 = c.dst[j + 2]!, d3 = c.dst[j + 3]!, dp = c.dstPort[i]!;
    const srcIsA = compareEndpoints(s0, s1, s2, s3, sp, d0, d1, d2, d3, dp) <= 0;
    const vlan = (c.vlanCount[i]! << 24) | (c.vlanOuter[i]! << 12) | c.vlanInner[i]!;
    const key = srcIsA
      ? `${c.ipProto[i]}|${vlan}|${s0}.${s1}.${s2}.${s3}|${sp}|${d0}.${d1}.${d2}.${d3}|${dp}`
      : `${c.ipProto[i]}|${vlan}|${d0}.${d1}.${d2}.${d3}|${dp}|${s0}.${s1}.${s2}.${s3}|${sp}`;
    let f = flows.get(key);
    if (f === undefined) {
      f = { clientIsA: srcIsA, pktsAB: 0, pktsBA: 0, bytesAB: 0, bytesBA: 0, firstSec: ix.tsSec[i]!, lastSec: 0, lastNsec: 0, tcpFlags: 0 };
      flows.set(key, f);
    }
    if (srcIsA) {
      f.pktsAB++;
      f.bytesAB += ix.origLen[i]!;
    } else {
      f.pktsBA++;
      f.bytesBA += ix.origLen[i]!;
    }
    f.lastSec = ix.tsSec[i]!;
    f.lastNsec = ix.tsNsec[i]!;
    f.tcpFlags |= c.tcpFlags[i]!;
  }
  return flows.size;
}

/** The losing alternative for classification: scan every rule's specs, keep the narrowest match. */
function linearLookup(rules: readonly Rule[], transport: string, port: number): Rule | null {
  let best: Rule | null = null;
  let bestWidth = Infinity;
  for (const r of rules) {
    if (r.transport !== transport) continue;
    for (const s of r.ports) {
      if (port >= s.lo && port <= s.hi) {
        const w = s.hi - s.lo + 1;
        if (w < bestWidth) {
          bestWidth = w;
          best = r;
        }
      }
    }
  }
  return best;
}

export interface MicroOptions {
  packets: number;
  flows: number;
  size: PacketSizeProfile;
  seed: number;
  time: number;
  only: string[] | null;
  log?: (line: string) => void;
}

export async function runMicro(o: MicroOptions): Promise<MicroResult[]> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const want = (name: string): boolean => o.only === null || o.only.some((w) => name.includes(w));
  const tmp = mkdtempSync(join(tmpdir(), 'portsniff-micro-'));
  const results: MicroResult[] = [];
  try {
    const path = join(tmp, 'micro.pcap');
    const g = generateCapture({ packets: o.packets, flows: o.flows, size: o.size, seed: o.seed, out: path });
    log(describeGen(g));
    const file = readFileSync(path);
    const ix = indexPcap(file);
    const n = ix.count;
    const ch = chunkIndex(ix);
    const chunkBuf = Buffer.allocUnsafe(CHUNK);
    const add = (r: MicroResult): void => {
      results.push(r);
      log(`  ${r.name}: ${(r.rate / 1e6).toFixed(2)}M/s (${r.nsPerItem.toFixed(1)} ns each, ${r.passes} passes)`);
    };

    if (want('pcap read')) {
      add(await timeCase('pcap read: readCaptureFile, counting sink', n, () => {
        let count = 0;
        const sink: FrameSink = { frame: () => void count++ };
        return async () => {
          await readCaptureFile(path, sink);
          return count;
        };
      }, o.time));
      add(await timeCase('pcap read: 1 MiB chunk copy only (baseline of the chunked cases)', n, () => () => {
        for (let c = 0; c < ch.count; c++) file.copy(chunkBuf, 0, ch.start[c]!, ch.end[c]!);
        return ch.count;
      }, o.time));
      add(await timeCase('pcap read: chunk copy + CaptureParser.feed (record walk)', n, () => {
        let count = 0;
        const sink: FrameSink = { frame: () => void count++ };
        return () => {
          const parser = new CaptureParser(sink, 'memory');
          // The 24-byte file header, then every chunk as the reading thread would see it.
          file.copy(chunkBuf, 0, 0, 24);
          parser.feed(chunkBuf, 0, 24);
          for (let c = 0; c < ch.count; c++) {
            const len = ch.end[c]! - ch.start[c]!;
            file.copy(chunkBuf, 0, ch.start[c]!, ch.end[c]!);
            parser.feed(chunkBuf, 0, len);
          }
          return count;
        };
      }, o.time));
    }

    if (want('decode')) {
      add(await timeCase('decode only: chunk copy + PacketDecoder.decode', n, () => {
        const dec = new PacketDecoder();
        return () => {
          let acc = 0;
          for (let c = 0; c < ch.count; c++) {
            const base = ch.start[c]!;
            file.copy(chunkBuf, 0, base, ch.end[c]!);
            for (let i = ch.first[c]!; i < ch.last[c]!; i++) acc += dec.decode(chunkBuf, ix.offset[i]! - base, ix.capLen[i]!, ix.origLen[i]!, 1).srcPort;
          }
          return acc;
        };
      }, o.time));
      add(await timeCase('decode only: straight out of the whole file in memory (cache-cold, for comparison)', n, () => {
        const dec = new PacketDecoder();
        return () => {
          let acc = 0;
          for (let i = 0; i < n; i++) acc += dec.decode(file, ix.offset[i]!, ix.capLen[i]!, ix.origLen[i]!, 1).srcPort;
          return acc;
        };
      }, o.time));
    }

    if (want('flow table')) {
      const cols = decodeAll(file, ix);
      add(await timeCase('flow table only: FlowTable.process (typed arrays, open addressing)', n, () => {
        const table = new FlowTable({ maxFlows: 262_144, idleTimeout: 120, activeTimeout: 0 });
        const p = new DecodedPacket();
        return () => {
          for (let i = 0; i < n; i++) {
            loadInto(p, cols, i);
            table.process(p, i, ix.tsSec[i]!, ix.tsNsec[i]!, ix.origLen[i]!, file);
          }
          return table.created;
        };
      }, o.time));
      add(await timeCase('flow table only: Map<string, object> (losing alternative)', n, () => () => mapFlowPass(cols, ix), o.time));
    }

    if (want('classify')) {
      const rules = loadRuleDirs([defaultRulesDir()]);
      const index = compileRules(rules);
      const r = new Prng(o.seed);
      const exact: number[] = [];
      const ranged: number[] = [];
      for (const rule of rules.rules) {
        if (rule.transport !== 'tcp') continue;
        for (const s of rule.ports) if (s.lo === s.hi) exact.push(s.lo);
      }
      // Ports inside a range and not an exact port of any rule (10000-19999, 20000-29999, ...).
      for (let p = 1; p < 65536; p++) {
        if (exact.includes(p)) continue;
        if (index.lookup(6, p) !== 0) ranged.push(p);
      }
      const LOOKUPS = 1_000_000;
      const stream = (ports: number[]): Uint16Array => {
        const out = new Uint16Array(LOOKUPS);
        for (let i = 0; i < LOOKUPS; i++) out[i] = ports[r.int(ports.length)]!;
        return out;
      };
      const exactStream = stream(exact);
      const rangeStream = stream(ranged);
      const ruleList = rules.rules;
      for (const [label, ports] of [['exact ports', exactStream], ['range ports', rangeStream]] as const) {
        add(await timeCase(`classify lookup: PortIndex.lookup, ${label}`, LOOKUPS, () => () => {
          let acc = 0;
          for (let i = 0; i < LOOKUPS; i++) acc += index.lookup(6, ports[i]!);
          return acc;
        }, o.time));
        add(await timeCase(`classify lookup: linear scan of rule specs, ${label} (losing alternative)`, LOOKUPS, () => () => {
          let acc = 0;
          for (let i = 0; i < LOOKUPS; i++) if (linearLookup(ruleList, 'tcp', ports[i]!) !== null) acc++;
          return acc;
        }, o.time));
      }
    }

    if (want('recognise')) {
      // The first segment of each side of the benchmark captures' exchanges (bench/payloads.ts),
      // through recognizePayload as the classifier calls it without a flow log (no details).
      const r = new Prng(o.seed);
      const exchanges: [string, Exchange, number][] = [
        ['gRPC (HTTP/2 + HPACK)', grpcExchange(r, '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources', 'gloo.gloo-system.svc:9977', 'grpc-go/1.62.1'), 9977],
        ['TLS', tlsExchange(r, 'api.example.com', ['h2', 'http/1.1']), 443],
        ['HTTP/1.1', httpExchange(r, 'svc.example', 8080), 8080],
        ['RESP', respExchange(r), 6379],
        ['Zeebe', zeebeCommandExchange(r), 26501],
        ['SSH (not recognised)', sshExchange(r), 22],
      ];
      const CALLS = 20_000;
      for (const [label, e, port] of exchanges) {
        for (const [side, bytes, d] of [['client', e.toServer, 0], ['server', e.toClient, 1]] as const) {
          add(await timeCase(`recognise: ${label}, ${side} first segment (${bytes.length} bytes)`, CALLS, () => () => {
            let acc = 0;
            for (let i = 0; i < CALLS; i++) acc += recognizePayload(bytes, 0, bytes.length, d, 6, port, false) === null ? 0 : 1;
            return acc;
          }, o.time));
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return results;
}

export function formatMicro(results: readonly MicroResult[]): string {
  const rows = [['case', 'per second', 'ns each', 'passes'], ...results.map((r) => [r.name, `${(r.rate / 1e6).toFixed(2)}M`, r.nsPerItem.toFixed(1), String(r.passes)])];
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r, i) => r.map((v, c) => (c === 0 ? v.padEnd(w[c]!) : v.padStart(w[c]!))).join('  ') + (i === 0 ? `\n${w.map((x) => '-'.repeat(x)).join('  ')}` : '')).join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      packets: { type: 'string' },
      flows: { type: 'string' },
      size: { type: 'string' },
      seed: { type: 'string' },
      time: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const num = (v: string | undefined, d: number): number => (v === undefined ? d : Number(v.replace(/_/g, '')));
  runMicro({
    packets: num(values.packets, 500_000),
    flows: num(values.flows, 10_000),
    size: (values.size ?? 'small') as PacketSizeProfile,
    seed: num(values.seed, 1),
    time: num(values.time, 1),
    only: values.only !== undefined ? values.only.split(',') : null,
  })
    .then((res) => process.stdout.write(`\n${formatMicro(res)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`bench:micro: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    });
}
