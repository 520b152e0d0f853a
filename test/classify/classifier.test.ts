import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { verdictFor, PortMapClassifier, INSPECT_PACKETS, INSPECT_POOL } from '../../src/classify/classifier.js';
import { decidePorts } from '../../src/classify/port-decision.js';
import { compileRules } from '../../src/rules/compile.js';
import { defaultRulesDir, loadRuleDirs } from '../../src/rules/load.js';
import type { ProtocolEvidence } from '../../src/classify/recognize/index.js';
import { FlowTable, type FlowObserver } from '../../src/flow/table.js';
import { PAIR_BUCKETS } from '../../src/flow/key.js';
import { DecodedPacket, DecodeStatus, TcpFlag } from '../../src/decode/types.js';
import { IpProto } from '../../src/util/ip-proto.js';
import { buildHandshake, buildRequestFrame, raftSubject } from '../../fixtures/gen/zeebe-frames.js';
import { sample } from './recognize/samples.js';
import { mkRule, mkSet } from '../rules/rule-builders.js';
import type { Rule } from '../../src/rules/types.js';
import { QTYPE, dnsQuery, dnsResponse, parseQuery } from '../../fixtures/gen/dns-messages.js';

const index = compileRules(loadRuleDirs([defaultRulesDir()]));
const TCP = 6;

function ev(protocol: ProtocolEvidence['protocol'], tags: ProtocolEvidence['tags'], detail: Record<string, string> = {}): ProtocolEvidence {
  return { protocol, tags, detail };
}

describe('verdictFor', () => {
  it('no rule: unknown, evidence still reported', () => {
    const c = verdictFor(decidePorts(index, TCP, 4444, 50000), ev('tls', ['tls'], { sni: 'x.example' }), null);
    expect(c.verdict).toBe('unknown');
    expect(c.service).toBeNull();
    expect(c.evidence['sni']).toBe('x.example');
  });

  it('ambiguous port without payload: port-only with every candidate listed', () => {
    const d = decidePorts(index, TCP, 6379, 50000);
    expect(d.candidates.length).toBeGreaterThan(1);
    const c = verdictFor(d, null, null);
    expect(c.verdict).toBe('port-only');
    expect(c.ambiguous).toBe(true);
    expect(c.service).toBeNull();
    // rules/edgecomet.yaml and rules/gloo-mesh.yaml both document Redis on 6379.
    expect(c.candidates.map((x) => x.id)).toEqual(['edgecomet.redis', 'gloo-mesh-enterprise.redis']);
  });

  it('RESP on the Redis Enterprise database range is verified', () => {
    const c = verdictFor(decidePorts(index, TCP, 12000, 50000), ev('resp', ['resp'], { respCommand: 'PING' }), null);
    expect(c.verdict).toBe('verified');
    expect(c.service?.product).toBe('redis-enterprise');
  });

  it('HTTP on a RESP port is a mismatch; random bytes (no evidence) are not', () => {
    const d = decidePorts(index, TCP, 12000, 50000);
    expect(verdictFor(d, ev('http1', ['http1'], { httpMethod: 'GET' }), null).verdict).toBe('mismatch');
    expect(verdictFor(d, null, null).verdict).toBe('port-only');
  });

  it('evidence narrows a tie to the rules whose protocol it names', () => {
    // 8080: kube-state-metrics (Prometheus scrape), two gateway proxies (HTTP/1, HTTP/2) and the
    // Redis Enterprise REST API (HTTP/1). HTTP/2 is only the gateway proxies'.
    const d = decidePorts(index, TCP, 8080, 50000);
    expect(d.candidates).toHaveLength(4);
    const c = verdictFor(d, ev('http2', ['http2'], { httpMethod: 'GET' }), null);
    expect(c.verdict).toBe('verified');
    expect(c.candidates.map((x) => x.id)).toEqual(['gloo-mesh.gateway-proxy-http', 'kgateway.gateway-proxy-http']);
    // A Prometheus scrape is HTTP/1 too, which all four document: the tie stays.
    const scrape = verdictFor(d, ev('http1', ['http1', 'http1:prometheus-scrape'], { httpPath: '/metrics' }), null);
    expect(scrape.verdict).toBe('verified');
    expect(scrape.ambiguous).toBe(true);
    expect(scrape.candidates).toHaveLength(4);
  });

  it('evidence both tied rules speak leaves the tie: xDS on 9977', () => {
    const d = decidePorts(index, TCP, 9977, 50000);
    const c = verdictFor(d, ev('grpc', ['http2', 'grpc', 'grpc:envoy-xds'], { grpcPath: '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources' }), null);
    expect(c.verdict).toBe('verified');
    expect(c.ambiguous).toBe(true);
    expect(c.candidates.map((x) => x.id)).toEqual(['gloo-mesh.gloo-xds', 'kgateway.gloo-xds']);
  });

  it('the verdict does not depend on which direction carried the evidence first', () => {
    const d = decidePorts(index, TCP, 9600, 50000);
    const req = ev('http1', ['http1', 'http1:prometheus-scrape'], { httpPath: '/metrics' });
    const resp = ev('http1', ['http1', 'prometheus-text']);
    expect(verdictFor(d, req, null).verdict).toBe('verified');
    expect(verdictFor(d, null, resp).verdict).toBe('verified');
    expect(verdictFor(d, req, resp).verdict).toBe('verified');
  });
});

