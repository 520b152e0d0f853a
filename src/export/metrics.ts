/**
 * Prometheus metrics of a session (`--metrics [ADDR:]PORT`), as a SessionConsumer over a
 * prom-client registry. docs/metrics.md lists every series.
 *
 * Where each number comes from decides its type:
 *  - Per-service counters (`portsniff_flow_records_total`, `..._flow_packets_total`,
 *    `..._flow_bytes_total`) count every finished flow record. They are exact and monotonic, and
 *    at the end of a capture they equal the `services` of the `--json` summary. A long flow
 *    reaches them through its `--active-timeout` records (60 s by default for `live`). A record
 *    is added to plain per-service sums (FlowSums); the sums go into prom-client's counters when
 *    they are read (a scrape) and at the end: prom-client validates and hashes the labels of each
 *    increment, ~10 µs, which per record made a flow flood 10x slower.
 *  - Health counters (packets, bytes, anomalies, evictions, drops) are cumulative totals of the
 *    engine, read from the periodic snapshots: each update adds the difference to the previous
 *    one, so they stay counters (a total that ever went down would be a bug, and is ignored).
 *  - Figures about live flows (how many, per service) are gauges: they go up and down.
 * Labels are bounded: product, service (rule id, `ambiguous:<ids>`, or one `unknown` series for
 * all traffic no rule documents), transport, verdict, exposure status, direction, anomaly code,
 * drop stage. Never an address or a port.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineTotals, FlowTally } from '../pipeline/results.js';
import type { FlowCounts } from '../pipeline/service-stats.js';
import type { LiveCounters, SessionConsumer, SessionEnd, SessionInfo, SessionUpdate } from './consumer.js';

/** Labels of the per-service series of one flow record. */
export interface ServiceLabels {
  service: string;
  product: string;
  transport: string;
}

/**
 * `service`: the summary's service key (rule id, `ambiguous:<id>|<id>`, `unknown`, or
 * `unclassified` with --no-rules). `product`: the rule's product; for an ambiguous flow the
 * candidates' product when they share one (rule ids start with their product key), else
 * `ambiguous`; else `unknown` / `unclassified`.
 */
export function serviceLabels(f: FlowTally): ServiceLabels {
  if (f.verdict === undefined) return { service: 'unclassified', product: 'unclassified', transport: f.transport };
  if (f.service) return { service: f.service.id, product: f.service.product, transport: f.transport };
  const candidates = f.candidates ?? [];
  if (f.ambiguous && candidates.length > 0) {
    const ids = candidates.map((c) => c.id);
    return { service: `ambiguous:${ids.join('|')}`, product: productOf('ambiguous', null, ids), transport: f.transport };
  }
  return { service: 'unknown', product: 'unknown', transport: f.transport };
}

/** The product label of a service key (see serviceLabels). */
export function productOf(key: string, product: string | null, candidateIds: readonly string[]): string {
  if (product !== null) return product;
  if (key === 'unknown' || key === 'unclassified') return key;
  const products = new Set(candidateIds.map((id) => id.slice(0, id.indexOf('.'))));
  return products.size === 1 ? [...products][0]! : 'ambiguous';
}

export interface MetricsConsumerOptions {
  /** Also export prom-client's process and Node.js metrics (default true). */
  processMetrics?: boolean;
  /** Wall clock in ms (tests). */
  now?: () => number;
  /** portsniff's version, for portsniff_build_info. */
  version?: string;
}

type Stage = 'kernel' | 'interface' | 'engine';

/** What the flow records of one service (and transport) added since the counters were last brought up to date. */
interface FlowSums extends FlowCounts {
  labels: ServiceLabels;
  /** Labels with each direction, made once. */
  toServer: ServiceLabels & { direction: string };
  toClient: ServiceLabels & { direction: string };
  /** Set once a record of this service has packets (bytes): the series exist from then on. */
  hasPackets: boolean;
  hasBytes: boolean;
  /** Records by verdict, then exposure status. */
  records: Map<string, Map<string, RecordCount>>;
}

interface RecordCount {
  labels: ServiceLabels & { verdict: string; exposure: string };
  count: number;
}

export class MetricsConsumer implements SessionConsumer {
  readonly registry = new Registry();
  private readonly now: () => number;

