/**
 * The flows view (and the flow lists of a drill-down): the snapshot's bounded list of top live
 * flows and recently ended ones, as display rows, sorted and filtered. Ages are measured in capture
 * time (the newest packet of the snapshot), so a replay shows the ages the capture had.
 */
import type { SessionInfo } from '../../export/consumer.js';
import type { FlowRow } from '../../pipeline/results.js';
import { matchesFilter, portsOf, type Filter, type FilterSubject } from './filter.js';
import type { Frame } from './frame.js';
import { candidatesOf, keyKind, productOfId, ruleIndex, type RuleIndex } from './rules.js';
import { comparator, type SortOrder } from './sort.js';
import { stackText } from './tunnels.js';

export interface FlowItem {
  id: number;
  live: boolean;
  transport: string;
  /** "10.0.0.5:51234" ("[fd00::1]:443" for IPv6). */
  client: string;
  server: string;
  serviceKey: string;
  /** Rule id, "ambiguous: a|b", "unknown". */
  service: string;
  verdict: string;
  exposure: string;
  /** Zeek-style state; '-' for a relayed connection (portsniff proxy sees no packets). */
  state: string;
  /** Null for a relayed connection. */
  packetsUp: number | null;
  packetsDown: number | null;
  bytesUp: number;
  bytesDown: number;
  bytesPerSec: number;
  rttMs: number | null;
  /** Seconds since the first packet (capture time). */
  ageSec: number;
  /** Ended flows: seconds since the last packet; live: 0. */
  idleSec: number;
  end: string | null;
  /** "sni=api.example.com alpn=h2 grpc=/pkg.Svc/Method" (what the payload showed). */
  evidence: string;
  /** Encapsulations outer to inner, "vxlan:1" or "gre:7›vxlan:3"; '' outside tunnels. */
  tunnel: string;
  raw: FlowRow;
}

export interface FlowsModel {
  live: FlowItem[];
  ended: FlowItem[];
  /** Flow ids in display order (live first). */
  order: number[];
  shown: number;
  total: number;
  /** Some listed flow came through a tunnel (the table gets a VIA column). */
  tunnelled: boolean;
  /** Relayed connections (portsniff proxy): no state, packets or RTT columns. */
  relayed: boolean;
}

export function endpoint(ip: string, port: number, transport: string): string {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return transport === 'icmp' || transport === 'icmpv6' ? host : `${host}:${port}`;
}

/** Evidence fields worth a glance, in order, with short labels. */
const EVIDENCE_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['sni', 'sni'],
  ['alpn', 'alpn'],
  ['grpcPath', 'grpc'],
  ['httpPath', 'http'],
  ['host', 'host'],
  ['respCommand', 'resp'],
  ['dnsQname', 'dns'],
  ['xdsService', 'xds'],
];

export function evidenceText(ev: Readonly<Record<string, string>>): string {
  const parts: string[] = [];
  for (const [field, label] of EVIDENCE_FIELDS) {
    const v = ev[field];
    if (v === undefined || v === '') continue;
    parts.push(field === 'httpPath' && ev['httpMethod'] ? `${label}=${ev['httpMethod']} ${v}` : `${label}=${v}`);
  }
  if (parts.length === 0 && ev['protocol']) parts.push(`proto=${ev['protocol']}`);
  return parts.join(' ');
}

export function serviceLabel(key: string): string {
  const kind = keyKind(key);
  if (kind === 'ambiguous') return `ambiguous: ${candidatesOf(key).join('|')}`;
  return key;
}

/**
 * "Now" in capture time: the newest packet the snapshot saw (seconds since the epoch). A relay
 * (portsniff proxy) runs on the wall clock and its open connections move bytes all the time: the
 * snapshot's time.
 */
export function captureNow(frame: Frame | null, info: SessionInfo | null = null): number {
  if (info?.kind === 'proxy' && frame !== null) return frame.update.snapshot.takenAt / 1000;
  const t = frame?.update.snapshot.totals;
  return t === undefined || t.lastSec < 0 ? NaN : t.lastSec + t.lastNsec / 1e9;
}