describe('verdictFor evidence merge', () => {
  it('reply fields that collide with request fields keep both values', () => {
    const d = decidePorts(index, 17, 53, 50000);
    const q = ev('dns', ['dns'], { dnsQr: 'query', dnsQname: 'a.example' });
    const r = ev('dns', ['dns'], { dnsQr: 'response', dnsQname: 'a.example', dnsRcode: '3' });
    const c = verdictFor(d, q, r);
    expect(c.evidence).toMatchObject({ dnsQr: 'query', dnsQrReply: 'response', dnsRcode: '3', dnsQname: 'a.example' });
    expect(c.evidence['dnsQnameReply']).toBeUndefined();
  });

  it('tags: both sides once each, sorted, in key order protocol, tags, request fields, reply fields', () => {
    const d = decidePorts(index, TCP, 4444, 50000);
    const text = (a: ProtocolEvidence | null, b: ProtocolEvidence | null) => JSON.stringify(verdictFor(d, a, b).evidence);
    const tls = ev('tls', ['tls'], { sni: 'x.example' });
    const h2 = ev('http2', ['http2'], { httpMethod: 'GET' });
    const grpc = ev('grpc', ['http2', 'grpc', 'grpc:envoy-xds'], { grpcPath: '/a' });
    expect(text(null, null)).toBe('{}');
    expect(text(tls, null)).toBe('{"protocol":"tls","tags":"tls","sni":"x.example"}');
    expect(text(null, tls)).toBe('{"protocol":"tls","tags":"tls","sni":"x.example"}');
    expect(text(tls, tls)).toBe('{"protocol":"tls","tags":"tls","sni":"x.example"}');
    expect(text(tls, h2)).toBe('{"protocol":"tls","tags":"http2,tls","sni":"x.example","httpMethod":"GET"}');
    expect(text(h2, tls)).toBe('{"protocol":"http2","tags":"http2,tls","httpMethod":"GET","sni":"x.example"}');
    expect(text(grpc, h2)).toBe('{"protocol":"grpc","tags":"grpc,grpc:envoy-xds,http2","grpcPath":"/a","httpMethod":"GET"}');
    expect(text(ev('http1', [], {}), null)).toBe('{"protocol":"http1","tags":""}');
    expect(text(ev('dns', ['dns', 'dns'], {}), ev('mdns', ['mdns', 'dns'], {}))).toBe('{"protocol":"dns","tags":"dns,mdns"}');
  });
});

