/**
 * The stream classifier (the proxy's entry point into classification) gives the same verdicts as
 * capture mode: every TCP/UDP flow of the committed real-traffic captures is classified both ways,
 * capture mode by the engine (PortMapClassifier over flow-table slots) and stream mode from the
 * same payload segments in the same order, and the results must be equal. Plus what only a relay
 * can do: a ClientHello trickling in byte by byte, or larger than capture mode's 2 KiB window, still
 * gives SNI and ALPN, within the 16 KiB / 5 s bounds.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { StreamClassifier, STREAM_INSPECT_BYTES, STREAM_INSPECT_MS, type StreamDirection } from '../../src/classify/stream-classifier.js';
import { parseCidrList } from '../../src/classify/exposure.js';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { FragmentKind } from '../../src/decode/types.js';
import { IpProto } from '../../src/util/ip-proto.js';
import { formatAddress } from '../../src/flow/key.js';
import { buildClassification } from '../../src/pipeline/classification.js';
import { compileRules } from '../../src/rules/compile.js';
import { defaultRulesDir, loadRuleDirs } from '../../src/rules/load.js';
import { clientHello } from '../../fixtures/gen/tls-records.js';
import { runEngineOnFile } from '../helpers/run-engine.js';
import { readFramesSync } from '../helpers/read-frames.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REAL = join(ROOT, 'fixtures/captures/real');
const ruleSet = loadRuleDirs([defaultRulesDir()]);
const index = compileRules(ruleSet);

interface Segments {
  transport: 'tcp' | 'udp';
  client: string;
  server: string;
  clientIp: string;
  clientPort: number;
  serverPort: number;
  /** Payload pieces in arrival order, with their direction (0 to the server). */
  pieces: Array<[StreamDirection, Uint8Array]>;
}

/** Payload segments per flow, in capture order; TCP deduplicated by sequence number (in-order only). */
function segmentsOf(path: string): Segments[] {
  const decoder = new PacketDecoder();
  const flows = new Map<string, Segments & { next: Map<string, number> }>();
  for (const fr of readFramesSync(path)) {
    const p = decoder.decode(fr.data, fr.offset, fr.capLen, fr.origLen, fr.linkType);
    if (!p.hasPorts || p.fragment === FragmentKind.Later) continue;
    if (p.ipProto !== IpProto.TCP && p.ipProto !== IpProto.UDP) continue;
    const srcIp = formatAddress(p.ipVersion, p.src0, p.src1, p.src2, p.src3);
    const a = `${srcIp}:${p.srcPort}`;
    const b = `${formatAddress(p.ipVersion, p.dst0, p.dst1, p.dst2, p.dst3)}:${p.dstPort}`;
    const transport = p.ipProto === IpProto.TCP ? 'tcp' : 'udp';
    const key = `${transport} ${a < b ? `${a}|${b}` : `${b}|${a}`}`;
    let f = flows.get(key);
    if (f === undefined) {
      // The engine's direction: SYN sender for TCP; for these captures the first sender otherwise.
      const synAck = transport === 'tcp' && (p.tcpFlags & 0x12) === 0x12;
      const [client, server, clientIp, clientPort, serverPort] = synAck
        ? [b, a, formatAddress(p.ipVersion, p.dst0, p.dst1, p.dst2, p.dst3), p.dstPort, p.srcPort]
        : [a, b, srcIp, p.srcPort, p.dstPort];
      f = { transport, client, server, clientIp, clientPort, serverPort, pieces: [], next: new Map() };
      flows.set(key, f);
    }
    const payload = fr.data.slice(p.payloadOffset, p.payloadOffset + p.payloadCaptured);
    const dir: StreamDirection = a === f.client ? 0 : 1;
    if (transport === 'udp') {
      if (payload.length > 0) f.pieces.push([dir, payload]);
      continue;
    }
    if (p.tcpFlags & 0x02) {
      f.next.set(a, (p.tcpSeq + 1) >>> 0);
      continue;
    }
    if (payload.length === 0) continue;
    const next = f.next.get(a) ?? p.tcpSeq;
    const skip = (next - p.tcpSeq) | 0;
    if (skip < 0 || skip >= payload.length) continue;
    f.pieces.push([dir, payload.subarray(skip)]);
    f.next.set(a, (p.tcpSeq + payload.length) >>> 0);
  }
  return [...flows.values()];
}

