/**
 * Realistic, deterministic session data for the dashboard's tests, the scripted fake session
 * (test/ui/fake-session.ts) and bench/ui.ts: rules as SessionInfo carries them (copied from
 * rules/*.yaml), and SessionUpdates whose counters grow step by step the way a capture's do, with
 * an ambiguous port (6379: edgecomet vs gloo-mesh-enterprise, both RESP), a payload mismatch
 * (TLS on a RESP port), an exposure violation (a public client on an internal port), RESP on an
 * undocumented port, and unknown traffic (5432, 7000).
 */
import type { RuleInfo, SessionEnd, SessionInfo, SessionUpdate } from '../../src/export/consumer.js';
import type { AlertRow, EngineTotals, FlowRow, Snapshot, SnapshotService, UnknownPortRow } from '../../src/pipeline/results.js';
import type { RunSummary } from '../../src/export/summary.js';

function rule(id: string, component: string, ports: string, exposure: string[], protocols: string[], tls: string, purpose: string, cite: string, sourceDoc: string): RuleInfo {
  return { id, product: id.slice(0, id.indexOf('.')), component, transport: 'tcp', ports, purpose, exposure, protocols, tls, cite, sourceDoc };
}

const RE = '003_ee983c6a73cb0d56.txt';
const ZB = '004_zeebe.txt';
const KG = '002_8a955490bec7dbf0.txt';
const GM = '001_8731a589dc88622b.txt';
const EC = '000_9210c998f74b426b.txt';

export const FIXTURE_RULES: RuleInfo[] = [
  rule('redis-enterprise.database-endpoints', 'database endpoints', '10000-19999', ['internal', 'external', 'active-active'], ['resp'], 'optional', 'Database traffic', '| TCP | 10000-19999 | Internal, External, Active-Active | Database traffic |', RE),
  rule('redis-enterprise.shards', 'database shards', '20000-29999', ['internal'], ['resp'], 'optional', 'Database shards traffic', '| TCP | 20000-29999 | Internal | Database shards traffic |', RE),
  rule('redis-enterprise.web-ui', 'management web UI', '8443', ['internal', 'external'], ['tls'], 'required', 'Secure (HTTPS) access to the management web UI', '| TCP | 8443 | Internal, External | Secure (HTTPS) access to the management web UI |', RE),
  rule('redis-enterprise.rest-api-https', 'REST API', '9443', ['internal', 'external', 'active-active'], ['tls'], 'required', 'REST API traffic over HTTPS', '| TCP | 9443 | Internal, External, Active-Active | REST API traffic |', RE),
  rule('redis-enterprise.internode', 'cluster nodes', '3333-3341,3343-3344,36379,36380', ['internal'], [], 'unknown', 'Internal cluster usage', '| TCP | 3333-3341, 3343-3344, 36379, 36380 | Internal | Internal cluster usage |', RE),
  rule('zeebe.gateway-grpc', 'gateway', '26500', ['external'], ['grpc:zeebe-gateway'], 'optional', 'Gateway API for clients (gRPC)', 'zeebe.gateway.network.port: 26500', ZB),
  rule('zeebe.broker-command-api', 'broker', '26501', ['internal'], ['zeebe-sbe'], 'optional', 'Command API: gateway to broker', 'zeebe.broker.network.commandApi.port: 26501', ZB),
  rule('zeebe.internal-api', 'broker', '26502', ['internal'], ['zeebe-atomix'], 'optional', 'Internal API: broker to broker', 'zeebe.broker.network.internalApi.port: 26502', ZB),
  rule('zeebe.broker-monitoring', 'broker', '9600', ['monitoring-only'], ['http1:prometheus-scrape', 'prometheus-text', 'http1:health'], 'none', 'Monitoring: metrics and health', 'management.server.port: 9600', ZB),
  rule('kgateway.gateway-proxy-http', 'gateway-proxy', '80,8080', ['external'], ['http1', 'http2'], 'none', 'HTTP', '| gateway-proxy | 8080 | HTTP |', KG),
  rule('kgateway.gloo-xds', 'gloo', '9977', ['internal'], ['grpc:envoy-xds', 'tls'], 'optional', 'xDS server', '| gloo | 9977 | xDS |', KG),
  rule('gloo-mesh.gloo-xds', 'gloo', '9977', ['internal'], ['grpc:envoy-xds'], 'unknown', 'xDS server', '| gloo | 9977 | xDS |', GM),
  rule('gloo-mesh-enterprise.redis', 'redis', '6379', ['internal'], ['resp'], 'unknown', 'Rate-limiting (Redis backing the rate-limit server)', '| redis | 6379 | Rate-limiting |', GM),
  rule('edgecomet.redis', 'Redis', '6379', ['internal'], ['resp'], 'unknown', 'Cache metadata and coordination (standard Redis port)', 'Redis 6379 cache metadata and coordination', EC),
  rule('edgecomet.edge-gateway-http', 'Edge Gateway', '10070', ['public'], ['http1'], 'none', 'Edge Gateway HTTP listener', 'server.listen: ":10070"', EC),
  rule('edgecomet.render-service-api', 'Render Service', '10080', ['internal'], [], 'unknown', 'Render Service API', 'internal.listen: ":10080"', EC),
];