describe('exposure in the verdict', () => {
  const publicClient = { client: 'public' as const, monitoringHost: null };
  it('an ambiguous flow is checked against every candidate: any that allows the client wins', () => {
    const c = verdictFor(decidePorts(index, TCP, 8443, 50000), null, null, true, publicClient);
    expect(c.ambiguous).toBe(true);
    expect(c.exposure).toEqual({ status: 'ok', client: 'public', monitoringHost: null, allowed: ['external', 'internal'] });
  });

  it('a single internal rule and a public client: violation; no rule: no exposure', () => {
    expect(verdictFor(decidePorts(index, TCP, 23001, 50000), null, null, true, publicClient).exposure?.status).toBe('violation');
    expect(verdictFor(decidePorts(index, TCP, 3342, 50000), null, null, true, publicClient).exposure).toBeNull();
  });
});

/** A decoded IPv4 packet between 10.0.0.1 (client) and 10.0.0.2 (server), payload at offset 0. */
function ipv4Packet(proto: number, toServer: boolean, serverPort: number, clientPort: number, flags: number, payload: number): DecodedPacket {
  const p = new DecodedPacket();
  p.status = DecodeStatus.Ok;
  p.ipVersion = 4;
  p.src3 = toServer ? 0x0a000001 : 0x0a000002;
  p.dst3 = toServer ? 0x0a000002 : 0x0a000001;
  p.ipProto = proto;
  p.hasPorts = true;
  p.srcPort = toServer ? clientPort : serverPort;
  p.dstPort = toServer ? serverPort : clientPort;
  p.tcpFlags = flags;
  p.payloadOffset = 0;
  p.payloadCaptured = payload;
  p.payloadLength = payload;
  return p;
}