describe('StreamClassifier: the same verdicts as capture mode', () => {
  const files = readdirSync(REAL).filter((f) => f.endsWith('.pcap')).sort();

  it('has real captures to compare', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
  });

  for (const file of files) {
    it(file, async () => {
      const path = join(REAL, file);
      const built = buildClassification({ ruleSet });
      const run = await runEngineOnFile(path, { maxFlows: 1024, classifier: built.makeClassifier(1024), documentedPorts: built.documentedPorts });
      const stream = new StreamClassifier(index);
      const compared: string[] = [];
      for (const s of segmentsOf(path)) {
        const captured = run.flows.find(
          (f) => f.transport === s.transport && `${f.client.ip}:${f.client.port}` === s.client && `${f.server.ip}:${f.server.port}` === s.server,
        );
        if (captured === undefined) continue; // a direction the engine decided differently (none in these files)
        const inspection = stream.open(s.transport === 'tcp' ? 6 : 17, s.serverPort, s.clientPort, s.clientIp);
        for (const [dir, bytes] of s.pieces) if (inspection.wants(dir)) inspection.feed(dir, bytes, 0, bytes.length, 0);
        const c = inspection.classification();
        const { service, verdict, ambiguous, candidates, basis, evidence, exposure } = captured;
        expect({ service, verdict, ambiguous, candidates, basis, evidence, exposure }, `${file} ${s.client} > ${s.server}`).toEqual({
          service: c.service,
          verdict: c.verdict,
          ambiguous: c.ambiguous,
          candidates: c.candidates,
          basis: c.basis,
          evidence: c.evidence,
          exposure: c.exposure,
        });
        compared.push(`${s.transport} ${verdict}`);
      }
      expect(compared.length, `${file}: no flow compared`).toBeGreaterThan(0);
    });
  }
});

