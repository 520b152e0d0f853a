/**
 * Realistic session data for consumer tests: the in-process engine runs over a capture with the
 * shipped rules, and every call a session makes on a consumer (start, flow or tally, update,
 * finish) is recorded in order, with a snapshot update every `updateEvery` records. `drive()` replays them on
 * any consumer, so exporters are tested through the consumer interface alone.
 */
import { readCaptureFile } from '../../src/capture/file.js';
import type { FrameSink } from '../../src/capture/types.js';
import { buildClassification, type ClassificationSpec } from '../../src/pipeline/classification.js';
import { Engine, DEFAULT_ENGINE_OPTIONS } from '../../src/pipeline/engine.js';
import type { ClassifiedFlow } from '../../src/pipeline/results.js';
import type { LiveCounters, SessionConsumer, SessionControl, SessionEnd, SessionInfo, SessionUpdate } from '../../src/export/consumer.js';
import { buildSummary } from '../../src/export/summary.js';
import { defaultRulesDir, loadRuleDirs } from '../../src/rules/load.js';
import { ruleInfoOf } from '../../src/export/rule-info.js';

export type SessionEvent = { flow: ClassifiedFlow } | { update: SessionUpdate };

export interface SessionData {
  info: SessionInfo;
  events: SessionEvent[];
  end: SessionEnd;
  flows: ClassifiedFlow[];
}

export interface SessionDataOptions {
  products?: string[];
  monitoringHosts?: string;
  classification?: Partial<ClassificationSpec> | null;
  activeTimeout?: number;
  idleTimeout?: number;
  maxFlows?: number;
  updateEvery?: number;
  kind?: SessionInfo['kind'];
  /** Live counters to attach to every update (a live session); null for files. */
  live?: LiveCounters | null;
}

let shipped: ReturnType<typeof loadRuleDirs> | null = null;
export function shippedRules(): ReturnType<typeof loadRuleDirs> {
  shipped ??= loadRuleDirs([defaultRulesDir()]);
  return shipped;
}

export async function sessionData(capture: string, opts: SessionDataOptions = {}): Promise<SessionData> {
  const ruleSet = shippedRules();
  const spec: ClassificationSpec | null =
    opts.classification === null
      ? null
      : { ruleSet, products: opts.products, monitoringHosts: opts.monitoringHosts, evidenceDetail: true, ...(opts.classification ?? {}) };
  const built = buildClassification(spec);
  const events: SessionEvent[] = [];
  const flows: ClassifiedFlow[] = [];
  const maxFlows = opts.maxFlows ?? DEFAULT_ENGINE_OPTIONS.maxFlows;
  const engine = new Engine({
    maxFlows,
    idleTimeout: opts.idleTimeout ?? DEFAULT_ENGINE_OPTIONS.idleTimeout,
    activeTimeout: opts.activeTimeout ?? 0,
    classifier: built.makeClassifier(maxFlows),
    documentedPorts: built.documentedPorts,
    onFlow: (f) => {
      flows.push(f);
      events.push({ flow: f });
    },
  });
  const every = opts.updateEvery ?? 100;
  let wallMs = 1_700_000_000_000;
  const live = opts.live ?? null;
  const update = (state: 'running' | 'ended'): void => {
    wallMs += 250;
    const snapshot = { ...engine.snapshot(true), takenAt: wallMs };
    events.push({ update: { snapshot, wallMs, bytesRead: 0, live, paused: false, state } });
  };
  let n = 0;
  const sink: FrameSink = {
    frame(buf, offset, capLen, origLen, tsSec, tsNsec, linkType) {
      engine.frame(buf, offset, capLen, origLen, tsSec, tsNsec, linkType);
      if (++n % every === 0) update('running');
    },
  };
  const read = await readCaptureFile(capture, sink);
  engine.finish();
  update('ended');
  const kind = opts.kind ?? 'file';
  const info: SessionInfo = {
    kind,
    name: capture,
    backend: null,
    filter: null,
    totalBytes: null,
    speed: null,
    workers: 0,
    rules: spec === null ? [] : ruleSet.rules.map(ruleInfoOf),
    products: opts.products ?? null,
    startedAt: 1_700_000_000_000,
  };
  const summary = buildSummary({
    kind: kind === 'proxy' ? 'live' : kind,
    name: capture,
    read,
    error: null,
    totals: engine.totals(),
    services: engine.services.list(),
    options: { maxFlows, idleTimeout: opts.idleTimeout ?? 120, activeTimeout: opts.activeTimeout ?? 0, workers: 0 },
    interrupted: false,
  });
  return { info, events, end: { summary, topFlows: [], violations: [], exitCode: 0, opened: true }, flows };
}

export const NO_CONTROL: SessionControl = { setPaused: () => {}, stop: () => {} };

/** Plays the recorded session on `consumer`, as the session does. */
export async function drive(consumer: SessionConsumer, data: SessionData): Promise<void> {
  consumer.start?.(data.info, NO_CONTROL);
  for (const e of data.events) {
    if ('flow' in e) {
      consumer.flow?.(e.flow);
      // A record is a tally too: the counters read the same fields either way.
      consumer.tally?.(e.flow);
    } else consumer.update?.(e.update);
  }
  await consumer.finish?.(data.end);
}