describe('PortMapClassifier', () => {
  function packet(toServer: boolean, flags: number, payload: number): DecodedPacket {
    return ipv4Packet(IpProto.TCP, toServer, 12000, 50000, flags, payload);
  }

  function setup(evidenceDetail = true) {
    const table = new FlowTable({ maxFlows: 64, idleTimeout: 60, activeTimeout: 0 });
    const cls = new PortMapClassifier(index, table.capacity, { evidenceDetail });
    const results: ReturnType<PortMapClassifier['classify']>[] = [];
    const obs: FlowObserver = {
      flowStarted: (s) => cls.flowStarted(table, s),
      payload: (s, toServer, buf, off, len) => cls.payload(table, s, toServer, buf, off, len),
      flowEnded: (s) => results.push(cls.classify(table, s)),
    };
    table.setObserver(obs);
    return { table, cls, results };
  }

  it('reassembles a RESP command split over two segments', () => {
    const { table, results } = setup();
    const bytes = new TextEncoder().encode('*1\r\n$4\r\nPING\r\n');
    table.process(packet(true, TcpFlag.SYN, 0), 0, 1, 0, 60, bytes);
    table.process(packet(true, TcpFlag.ACK | TcpFlag.PSH, 5), 1, 1, 0, 65, bytes.subarray(0, 5));
    table.process(packet(true, TcpFlag.ACK | TcpFlag.PSH, bytes.length - 5), 2, 1, 0, 70, bytes.subarray(5));
    table.flush();
    expect(results[0]!.verdict).toBe('verified');
    expect(results[0]!.evidence['respCommand']).toBe('PING');
  });

  it('a Zeebe handshake sent alone is partial evidence: the next frame names the message', () => {
    const { table, results } = setup();
    const hs = buildHandshake();
    const frame = buildRequestFrame({ sender: { host: '10.0.0.1', port: 26502 }, id: 1, subject: raftSubject('poll', 1), payload: new Uint8Array(8) });
    const p = (payload: number) => {
      const x = packet(true, TcpFlag.ACK | TcpFlag.PSH, payload);
      x.dstPort = 26502;
      return x;
    };
    const syn = packet(true, TcpFlag.SYN, 0);
    syn.dstPort = 26502;
    table.process(syn, 0, 1, 0, 60, hs);
    table.process(p(hs.length), 1, 1, 0, 60 + hs.length, hs);
    table.process(p(frame.length), 2, 1, 0, 60 + frame.length, frame);
    table.flush();
    expect(results[0]!.verdict).toBe('verified');
    expect(results[0]!.evidence['subject']).toBe(raftSubject('poll', 1));
  });

  it('ICMP flows carry the icmp tag, so ICMP rules are verified', () => {
    const table = new FlowTable({ maxFlows: 16, idleTimeout: 60, activeTimeout: 0 });
    const cls = new PortMapClassifier(index, table.capacity);
    const results: ReturnType<PortMapClassifier['classify']>[] = [];
    table.setObserver({ flowStarted: (x) => cls.flowStarted(table, x), payload: () => {}, flowEnded: (x) => results.push(cls.classify(table, x)) });
    const p = packet(true, 0, 0);
    p.ipProto = IpProto.ICMP;
    p.icmpType = 8;
    p.srcPort = p.dstPort = 7;
    table.process(p, 0, 1, 0, 98, new Uint8Array(0));
    table.flush();
    expect(results[0]!.verdict).toBe('verified');
    expect(results[0]!.evidence['protocol']).toBe('icmp');
  });

  it('without a flow log (evidenceDetail false) the verdict is the same and no detail is kept', () => {
    const verdicts = [true, false].map((detail) => {
      const { table, results } = setup(detail);
      const bytes = new TextEncoder().encode('*1\r\n$4\r\nPING\r\n');
      table.process(packet(true, TcpFlag.SYN, 0), 0, 1, 0, 60, bytes);
      table.process(packet(true, TcpFlag.ACK | TcpFlag.PSH, bytes.length), 1, 1, 0, 74, bytes);
      table.flush();
      return results[0]!;
    });
    expect(verdicts[1]!.verdict).toBe(verdicts[0]!.verdict);
    expect(verdicts[1]!.service).toEqual(verdicts[0]!.service);
    expect(verdicts[0]!.evidence['respCommand']).toBe('PING');
    expect(verdicts[1]!.evidence['respCommand']).toBeUndefined();
    expect(verdicts[1]!.evidence['protocol']).toBe('resp');
  });

  it('complete evidence ends inspection of its direction at once, caveat note or not', () => {
    const { table } = setup();
    const client = new TextEncoder().encode('*1\r\n$4\r\nPING\r\n');
    const server = sample('grpc-xds-ads-v3-server').bytes; // SETTINGS + complete HEADERS, with a note
    table.process(packet(true, TcpFlag.SYN, 0), 0, 1, 0, 60, client);
    table.process(packet(true, TcpFlag.ACK | TcpFlag.PSH, client.length), 1, 1, 0, 80, client);
    const slot = table.liveSlots()[0]!;
    expect(table.inspecting(slot)).toBe(true);
    // The client's direction is done: its payloads no longer come to the classifier (nor stop the fast path).
    expect(table.inspecting(slot, true)).toBe(false);
    expect(table.inspecting(slot, false)).toBe(true);
    table.process(packet(false, TcpFlag.ACK | TcpFlag.PSH, server.length), 2, 1, 0, 80 + server.length, server);
    expect(table.inspecting(slot)).toBe(false);
  });

  it('stops inspecting after the packet bound (no per-packet work on long flows)', () => {
    const { table } = setup();
    const junk = new Uint8Array(16).fill(0xee);
    table.process(packet(true, TcpFlag.SYN, 0), 0, 1, 0, 60, junk);
    for (let i = 0; i < INSPECT_PACKETS; i++) table.process(packet(true, TcpFlag.ACK, 16), i + 1, 1, 0, 76, junk);
    for (let i = 0; i < INSPECT_PACKETS; i++) table.process(packet(false, TcpFlag.ACK, 16), i + 10, 1, 0, 76, junk);
    const slot = table.liveSlots()[0]!;
    expect(table.inspecting(slot)).toBe(false);
  });
  it('flows with the same port decision, evidence tags and client class share one frozen verdict; a flow log still gets its own evidence', () => {
    for (const detail of [false, true]) {
      const table = new FlowTable({ maxFlows: 64, idleTimeout: 60, activeTimeout: 0 });
      const cls = new PortMapClassifier(index, table.capacity, { evidenceDetail: detail });
      const plain: ReturnType<PortMapClassifier['classify']>[] = [];
      const full: ReturnType<PortMapClassifier['classify']>[] = [];
      table.setObserver({
        flowStarted: (x) => cls.flowStarted(table, x),
        payload: (x, toServer, buf, off, len) => cls.payload(table, x, toServer, buf, off, len),
        flowEnded: (x) => {
          plain.push(cls.peek(table, x, false));
          full.push(cls.classify(table, x, true));
        },
      });
      const commands = ['PING', 'INFO'].map((c) => new TextEncoder().encode(`*1\r\n$4\r\n${c}\r\n`));
      commands.forEach((bytes, i) => {
        const syn = packet(true, TcpFlag.SYN, 0);
        syn.srcPort = 50000 + i;
        const data = packet(true, TcpFlag.ACK | TcpFlag.PSH, bytes.length);
        data.srcPort = 50000 + i;
        table.process(syn, i * 2, 1, 0, 60, bytes);
        table.process(data, i * 2 + 1, 1, 0, 60 + bytes.length, bytes);
      });
      table.flush();
      expect(plain).toHaveLength(2);
      expect(plain[0]).toBe(plain[1]);
      expect(Object.isFrozen(plain[0])).toBe(true);
      expect(Object.isFrozen(plain[0]!.exposure)).toBe(true);
      expect(() => {
        (plain[0] as { verdict: string }).verdict = 'mismatch';
      }).toThrow(TypeError);
      expect(plain[0]!.verdict).toBe('verified');
      expect(plain[0]!.evidence).toEqual({});
      // With evidence: the same verdict fields, each flow its own evidence record.
      expect(full[0]).not.toBe(full[1]);
      expect({ ...full[0], evidence: {} }).toEqual({ ...plain[0] });
      expect(Object.keys(full[0]!)).toEqual(Object.keys(plain[0]!));
      expect(full.map((c) => c.evidence['respCommand'])).toEqual(detail ? ['PING', 'INFO'] : [undefined, undefined]);
      expect(full.map((c) => c.evidence['protocol'])).toEqual(['resp', 'resp']);
    }
  });

  it('memory per flow slot: 16 bytes, 24 with evidence details', () => {
    expect(PortMapClassifier.bytesPerSlot(false)).toBe(16);
    expect(PortMapClassifier.bytesPerSlot(true)).toBe(24);
  });
});