describe('StreamClassifier: first messages a relay reads whole', () => {
  const rand = (() => {
    let x = 7;
    return () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32);
  })();

  it('a ClientHello arriving one byte per read still gives SNI and ALPN (TLS on 9443: verified)', () => {
    const hello = clientHello({ sni: 'api.cluster.redis.example', alpn: ['h2', 'http/1.1'] }, rand);
    const i = new StreamClassifier(index).open(6, 9443, 51000, '10.1.2.3');
    let reads = 0;
    for (let n = 0; n < hello.length && i.wants(0); n++, reads++) i.feed(0, hello, n, 1, n);
    const c = i.classification();
    expect(c.verdict).toBe('verified');
    expect(c.service?.id).toBe('redis-enterprise.rest-api-https');
    expect(c.evidence).toMatchObject({ protocol: 'tls', sni: 'api.cluster.redis.example', alpn: 'h2,http/1.1' });
    // It stopped copying once the hello was complete, not at the byte cap.
    expect(reads).toBe(hello.length);
    expect(i.wants(0)).toBe(false);
  });

  it('a 9 KiB ClientHello (SNI after a large padding extension) is read whole; capture mode would stop at 2 KiB', () => {
    // Extension 21 (padding, RFC 7685) of 9000 bytes before server_name.
    const plain = clientHello({ sni: 'big.hello.example' }, rand);
    const padding = new Uint8Array(4 + 9000);
    padding[0] = 0;
    padding[1] = 21;
    padding[2] = 9000 >> 8;
    padding[3] = 9000 & 0xff;
    const big = withExtensionFirst(plain, padding);
    expect(big.length).toBeGreaterThan(9000);
    const i = new StreamClassifier(index).open(6, 9443, 51000, '10.1.2.3');
    for (let off = 0; off < big.length; off += 1400) i.feed(0, big, off, Math.min(1400, big.length - off), 0);
    expect(i.classification().evidence).toMatchObject({ protocol: 'tls', sni: 'big.hello.example' });
    expect(i.classification().evidence['note']).toBeUndefined();
  });

  it('collects at most 16 KiB per direction, and stops 5 s after the first byte', () => {
    const junk = new Uint8Array(40_000).fill(0x16); // looks like a TLS record header forever
    const a = new StreamClassifier(index).open(6, 9443, 51000, '10.1.2.3');
    let fed = 0;
    for (let off = 0; off < junk.length && a.wants(0); off += 1000) {
      a.feed(0, junk, off, 1000, 0);
      fed += 1000;
    }
    // The read that crosses 16 KiB is the last one copied (only its first part).
    expect(fed).toBe(Math.ceil(STREAM_INSPECT_BYTES / 1000) * 1000);
    const b = new StreamClassifier(index).open(6, 9443, 51000, '10.1.2.3');
    b.feed(0, junk, 0, 10, 1000);
    expect(b.wants(0)).toBe(true);
    b.feed(0, junk, 10, 10, 1000 + STREAM_INSPECT_MS);
    expect(b.wants(0)).toBe(false);
  });

  it('the server port decides (the proxy passes the upstream port); the client address decides exposure', () => {
    const resp = new TextEncoder().encode('*1\r\n$4\r\nPING\r\n');
    const s = new StreamClassifier(index, { monitoringHosts: parseCidrList('10.0.5.0/24') });
    const onDb = s.open(6, 12000, 16000, '203.0.113.9');
    onDb.feed(0, resp, 0, resp.length, 0);
    expect(onDb.classification()).toMatchObject({ verdict: 'verified', basis: 'server-port', service: { id: 'redis-enterprise.database-endpoints' } });
    // 12000 as the client port and an unknown server port: the client port only counts when the server port matches nothing.
    const reversed = s.open(6, 40999, 12000, '10.0.0.1');
    reversed.feed(0, resp, 0, resp.length, 0);
    expect(reversed.classification().basis).toBe('client-port');
    // Shards (20000-29999) are internal: a public client is a violation, a private one is fine.
    expect(s.open(6, 20000, 50000, '203.0.113.9').classification().exposure?.status).toBe('violation');
    expect(s.open(6, 20000, 50000, '10.0.0.9').classification().exposure?.status).toBe('ok');
    expect(s.open(6, 20000, 50000, '::ffff:10.0.0.9').classification().exposure?.status).toBe('ok');
  });

  it('HTTP on a RESP port is a mismatch', () => {
    const http = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const i = new StreamClassifier(index).open(6, 12000, 50000, '127.0.0.1');
    i.feed(0, http, 0, http.length, 0);
    expect(i.classification()).toMatchObject({ verdict: 'mismatch', evidence: { protocol: 'http1' } });
  });

  it('evidenceDetail false keeps only protocol and tags', () => {
    const resp = new TextEncoder().encode('*1\r\n$4\r\nPING\r\n');
    const i = new StreamClassifier(index, { evidenceDetail: false }).open(6, 12000, 50000, '127.0.0.1');
    i.feed(0, resp, 0, resp.length, 0);
    expect(i.classification().evidence).toEqual({});
    expect(i.classification(true).evidence['protocol']).toBe('resp');
  });
});

/** The ClientHello record with `extension` inserted as its first extension (lengths fixed up). */
function withExtensionFirst(record: Uint8Array, extension: Uint8Array): Uint8Array {
  const hs = record.subarray(5);
  const body = hs.subarray(4);
  // body: version 2, random 32, session id (1 + n), suites (2 + n), compression (1 + n), extensions (2 + n)
  let p = 2 + 32;
  p += 1 + body[p]!;
  p += 2 + ((body[p]! << 8) | body[p + 1]!);
  p += 1 + body[p]!;
  const extLen = (body[p]! << 8) | body[p + 1]!;
  const newExtLen = extLen + extension.length;
  const newBody = new Uint8Array(body.length + extension.length);
  newBody.set(body.subarray(0, p));
  newBody[p] = newExtLen >> 8;
  newBody[p + 1] = newExtLen & 0xff;
  newBody.set(extension, p + 2);
  newBody.set(body.subarray(p + 2), p + 2 + extension.length);
  const newHs = new Uint8Array(4 + newBody.length);
  newHs[0] = 1;
  newHs[1] = newBody.length >> 16;
  newHs[2] = (newBody.length >> 8) & 0xff;
  newHs[3] = newBody.length & 0xff;
  newHs.set(newBody, 4);
  // A record carries at most 2^14 bytes: split into records like a real stack would.
  const out: number[] = [];
  for (let off = 0; off < newHs.length; off += 16384) {
    const part = newHs.subarray(off, Math.min(newHs.length, off + 16384));
    out.push(22, 3, 1, part.length >> 8, part.length & 0xff, ...part);
  }
  return Uint8Array.from(out);
}