/** Service rows the fixture data has with FIXTURE_RULES (8 rules with traffic, ambiguous, unknown). */
export const FIXTURE_ROWS = 10;

/**
 * FIXTURE_RULES plus synthetic rules ("component 0", "component 1", ...), so that the services
 * table of the fixture data has `rows` rows (bench: 60).
 */
export function rulesForRows(rows: number): RuleInfo[] {
  const out = [...FIXTURE_RULES];
  const target = FIXTURE_RULES.length + Math.max(0, rows - FIXTURE_ROWS);
  for (let i = 0; out.length < target; i++) {
    const product = `product-${String.fromCharCode(97 + (i % 6))}`;
    out.push(rule(`${product}.component-${i}`, `component ${i}`, String(30000 + i), ['internal'], ['http1'], 'none', `Synthetic component ${i}`, `| TCP | ${30000 + i} | Internal |`, 'synthetic.txt'));
  }
  return out;
}

export interface FixtureOptions {
  kind?: SessionInfo['kind'];
  name?: string;
  rules?: RuleInfo[];
  /** Wall time of step 0. */
  startedAt?: number;
  /** Wall ms between updates. */
  stepMs?: number;
  /** Replay: file size; the replay reaches it at `endStep`. */
  totalBytes?: number | null;
  endStep?: number;
  /** Include snapshot.detail (flows, alerts, unknown ports). */
  detail?: boolean;
  workers?: number;
}

const START = Date.UTC(2024, 4, 1, 12, 0, 0);
const CAPTURE_START = Date.UTC(2024, 4, 1, 12, 0, 0) / 1000;

export function fixtureInfo(o: FixtureOptions = {}): SessionInfo {
  const kind = o.kind ?? 'file';
  const live = kind === 'live' || kind === 'proxy';
  return {
    kind,
    name: o.name ?? (live ? 'eth0' : 'demo.pcap'),
    backend: live ? 'tcpdump' : null,
    filter: live ? 'tcp' : null,
    totalBytes: live ? null : o.totalBytes === undefined ? 10_000_000 : o.totalBytes,
    speed: live ? null : 10,
    workers: o.workers ?? 1,
    rules: o.rules ?? FIXTURE_RULES,
    products: null,
    startedAt: o.startedAt ?? START,
  };
}

interface ServicePlan {
  key: string;
  /** Bytes per step. */
  weight: number;
  flowsPerStep: number;
  verdict: 'verified' | 'mismatch' | 'encrypted' | 'port-only' | 'unknown';
  mismatchEvery?: number;
  violationEvery?: number;
  serverIp: string;
  port: number;
  evidence?: Record<string, string>;
}

