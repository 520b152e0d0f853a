/**
 * The in-process capture engine: decode -> flow table -> classification, fed record by record by a
 * capture reader (it is a FrameSink). Worker threads host one of these each; with `--workers 0`
 * the CLI uses it directly. Produces finished flow records (through `onFlow`), a final summary and
 * periodic snapshots, and knows nothing about terminals or output formats.
 */
import { AnomalyCounters, ANOMALY_COUNT } from '../util/anomaly.js';
import type { FrameSink } from '../capture/types.js';
import { PacketDecoder } from '../decode/decoder.js';
import { DecodeStatus } from '../decode/types.js';
import { FlowTable, type FlowObserver } from '../flow/table.js';
import { describeFlow, type FlowRecord } from '../flow/record.js';
import type { Classification, FlowClassifier } from '../classify/types.js';
import { ServiceStats } from './service-stats.js';

export interface EngineOptions {
  maxFlows: number;
  idleTimeout: number;
  activeTimeout: number;
  classifier?: FlowClassifier | null;
  documentedPorts?: { tcp?: Uint8Array; udp?: Uint8Array; sctp?: Uint8Array };
  /** Receives each finished flow, in the order flows end. */
  onFlow?: (flow: ClassifiedFlow) => void;
}

export const DEFAULT_ENGINE_OPTIONS = { maxFlows: 262_144, idleTimeout: 120, activeTimeout: 0 } as const;

export type ClassifiedFlow = FlowRecord & Partial<Classification>;

export interface EngineTotals {
  packets: number;
  /** Sum of frame wire lengths (orig_len). */
  bytes: number;
  /** Sum of captured lengths. */
  capturedBytes: number;
  /** Frames cut by the snaplen (caplen < origlen). */
  truncatedFrames: number;
  /** Frames without IP (ARP, LLDP, unsupported link types). */
  notIp: number;
  /** IP frames that could not be put in a flow (truncated transport header, orphan fragment). */
  unattributed: number;
  flows: number;
  liveFlows: number;
  evictedFlows: number;
  anomalies: Record<string, number>;
  packetsByLinkType: Record<string, number>;
  firstSec: number;
  firstNsec: number;
  lastSec: number;
  lastNsec: number;
}

export class Engine implements FrameSink, FlowObserver {
  readonly decoder = new PacketDecoder();
  readonly table: FlowTable;
  readonly anomalies = new AnomalyCounters();
  readonly services = new ServiceStats();
  private readonly classifier: FlowClassifier | null;
  private readonly onFlow: ((flow: ClassifiedFlow) => void) | null;
  private readonly linkTypePackets = new Float64Array(65536);

  packets = 0;
  bytes = 0;
  capturedBytes = 0;
  truncatedFrames = 0;
  notIp = 0;
  private firstSec = -1;
  private firstNsec = 0;
  private lastSec = -1;
  private lastNsec = 0;

  constructor(opts: EngineOptions) {
    const tableOpts = { maxFlows: opts.maxFlows, idleTimeout: opts.idleTimeout, activeTimeout: opts.activeTimeout };
    this.table = new FlowTable(opts.documentedPorts ? { ...tableOpts, documentedPorts: opts.documentedPorts } : tableOpts);
    this.table.setObserver(this);
    this.classifier = opts.classifier ?? null;
    this.onFlow = opts.onFlow ?? null;
  }

  frame(buf: Uint8Array, offset: number, capLen: number, origLen: number, tsSec: number, tsNsec: number, linkType: number): void {
    const ordinal = this.packets++;
    this.bytes += origLen;
    this.capturedBytes += capLen;
    this.linkTypePackets[linkType & 0xffff]!++;
    if (capLen < origLen) this.truncatedFrames++;
    if (this.firstSec < 0) {
      this.firstSec = tsSec;
      this.firstNsec = tsNsec;
    }
    if (tsSec > this.lastSec || (tsSec === this.lastSec && tsNsec > this.lastNsec)) {
      this.lastSec = tsSec;
      this.lastNsec = tsNsec;
    }
    const p = this.decoder.decode(buf, offset, capLen, origLen, linkType);
    if (p.anomaly !== 0) this.anomalies.counts[p.anomaly]!++;
    if (p.status === DecodeStatus.NotIp || p.ipVersion === 0) {
      this.notIp++;
      // A frame cut before the IP header still advances the flow clock.
      this.table.sweepIfDue(tsSec);
      return;
    }
    this.table.process(p, ordinal, tsSec, tsNsec, origLen, buf);
  }

  // FlowObserver: classification hooks and record emission.
  flowStarted(slot: number): void {
    this.classifier?.flowStarted(this.table, slot);
  }

  payload(slot: number, toServer: boolean, buf: Uint8Array, offset: number, length: number): void {
    this.classifier?.payload(this.table, slot, toServer, buf, offset, length);
  }

  flowEnded(slot: number, reason: number): void {
    const t = this.table;
    if (t.pktsToServer[slot]! + t.pktsToClient[slot]! === 0) return; // an active-timeout tail with no packets
    const cls = this.classifier ? this.classifier.classify(t, slot) : null;
    this.services.addFlow(t, slot, cls);
    if (this.onFlow === null) return;
    const record: ClassifiedFlow = describeFlow(t, slot, reason);
    if (cls) Object.assign(record, cls);
    this.onFlow(record);
  }

  /** End every live flow (end of input). */
  finish(): void {
    this.table.flush();
  }

  totals(): EngineTotals {
    const anomalies = new AnomalyCounters();
    anomalies.mergeFrom(this.anomalies);
    for (let i = 0; i < ANOMALY_COUNT; i++) anomalies.counts[i]! += this.table.flowAnomalies[i] ?? 0;
    const packetsByLinkType: Record<string, number> = {};
    for (let lt = 0; lt < 65536; lt++) if (this.linkTypePackets[lt]! > 0) packetsByLinkType[String(lt)] = this.linkTypePackets[lt]!;
    return {
      packets: this.packets,
      bytes: this.bytes,
      capturedBytes: this.capturedBytes,
      truncatedFrames: this.truncatedFrames,
      notIp: this.notIp,
      unattributed: this.table.unattributed,
      flows: this.table.created,
      liveFlows: this.table.live,
      evictedFlows: this.table.evicted,
      anomalies: anomalies.toRecord(),
      packetsByLinkType,
      firstSec: this.firstSec,
      firstNsec: this.firstNsec,
      lastSec: this.lastSec,
      lastNsec: this.lastNsec,
    };
  }
}