export function flowItem(f: FlowRow, now: number): FlowItem {
  return {
    id: f.id,
    live: f.live,
    transport: f.transport,
    client: endpoint(f.client.ip, f.client.port, f.transport),
    server: endpoint(f.server.ip, f.server.port, f.transport),
    serviceKey: f.serviceKey,
    service: serviceLabel(f.serviceKey),
    verdict: f.verdict ?? '-',
    exposure: f.exposure ?? '-',
    state: f.state ?? '-',
    packetsUp: f.packets?.toServer ?? null,
    packetsDown: f.packets?.toClient ?? null,
    bytesUp: f.bytes.toServer,
    bytesDown: f.bytes.toClient,
    bytesPerSec: f.live ? f.rateBytesPerSec : 0,
    rttMs: f.handshakeRttMs,
    ageSec: now - f.firstSec,
    idleSec: f.live ? 0 : now - f.lastSec,
    end: f.end,
    evidence: evidenceText(f.evidence),
    tunnel: stackText(f.tunnel),
    raw: f,
  };
}

export function flowSubject(f: FlowRow, idx: RuleIndex, item: FlowItem): FilterSubject {
  const kind = keyKind(f.serviceKey);
  const ids = kind === 'ambiguous' ? candidatesOf(f.serviceKey) : kind === 'rule' ? [f.serviceKey] : [];
  const products = kind === 'rule' || kind === 'ambiguous' ? ids.map((id) => productOfId(id, idx)) : [kind];
  return {
    products,
    services: [f.serviceKey, ...ids.map((id) => idx.byId.get(id)?.component ?? '')],
    ports: portsOf(f.client.port, f.server.port),
    clients: [f.client.ip],
    servers: [f.server.ip],
    sni: f.evidence['sni'] ? [f.evidence['sni']] : [],
    tunnels: f.tunnel ?? [],
    text: [item.client, item.server, item.verdict, item.state, item.evidence, f.transport, item.tunnel],
  };
}

export interface FlowSelection {
  /** Only flows of this service key. */
  serviceKey?: string;
  /** Only these flow ids (an alert's flows). */
  ids?: readonly number[];
  /** Only unknown flows to this server port (the coverage view's port drill-down); null: none. */
  unknownPort?: { transport: string; port: number } | null;
}

export function buildFlows(info: SessionInfo | null, frame: Frame | null, sort: SortOrder, filter: Filter, only: FlowSelection = {}): FlowsModel {
  const idx = ruleIndex(info);
  const all = frame?.update.snapshot.detail?.flows ?? [];
  const now = captureNow(frame, info);
  const ids = only.ids === undefined ? null : new Set(only.ids);
  const live: FlowItem[] = [];
  const ended: FlowItem[] = [];
  let total = 0;
  for (const f of all) {
    if (only.serviceKey !== undefined && f.serviceKey !== only.serviceKey) continue;
    if (ids !== null && !ids.has(f.id)) continue;
    if (only.unknownPort !== undefined && (only.unknownPort === null || f.serviceKey !== 'unknown' || f.transport !== only.unknownPort.transport || f.server.port !== only.unknownPort.port)) continue;
    total++;
    const item = flowItem(f, now);
    if (filter.terms.length > 0 && !matchesFilter(filter, flowSubject(f, idx, item))) continue;
    (f.live ? live : ended).push(item);
  }
  const cmp = comparator<{ key: string; name: string; bytes: number; bytesPerSec: number; flows: number }>(sort);
  const sortable = (x: FlowItem) => ({
    key: String(x.id).padStart(20, '0'),
    name: x.service,
    bytes: x.bytesUp + x.bytesDown,
    bytesPerSec: x.bytesPerSec,
    // Flows view: the "flows" order is by packets.
    flows: (x.packetsUp ?? 0) + (x.packetsDown ?? 0),
  });
  const byOrder = (a: FlowItem, b: FlowItem) => cmp(sortable(a), sortable(b));
  live.sort(byOrder);
  // Recently ended flows: the most recently ended first unless sorted otherwise by name/bytes.
  ended.sort(sort.key === 'rate' ? (a, b) => a.idleSec - b.idleSec || a.id - b.id : byOrder);
  const tunnelled = live.some((x) => x.tunnel !== '') || ended.some((x) => x.tunnel !== '');
  return { live, ended, order: [...live, ...ended].map((x) => x.id), shown: live.length + ended.length, total, tunnelled, relayed: info?.kind === 'proxy' };
}