function plans(rules: readonly RuleInfo[]): ServicePlan[] {
  const base: ServicePlan[] = [
    { key: 'redis-enterprise.database-endpoints', weight: 90_000, flowsPerStep: 2, verdict: 'verified', serverIp: '10.1.0.10', port: 12000, evidence: { protocol: 'resp', respCommand: 'GET' } },
    { key: 'redis-enterprise.shards', weight: 40_000, flowsPerStep: 1, verdict: 'verified', mismatchEvery: 6, serverIp: '10.1.0.11', port: 20001, evidence: { protocol: 'resp', respCommand: 'SET' } },
    { key: 'redis-enterprise.web-ui', weight: 8_000, flowsPerStep: 0.5, verdict: 'encrypted', serverIp: '10.1.0.12', port: 8443, evidence: { protocol: 'tls', sni: 'cluster.example.com', alpn: 'h2' } },
    { key: 'zeebe.gateway-grpc', weight: 60_000, flowsPerStep: 1, verdict: 'verified', serverIp: '10.2.0.5', port: 26500, evidence: { protocol: 'http2', grpcPath: '/gateway_protocol.Gateway/ActivateJobs' } },
    { key: 'zeebe.broker-command-api', weight: 30_000, flowsPerStep: 0.5, verdict: 'verified', serverIp: '10.2.0.6', port: 26501, evidence: { protocol: 'zeebe-sbe' } },
    { key: 'zeebe.broker-monitoring', weight: 3_000, flowsPerStep: 0.25, verdict: 'verified', violationEvery: 4, serverIp: '10.2.0.6', port: 9600, evidence: { protocol: 'http1', httpMethod: 'GET', httpPath: '/metrics' } },
    { key: 'kgateway.gateway-proxy-http', weight: 25_000, flowsPerStep: 2, verdict: 'verified', serverIp: '10.3.0.2', port: 8080, evidence: { protocol: 'http1', httpMethod: 'GET', httpPath: '/api/orders', host: 'shop.example.com' } },
    { key: 'edgecomet.edge-gateway-http', weight: 15_000, flowsPerStep: 1, verdict: 'verified', serverIp: '10.4.0.2', port: 10070, evidence: { protocol: 'http1', httpMethod: 'GET', httpPath: '/render?url=x' } },
    { key: 'ambiguous:edgecomet.redis|gloo-mesh-enterprise.redis', weight: 12_000, flowsPerStep: 1, verdict: 'verified', serverIp: '10.5.0.9', port: 6379, evidence: { protocol: 'resp', respCommand: 'PING' } },
    { key: 'unknown', weight: 20_000, flowsPerStep: 1, verdict: 'unknown', serverIp: '10.9.0.3', port: 5432 },
  ];
  const known = new Set(rules.map((r) => r.id));
  const out = base.filter((p) => p.key === 'unknown' || p.key.startsWith('ambiguous:') || known.has(p.key));
  let i = 0;
  for (const r of rules) {
    if (out.some((p) => p.key === r.id) || FIXTURE_RULES.some((f) => f.id === r.id)) continue;
    out.push({ key: r.id, weight: 1000 + ((i * 7919) % 50_000), flowsPerStep: 0.5, verdict: 'verified', serverIp: `10.8.${i >> 8}.${i & 255}`, port: Number(r.ports) || 30000, evidence: { protocol: 'http1', httpMethod: 'GET', httpPath: '/' } });
    i++;
  }
  return out;
}

function idOf(key: string): { id: string | null; product: string | null; component: string | null; candidates: string[] } {
  if (key === 'unknown') return { id: null, product: null, component: null, candidates: [] };
  if (key.startsWith('ambiguous:')) return { id: null, product: null, component: null, candidates: key.slice(10).split('|') };
  const r = FIXTURE_RULES.find((x) => x.id === key);
  return { id: key, product: key.slice(0, key.indexOf('.')), component: r?.component ?? key.slice(key.indexOf('.') + 1).replace(/-/g, ' '), candidates: [key] };
}

/** Service counters after `step` steps (monotonic in step). */
function serviceAt(p: ServicePlan, step: number): SnapshotService {
  // A wave so rates change over time (the sparkline has a shape).
  const wave = (s: number) => s * p.weight + Math.round(p.weight * 0.5 * Math.sin(s / 5));
  const bytes = Math.max(0, wave(step));
  const flows = Math.floor(step * p.flowsPerStep) + (step > 0 ? 1 : 0);
  const mismatch = p.mismatchEvery ? Math.floor(flows / p.mismatchEvery) : 0;
  const violations = p.violationEvery ? Math.floor(flows / p.violationEvery) : 0;
  const verdicts = { verified: 0, mismatch, encrypted: 0, 'port-only': 0, unknown: 0 };
  verdicts[p.verdict] += Math.max(0, flows - mismatch);
  return {
    key: p.key,
    ...idOf(p.key),
    flows,
    liveFlows: Math.min(flows, 1 + (step % 4)),
    packets: { toServer: Math.floor(bytes / 300), toClient: Math.floor(bytes / 500) },
    bytes: { toServer: Math.floor(bytes * 0.3), toClient: bytes - Math.floor(bytes * 0.3) },
    payloadBytes: { toServer: Math.floor(bytes * 0.25), toClient: Math.floor((bytes - Math.floor(bytes * 0.3)) * 0.9) },
    verdicts,
    exposure: { ok: flows - violations, violation: violations, unchecked: 0 },
  };
}