describe('PortMapClassifier with verdictsOnly (a summary that reads nothing but verdicts)', () => {
  // Custom rules: 53 one DNS rule; 5300 two rules of which only one speaks DNS; 5301 a rule that
  // names no protocol (port-only: TLS on the other side could still make it 'encrypted').
  const dnsRule = (id: string, ports: number[], protocols: Rule['protocols']): Rule => ({ ...mkRule(id, 'udp', ports), protocols });
  const custom = compileRules(mkSet([
    dnsRule('a.dns', [53], ['dns']),
    dnsRule('b.dns', [5300], ['dns']),
    dnsRule('c.mdns', [5300], ['mdns']),
    dnsRule('d.any', [5301], []),
    { ...mkRule('e.resp', 'tcp', [6400]), protocols: ['resp'] },
  ]));
  const query = dnsQuery(0x1234, 'db.example.com', QTYPE.A);
  const reply = dnsResponse(parseQuery(query)!, [], 3);

  function udp(toServer: boolean, serverPort: number, clientPort: number, payload: number): DecodedPacket {
    return ipv4Packet(IpProto.UDP, toServer, serverPort, clientPort, 0, payload);
  }

  /** One query/reply exchange per server port; per flow: inspecting after the query, and the verdict. */
  function run(verdictsOnly: boolean, ports: number[], first = query) {
    const table = new FlowTable({ maxFlows: 64, idleTimeout: 60, activeTimeout: 0 });
    const cls = new PortMapClassifier(custom, table.capacity, { evidenceDetail: false, verdictsOnly });
    const verdicts: ReturnType<PortMapClassifier['classify']>[] = [];
    const payloads: number[] = [];
    table.setObserver({
      flowStarted: (x) => cls.flowStarted(table, x),
      payload: (x, toServer, buf, off, len) => {
        payloads.push(x);
        cls.payload(table, x, toServer, buf, off, len);
      },
      flowEnded: (x) => verdicts.push(cls.classify(table, x, false)),
    });
    const inspectingAfterQuery: boolean[] = [];
    ports.forEach((port, i) => {
      const q = table.process(udp(true, port, 40000 + i, first.length), i * 2, 1, 0, 42 + first.length, first);
      inspectingAfterQuery.push(table.inspecting(q));
      table.process(udp(false, port, 40000 + i, reply.length), i * 2 + 1, 1, 0, 42 + reply.length, reply);
    });
    table.flush();
    const plain = verdicts.map((v) => ({ verdict: v.verdict, service: v.service, candidates: v.candidates, exposure: v.exposure, basis: v.basis }));
    return { inspectingAfterQuery, payloads: payloads.length, verdicts: plain };
  }

  it('a UDP flow whose query verifies every candidate is not inspected further: its reply is not parsed', () => {
    const fast = run(true, [53]);
    expect(fast.inspectingAfterQuery).toEqual([false]);
    expect(fast.payloads).toBe(1);
    expect(fast.verdicts[0]!.verdict).toBe('verified');
    const full = run(false, [53]);
    expect(full.inspectingAfterQuery).toEqual([true]);
    expect(full.payloads).toBe(2);
  });

  it('keeps inspecting when the evidence leaves a candidate unverified, a candidate names no protocol, or no rule matches', () => {
    // 5300: the reply could still verify c.mdns (and make the flow ambiguous); 5301: TLS could still
    // make it 'encrypted'; 6000: the protocol seen on an undocumented port is reported.
    expect(run(true, [5300, 5301, 6000]).inspectingAfterQuery).toEqual([true, true, true]);
  });

  /** A table feeding a verdicts-only classifier of the custom rules, and a RESP PING to send it. */
  function verdictsOnlyTable(maxFlows: number) {
    const table = new FlowTable({ maxFlows, idleTimeout: 60, activeTimeout: 0 });
    const cls = new PortMapClassifier(custom, table.capacity, { evidenceDetail: false, verdictsOnly: true });
    table.setObserver({
      flowStarted: (x) => cls.flowStarted(table, x),
      payload: (x, toServer, buf, off, len) => cls.payload(table, x, toServer, buf, off, len),
      flowEnded: (x) => void cls.classify(table, x, false),
    });
    return { table, cls, ping: new TextEncoder().encode('*1\r\n$4\r\nPING\r\n') };
  }

  it('keeps inspecting a TCP flow (its reassembly buffer goes back to the pool, shared by other flows, only when inspection ends)', () => {
    const { table, cls, ping } = verdictsOnlyTable(64);
    const tcp = (flags: number, payload: number): DecodedPacket => ipv4Packet(IpProto.TCP, true, 6400, 40000, flags, payload);
    table.process(tcp(TcpFlag.SYN, 0), 0, 1, 0, 60, ping);
    const s = table.process(tcp(TcpFlag.ACK | TcpFlag.PSH, ping.length), 1, 1, 0, 60 + ping.length, ping);
    expect(cls.peek(table, s, false).verdict).toBe('verified');
    expect(table.inspecting(s)).toBe(true);
  });

  it('stops inspecting a TCP flow without a reassembly buffer once one direction verifies every candidate', () => {
    const { table, cls, ping } = verdictsOnlyTable(256);
    const tcp = (clientPort: number, flags: number, payload: number): DecodedPacket => ipv4Packet(IpProto.TCP, true, 6400, clientPort, flags, payload);
    // One host pair: every flow draws from the same bucket's share of the pool, which the first
    // INSPECT_POOL / PAIR_BUCKETS connections (still inspecting, no payload yet) hold.
    const held = INSPECT_POOL / PAIR_BUCKETS;
    let ordinal = 0;
    for (let i = 0; i <= held; i++) table.process(tcp(40000 + i, TcpFlag.SYN, 0), ordinal++, 1, 0, 60, ping);
    const buffered = table.process(tcp(40000, TcpFlag.ACK | TcpFlag.PSH, ping.length), ordinal++, 1, 0, 60 + ping.length, ping);
    const unbuffered = table.process(tcp(40000 + held, TcpFlag.ACK | TcpFlag.PSH, ping.length), ordinal++, 1, 0, 60 + ping.length, ping);
    for (const s of [buffered, unbuffered]) expect(cls.peek(table, s, false).verdict).toBe('verified');
    // The buffered flow's reply is still counted against the budget (its buffer's return waits on
    // it); the other's reply cannot change the verdict and is not looked at.
    expect(table.inspecting(buffered, false)).toBe(true);
    expect(table.inspecting(unbuffered, false)).toBe(false);
    expect(table.inspecting(unbuffered)).toBe(false);
  });

  it('keeps inspecting after evidence that is not final (a NOTIFY: a later message may replace it)', () => {
    const notify = query.slice();
    notify[2] = (notify[2]! & 0x87) | (4 << 3); // opcode 4
    const r = run(true, [53], notify);
    expect(r.inspectingAfterQuery).toEqual([true]);
    expect(r.payloads).toBe(2);
  });

  it('gives the verdicts the full inspection gives, flow by flow', () => {
    const ports = [53, 5300, 5301, 6000, 53];
    expect(run(true, ports).verdicts).toEqual(run(false, ports).verdicts);
  });
});

