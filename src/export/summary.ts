/**
 * The `--json` run summary: one object, fixed key order, documented in docs/output-schema.md.
 */
import type { CaptureInfo, CaptureReadResult, LiveStats } from '../capture/types.js';
import type { EncapsulationCount, EngineTotals, ProxyStats } from '../pipeline/results.js';
import { encapsulationTotals } from '../pipeline/encapsulations.js';
import type { ServiceTotals } from '../pipeline/service-stats.js';
import { formatTimestamp } from '../util/time.js';
import { linkTypeName } from './names.js';
import type { CoverageReport } from './coverage.js';

export const SUMMARY_SCHEMA_VERSION = 1;

export interface RunSummary {
  schema: number;
  source: {
    kind: 'file' | 'stdin' | 'live' | 'proxy';
    name: string;
    format: CaptureInfo['format'] | null;
    byteOrder: CaptureInfo['byteOrder'] | null;
    tsPrecision: string | null;
    version: string | null;
    sections: number;
    linkTypes: Array<{ linkType: number; name: string; packets: number }>;
    interfaces: Array<{
      id: number;
      name: string | null;
      linkType: number;
      snaplen: number;
      tsUnitsPerSecond: number;
      drops: { interface: number | null; os: number | null } | null;
      received: number | null;
    }>;
    skippedBlocks: number;
    truncated: { offset: number; message: string } | null;
    error: { code: string; message: string; offset: number | null } | null;
    /** Live captures only (absent for files and stdin): backend, kernel drop counters, caveats. */
    live?: LiveStats;
    /** `portsniff proxy` only: listeners and relay counters. */
    proxy?: ProxyStats;
  };
  totals: {
    packets: number;
    bytes: number;
    capturedBytes: number;
    flows: number;
    truncatedFrames: number;
    notIp: number;
    unattributed: number;
    evictedFlows: number;
    anomalies: Record<string, number>;
    /**
     * Encapsulations flows were found inside, per type and id (docs/output-schema.md). Always set
     * by buildSummary ([] without tunnels); optional for summaries built elsewhere (tests, older
     * producers).
     */
    encapsulations?: EncapsulationCount[];
  };
  time: { first: string | null; last: string | null };
  services: ServiceTotals[];
  /** Documented ports never seen and the busiest unknown server ports (export/coverage.ts); null with --no-rules. */
  coverage: CoverageReport | null;
  options: {
    maxFlows: number;
    idleTimeout: number;
    activeTimeout: number;
    workers: number;
    /** `--decap`: auto or off. */
    decap?: 'auto' | 'off';
    /** UDP ports opened as VXLAN (defaults and --vxlan-port); empty with --decap off. */
    vxlanPorts?: number[];
  };
  interrupted: boolean;
}

export function buildSummary(args: {
  kind: 'file' | 'stdin' | 'live' | 'proxy';
  name: string;
  read: CaptureReadResult | null;
  error: { code: string; message: string; offset: number | null } | null;
  totals: EngineTotals;
  services: ServiceTotals[];
  coverage?: CoverageReport | null;
  options: RunSummary['options'];
  interrupted: boolean;
  proxy?: ProxyStats;
}): RunSummary {
  const { read, totals } = args;
  const info = read?.info ?? null;
  return {
    schema: SUMMARY_SCHEMA_VERSION,
    source: {
      kind: args.kind,
      name: args.name,
      format: info?.format ?? null,
      byteOrder: info?.byteOrder ?? null,
      tsPrecision: info?.tsPrecision ?? null,
      version: info?.version ?? null,
      sections: info?.sections ?? 0,
      linkTypes: Object.entries(totals.packetsByLinkType)
        .map(([lt, packets]) => ({ linkType: Number(lt), name: linkTypeName(Number(lt)), packets }))
        .sort((a, b) => a.linkType - b.linkType),
      interfaces: (info?.interfaces ?? []).map((i) => ({
        id: i.id,
        name: i.name ?? null,
        linkType: i.linkType,
        snaplen: i.snaplen,
        tsUnitsPerSecond: i.tsUnitsPerSecond,
        drops: i.stats ? { interface: i.stats.droppedByInterface ?? null, os: i.stats.droppedByOs ?? null } : null,
        received: i.stats?.received ?? null,
      })),
      skippedBlocks: read?.skippedBlocks ?? 0,
      truncated: read?.truncated ?? null,
      error: args.error,
      ...(read?.live ? { live: read.live } : {}),
      ...(args.proxy ? { proxy: args.proxy } : {}),
    },
    totals: {
      packets: totals.packets,
      bytes: totals.bytes,
      capturedBytes: totals.capturedBytes,
      flows: totals.flows,
      truncatedFrames: totals.truncatedFrames,
      notIp: totals.notIp,
      unattributed: totals.unattributed,
      evictedFlows: totals.evictedFlows,
      anomalies: totals.anomalies,
      encapsulations: encapsulationTotals(args.services),
    },
    time: {
      first: totals.firstSec >= 0 ? formatTimestamp(totals.firstSec, totals.firstNsec) : null,
      last: totals.lastSec >= 0 ? formatTimestamp(totals.lastSec, totals.lastNsec) : null,
    },
    services: args.services,
    coverage: args.coverage ?? null,
    options: args.options,
    interrupted: args.interrupted,
  };
}