function flowRows(list: readonly ServicePlan[], step: number, now: number): FlowRow[] {
  const rows: FlowRow[] = [];
  let id = 1000;
  for (const p of list) {
    for (let k = 0; k < 2; k++) {
      const live = k === 0;
      const bytes = p.weight * (step + 1) * (live ? 0.6 : 0.2);
      const mismatch = p.mismatchEvery !== undefined && !live;
      const violation = p.violationEvery !== undefined && !live;
      rows.push({
        id: id++,
        live,
        transport: 'tcp',
        client: { ip: violation ? '203.0.113.7' : `10.0.${k}.${(id % 200) + 10}`, port: 40000 + (id % 20000) },
        server: { ip: p.serverIp, port: p.port },
        serviceKey: p.key,
        verdict: mismatch ? 'mismatch' : p.verdict,
        exposure: violation ? 'violation' : 'ok',
        state: live ? 'S1' : 'SF',
        packets: { toServer: Math.floor(bytes / 300), toClient: Math.floor(bytes / 500) },
        bytes: { toServer: Math.floor(bytes * 0.3), toClient: Math.floor(bytes * 0.7) },
        rateBytesPerSec: live ? p.weight * 2 : 0,
        handshakeRttMs: 0.42 + k,
        firstSec: now - 30 - k * 10,
        lastSec: live ? now : now - 3,
        evidence: mismatch ? { protocol: 'tls', sni: 'evil.example.net' } : (p.evidence ?? {}),
        end: live ? null : 'idle-timeout',
      });
    }
  }
  return rows;
}

function alertRows(step: number, now: number): AlertRow[] {
  if (step < 2) return [];
  return [
    { kind: 'mismatch', serviceKey: 'redis-enterprise.shards', client: '10.0.1.33', server: { ip: '10.1.0.11', port: 20001 }, count: Math.floor(step / 6) + 1, firstSec: now - 40, lastSec: now - 3, flowIds: [1003], detail: 'tls on a resp port' },
    { kind: 'exposure-violation', serviceKey: 'zeebe.broker-monitoring', client: '203.0.113.7', server: { ip: '10.2.0.6', port: 9600 }, count: Math.floor(step / 4) + 1, firstSec: now - 25, lastSec: now - 1, flowIds: [1011], detail: 'public client on a monitoring-only port' },
    // Its flow has left the snapshot's lists: the drill-down says so.
    { kind: 'undocumented-port', serviceKey: 'unknown', client: '10.0.0.40', server: { ip: '10.9.0.4', port: 7000 }, count: 1, firstSec: now - 20, lastSec: now - 20, flowIds: [999], detail: 'resp on a port no rule documents' },
  ];
}

function unknownPorts(step: number): UnknownPortRow[] {
  return [
    { transport: 'tcp', port: 5432, flows: step + 1, liveFlows: 1, packets: step * 40, bytes: step * 14_000, protocols: [] },
    { transport: 'tcp', port: 7000, flows: Math.floor(step / 2) + 1, liveFlows: 0, packets: step * 10, bytes: step * 5_000, protocols: ['http'] },
    { transport: 'udp', port: 4789, flows: 1, liveFlows: 1, packets: step * 3, bytes: step * 1_000, protocols: [] },
  ];
}

function totalsOf(services: readonly SnapshotService[], now: number): EngineTotals {
  let packets = 0;
  let bytes = 0;
  let flows = 0;
  let live = 0;
  for (const s of services) {
    packets += s.packets.toServer + s.packets.toClient;
    bytes += s.bytes.toServer + s.bytes.toClient;
    flows += s.flows;
    live += s.liveFlows;
  }
  return {
    packets,
    bytes,
    capturedBytes: bytes,
    truncatedFrames: 0,
    notIp: 3,
    unattributed: 0,
    flows,
    liveFlows: live,
    evictedFlows: 0,
    anomalies: { tcp_bad_checksum: 2 },
    packetsByLinkType: { '1': packets },
    firstSec: CAPTURE_START,
    firstNsec: 0,
    lastSec: Math.floor(now),
    lastNsec: Math.round((now % 1) * 1e9),
  };
}