describe('evidence details of live flows', () => {
  /** The collector, for a heap measurement (node:vm gives the function once the flag is set). */
  function exposedGc(): () => void {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  }

  it('are kept outside the JavaScript heap until the flow ends, and come back whole', () => {
    const gc = exposedGc();
    const flows = 20_000;
    const table = new FlowTable({ maxFlows: 32_768, idleTimeout: 1e9, activeTimeout: 0 });
    const cls = new PortMapClassifier(index, table.capacity, { evidenceDetail: true });
    const ended: Array<{ slot: number; evidence: Record<string, string> }> = [];
    table.setObserver({
      flowStarted: (x) => cls.flowStarted(table, x),
      payload: (x, toServer, buf, off, len) => cls.payload(table, x, toServer, buf, off, len),
      flowEnded: (x) => ended.push({ slot: x, evidence: cls.classify(table, x).evidence }),
    });
    const name = (i: number): string => `svc-${String(i).padStart(6, '0')}.a-namespace-with-a-long-name.svc.cluster.local`;
    const send = (i: number): void => {
      const q = dnsQuery(i & 0xffff, name(i), QTYPE.A);
      const p = ipv4Packet(IpProto.UDP, true, 53, 1024 + (i % 60_000), 0, q.length);
      p.src3 = 0x0a000000 + Math.floor(i / 60_000) + 16;
      table.process(p, i, 1, 0, 42 + q.length, q);
    };
    // Warm up (code, maps, the store's first records), then measure flows that stay live.
    for (let i = 0; i < 200; i++) send(flows + i);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < flows; i++) send(i);
    gc();
    const perFlow = (process.memoryUsage().heapUsed - before) / flows;
    // As objects (the evidence, its detail, the name string) a live DNS flow held ~210 bytes here.
    expect(perFlow).toBeLessThan(64);
    table.flush();
    expect(ended).toHaveLength(flows + 200);
    const byName = new Set(ended.map((e) => e.evidence['dnsQname']));
    for (let i = 0; i < flows; i += 997) expect(byName.has(name(i))).toBe(true);
    expect(ended[0]!.evidence).toEqual({ protocol: 'dns', tags: 'dns', dnsQr: 'query', dnsQname: name(flows), dnsQtype: 'A' });
  });
});