  private readonly flowRecords: Counter<'service' | 'product' | 'transport' | 'verdict' | 'exposure'>;
  private readonly flowPackets: Counter<'service' | 'product' | 'transport' | 'direction'>;
  private readonly flowBytes: Counter<'service' | 'product' | 'transport' | 'direction'>;
  private readonly flowPayloadBytes: Counter<'service' | 'product' | 'transport' | 'direction'>;
  private readonly packets: Counter;
  private readonly bytes: Counter;
  private readonly notIp: Counter;
  private readonly unattributed: Counter;
  private readonly truncated: Counter;
  private readonly flowsCreated: Counter;
  private readonly evicted: Counter;
  private readonly anomalies: Counter<'code'>;
  private readonly dropped: Counter<'stage'>;
  private readonly liveFlows: Gauge;
  private readonly serviceLiveFlows: Gauge<'service' | 'product'>;
  private readonly info: Gauge<'version' | 'source_kind' | 'source' | 'backend'>;
  private readonly rulesLoaded: Gauge;
  private readonly inputEnded: Gauge;
  private readonly version: string;

  /** Cumulative values already added to each health counter (keyed by counter name + label). */
  private readonly seen = new Map<string, number>();
  /** Wall-clock time (ms) the latest snapshot was taken; null before the first. */
  private snapshotTakenAt: number | null = null;
  /** Set by the exporter's HTTP server: scrapes served after finish() (for --metrics-linger). */
  ended = false;
  /** Per-service sums of flow records, by service key, then transport. */
  private readonly sums = new Map<string, Map<string, FlowSums>>();
  // Each series in the order its first record came (prom-client lists series in creation order).
  private readonly recordSeries: RecordCount[] = [];
  private readonly packetSeries: FlowSums[] = [];
  private readonly byteSeries: FlowSums[] = [];
  private readonly payloadSeries: FlowSums[] = [];
  /** Records added to the sums since the counters were brought up to date. */
  private pending = 0;