/** The session's update after `step` steps. */
export function fixtureUpdate(step: number, o: FixtureOptions = {}): SessionUpdate {
  const info = fixtureInfo(o);
  const stepMs = o.stepMs ?? 250;
  const list = plans(info.rules);
  const services = list.map((p) => serviceAt(p, step)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const now = CAPTURE_START + step;
  const snapshot: Snapshot = {
    takenAt: info.startedAt + step * stepMs,
    workers: info.workers,
    totals: totalsOf(services, now),
    services,
    engineDrops: 0,
    inFlightChunks: 0,
  };
  if (o.detail !== false) snapshot.detail = { flows: flowRows(list, step, now), alerts: alertRows(step, now), unknownPorts: unknownPorts(step) };
  const endStep = o.endStep ?? 40;
  const live = info.kind === 'live' || info.kind === 'proxy';
  return {
    snapshot,
    wallMs: info.startedAt + step * stepMs,
    bytesRead: live ? 0 : Math.min(info.totalBytes ?? 0, Math.floor(((info.totalBytes ?? 0) * step) / endStep)),
    live: live ? { captured: snapshot.totals.packets, droppedByKernel: 0, droppedByInterface: null, engineDrops: 0 } : null,
    paused: false,
    state: !live && step >= endStep ? 'ended' : 'running',
  };
}

/** A coverage report for the fixture data, as the summary of a finished replay would carry it. */
export const FIXTURE_COVERAGE: NonNullable<RunSummary['coverage']> = {
  documented: { rules: FIXTURE_RULES.length, portSpecs: 22, portSpecsUnseen: 6 },
  unseen: [
    { rule: 'edgecomet.render-service-api', product: 'edgecomet', transport: 'tcp', ports: '10080' },
    { rule: 'kgateway.gateway-proxy-http', product: 'kgateway', transport: 'tcp', ports: '80' },
    { rule: 'redis-enterprise.internode', product: 'redis-enterprise', transport: 'tcp', ports: '3333-3341,3343-3344,36379,36380' },
    { rule: 'zeebe.internal-api', product: 'zeebe', transport: 'tcp', ports: '26502' },
  ],
  unknownPortCount: 4,
  unknownPorts: [
    { transport: 'tcp', port: 5432, flows: 41, packets: 1600, bytes: 560_000, payload: { unrecognised: 41 } },
    { transport: 'tcp', port: 7000, flows: 21, packets: 400, bytes: 200_000, payload: { resp: 20, none: 1 } },
    { transport: 'udp', port: 4789, flows: 1, packets: 120, bytes: 40_000, payload: { unrecognised: 1 } },
  ],
};

/** A SessionEnd for the last update (interrupted: the user or a signal stopped it). */
export function fixtureEnd(
  last: SessionUpdate,
  o: { interrupted?: boolean; error?: string | null; info?: SessionInfo; opened?: boolean; coverage?: RunSummary['coverage'] } = {},
): SessionEnd {
  const info = o.info ?? fixtureInfo();
  const t = last.snapshot.totals;
  const summary: RunSummary = {
    schema: 1,
    source: {
      kind: info.kind === 'proxy' ? 'live' : info.kind,
      name: info.name,
      format: null,
      byteOrder: null,
      tsPrecision: null,
      version: null,
      sections: 0,
      linkTypes: [],
      interfaces: [],
      skippedBlocks: 0,
      truncated: null,
      error: o.error ? { code: 'PSN_ERR_TEST', message: o.error, offset: null } : null,
    },
    totals: { packets: t.packets, bytes: t.bytes, capturedBytes: t.capturedBytes, flows: t.flows, truncatedFrames: 0, notIp: t.notIp, unattributed: 0, evictedFlows: 0, anomalies: t.anomalies },
    time: { first: null, last: null },
    services: last.snapshot.services,
    coverage: o.coverage ?? null,
    options: { maxFlows: 1_000_000, idleTimeout: 60, activeTimeout: 3600, workers: info.workers },
    interrupted: o.interrupted ?? false,
  };
  return { summary, topFlows: [], violations: [], exitCode: o.error ? 1 : 0, opened: o.opened ?? true };
}