  constructor(opts: MetricsConsumerOptions = {}) {
    this.now = opts.now ?? Date.now;
    const registers = [this.registry];
    const self = this;
    // Scrapes read the counters: the sums go in first.
    const collect = (): void => self.applyFlowSums();
    this.flowRecords = new Counter({
      collect,
      name: 'portsniff_flow_records_total',
      help: 'Finished flow records by service, verdict and exposure status (a flow cut by the active timeout counts once per record).',
      labelNames: ['service', 'product', 'transport', 'verdict', 'exposure'],
      registers,
    });
    this.flowPackets = new Counter({
      collect,
      name: 'portsniff_flow_packets_total',
      help: 'Packets of finished flow records, by service and direction (to_server, to_client).',
      labelNames: ['service', 'product', 'transport', 'direction'],
      registers,
    });
    this.flowBytes = new Counter({
      collect,
      name: 'portsniff_flow_bytes_total',
      help: 'Frame bytes on the wire (link header included) of finished flow records, by service and direction.',
      labelNames: ['service', 'product', 'transport', 'direction'],
      registers,
    });
    this.flowPayloadBytes = new Counter({
      collect,
      name: 'portsniff_flow_payload_bytes_total',
      help: 'Transport payload bytes of finished flow records (portsniff proxy: the bytes relayed), by service and direction.',
      labelNames: ['service', 'product', 'transport', 'direction'],
      registers,
    });
    this.packets = new Counter({ name: 'portsniff_packets_total', help: 'Packets processed by the engine.', registers });
    this.bytes = new Counter({ name: 'portsniff_bytes_total', help: 'Frame bytes on the wire (orig_len) processed by the engine (portsniff proxy: payload bytes relayed).', registers });
    this.notIp = new Counter({ name: 'portsniff_not_ip_packets_total', help: 'Frames without IP (ARP, LLDP, ...).', registers });
    this.unattributed = new Counter({
      name: 'portsniff_unattributed_packets_total',
      help: 'IP frames that could not be put in a flow (truncated transport header, orphan fragment).',
      registers,
    });
    this.truncated = new Counter({ name: 'portsniff_truncated_frames_total', help: 'Frames cut by the snapshot length.', registers });
    this.flowsCreated = new Counter({ name: 'portsniff_flows_created_total', help: 'Flows created in the flow table.', registers });
    this.evicted = new Counter({
      name: 'portsniff_flows_evicted_total',
      help: 'Flows ended early because the flow table was full (--max-flows).',
      registers,
    });
    this.anomalies = new Counter({ name: 'portsniff_anomalies_total', help: 'Malformed or unusual packets, by anomaly code.', labelNames: ['code'], registers });
    this.dropped = new Counter({
      name: 'portsniff_dropped_packets_total',
      help: 'Packets lost before analysis: stage kernel (socket buffer full), interface (driver), engine (portsniff too slow). A stage the capture backend cannot count has no series.',
      labelNames: ['stage'],
      registers,
    });
    this.liveFlows = new Gauge({ name: 'portsniff_live_flows', help: 'Flows in the flow table now.', registers });
    this.serviceLiveFlows = new Gauge({
      name: 'portsniff_service_live_flows',
      help: 'Live flows by service at the latest snapshot.',
      labelNames: ['service', 'product'],
      registers,
    });
    new Gauge({
      name: 'portsniff_snapshot_age_seconds',
      help: 'Seconds since the engine statistics behind these metrics were taken (grows when the engine is stuck; 0 once the input ended).',
      registers,
      collect() {
        this.reset();
        if (self.snapshotTakenAt !== null && !self.ended) this.set(Math.max(0, (self.now() - self.snapshotTakenAt) / 1000));
      },
    });
    this.info = new Gauge({
      name: 'portsniff_build_info',
      help: 'Always 1: the version and what this sensor reads.',
      labelNames: ['version', 'source_kind', 'source', 'backend'],
      registers,
    });
    this.rulesLoaded = new Gauge({ name: 'portsniff_rules_loaded', help: 'Port-map rules in use (after --products).', registers });
    this.inputEnded = new Gauge({
      name: 'portsniff_input_ended',
      help: '1 once the capture ended (replay finished, live capture stopped) and every flow was counted.',
      registers,
    });
    this.version = opts.version ?? '0.0.0';
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  start(info: SessionInfo): void {
    this.info.set({ version: this.version, source_kind: info.kind, source: info.name, backend: info.backend ?? '' }, 1);
    const products = info.products;
    this.rulesLoaded.set(products === null ? info.rules.length : info.rules.filter((r) => products.includes(r.product)).length);
  }

  tally(f: FlowTally): void {
    const sums = this.sumsOf(f);
    const verdict = f.verdict ?? 'none';
    const exposure = f.exposure?.status ?? 'none';
    let byExposure = sums.records.get(verdict);
    if (byExposure === undefined) sums.records.set(verdict, (byExposure = new Map()));
    let records = byExposure.get(exposure);
    if (records === undefined) {
      records = { labels: { ...sums.labels, verdict, exposure }, count: 0 };
      byExposure.set(exposure, records);
      this.recordSeries.push(records);
    }
    records.count++;
    // A relayed connection (portsniff proxy) has no frames: only its payload is counted.
    if (f.packets !== null) {
      if (!sums.hasPackets) {
        sums.hasPackets = true;
        this.packetSeries.push(sums);
      }
      sums.packetsToServer += f.packets.toServer;
      sums.packetsToClient += f.packets.toClient;
    }
    if (f.bytes !== null) {
      if (!sums.hasBytes) {
        sums.hasBytes = true;
        this.byteSeries.push(sums);
      }
      sums.bytesToServer += f.bytes.toServer;
      sums.bytesToClient += f.bytes.toClient;
    }
    sums.payloadToServer += f.payloadBytes.toServer;
    sums.payloadToClient += f.payloadBytes.toClient;
    this.pending++;
  }

  /** The sums of `f`'s service and transport (made on its first record). */
  private sumsOf(f: FlowTally): FlowSums {
    // The service key without building labels: a rule id, or the fixed keys (ambiguous flows, rarer,
    // build theirs). Worked out here rather than by the pipeline's serviceKey: this module is a
    // chunk loaded only with --metrics, and a runtime import of service-stats would split that
    // module into a chunk of its own, one more file for every replay to load (startup.test.ts).
    const key = f.verdict === undefined ? 'unclassified' : f.service ? f.service.id : f.ambiguous && (f.candidates?.length ?? 0) > 0 ? null : 'unknown';
    const labels = key === null ? serviceLabels(f) : null;
    const serviceKey = key ?? labels!.service;
    let byTransport = this.sums.get(serviceKey);
    if (byTransport === undefined) this.sums.set(serviceKey, (byTransport = new Map()));
    let sums = byTransport.get(f.transport);
    if (sums === undefined) {
      const l = labels ?? serviceLabels(f);
      sums = {
        labels: l,
        toServer: { ...l, direction: 'to_server' },
        toClient: { ...l, direction: 'to_client' },
        packetsToServer: 0,
        packetsToClient: 0,
        bytesToServer: 0,
        bytesToClient: 0,
        payloadToServer: 0,
        payloadToClient: 0,
        hasPackets: false,
        hasBytes: false,
        records: new Map(),
      };
      byTransport.set(f.transport, sums);
      this.payloadSeries.push(sums);
    }
    return sums;
  }

  /**
   * Adds the sums of the flow records since the last call to the counters, in the order their
   * series first appeared, and zeroes them. A series seen once is always written (0 included), as
   * one increment per record wrote it.
   */
  private applyFlowSums(): void {
    if (this.pending === 0) return;
    this.pending = 0;
    for (const r of this.recordSeries) {
      if (r.count > 0) this.flowRecords.inc(r.labels, r.count);
      r.count = 0;
    }
    for (const s of this.packetSeries) {
      this.flowPackets.inc(s.toServer, s.packetsToServer);
      this.flowPackets.inc(s.toClient, s.packetsToClient);
      s.packetsToServer = s.packetsToClient = 0;
    }
    for (const s of this.byteSeries) {
      this.flowBytes.inc(s.toServer, s.bytesToServer);
      this.flowBytes.inc(s.toClient, s.bytesToClient);
      s.bytesToServer = s.bytesToClient = 0;
    }
    for (const s of this.payloadSeries) {
      this.flowPayloadBytes.inc(s.toServer, s.payloadToServer);
      this.flowPayloadBytes.inc(s.toClient, s.payloadToClient);
      s.payloadToServer = s.payloadToClient = 0;
    }
  }

  update(u: SessionUpdate): void {
    const s = u.snapshot;
    this.applyTotals(s.totals);
    this.applyDrops(u.live, s.engineDrops);
    this.liveFlows.set(s.totals.liveFlows);
    this.serviceLiveFlows.reset();
    for (const e of s.services) {
      if (e.liveFlows > 0) this.serviceLiveFlows.set({ service: e.key, product: productOf(e.key, e.product, e.candidates) }, e.liveFlows);
    }
    this.snapshotTakenAt = s.takenAt;
  }

  finish(end: SessionEnd): void {
    this.applyFlowSums();
    const t = end.summary.totals;
    this.applyTotals(t);
    const live = end.summary.source.live;
    this.applyDrops(
      live ? { captured: live.captured, droppedByKernel: live.droppedByKernel, droppedByInterface: live.droppedByInterface, engineDrops: live.engineDrops } : null,
      live?.engineDrops ?? 0,
    );
    this.liveFlows.set(0);
    this.serviceLiveFlows.reset();
    this.inputEnded.set(1);
    this.ended = true;
  }

  /** Adds what grew since the last call; a total that went down (never expected) is ignored. */
  private advance(counter: Counter<string>, key: string, total: number, labels?: Record<string, string>): void {
    const before = this.seen.get(key) ?? 0;
    if (total > before) {
      if (labels === undefined) counter.inc(total - before);
      else counter.inc(labels, total - before);
      this.seen.set(key, total);
    }
  }

  private applyTotals(t: Pick<EngineTotals, 'packets' | 'bytes' | 'notIp' | 'unattributed' | 'truncatedFrames' | 'flows' | 'evictedFlows' | 'anomalies'>): void {
    this.advance(this.packets, 'packets', t.packets);
    this.advance(this.bytes, 'bytes', t.bytes);
    this.advance(this.notIp, 'notIp', t.notIp);
    this.advance(this.unattributed, 'unattributed', t.unattributed);
    this.advance(this.truncated, 'truncated', t.truncatedFrames);
    this.advance(this.flowsCreated, 'flows', t.flows);
    this.advance(this.evicted, 'evicted', t.evictedFlows);
    for (const [code, n] of Object.entries(t.anomalies)) this.advance(this.anomalies, `anomaly:${code}`, n, { code });
  }

  /** Drop counters: a stage whose count is unknown (null) gets no series at all. */
  private applyDrops(live: LiveCounters | null, engineDrops: number): void {
    const stages: Array<[Stage, number | null]> = [
      ['kernel', live?.droppedByKernel ?? null],
      ['interface', live?.droppedByInterface ?? null],
      ['engine', live === null ? (engineDrops > 0 ? engineDrops : null) : Math.max(live.engineDrops, engineDrops)],
    ];
    for (const [stage, n] of stages) {
      if (n === null) continue;
      if (!this.seen.has(`drop:${stage}`)) {
        this.dropped.inc({ stage }, 0); // a known zero is a series with value 0
        this.seen.set(`drop:${stage}`, 0);
      }
      this.advance(this.dropped, `drop:${stage}`, n, { stage });
    }
  }

  /** The exposition text (what GET /metrics returns). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
