/**
 * Alerts (`--alerts PATH|-`, `--fail-on`): NDJSON events about flows an operator should look at,
 * de-duplicated per (kind, service, client address), as a SessionConsumer.
 *
 * Kinds (docs/alerts.md):
 *  - exposure-violation: the client is not where the vendor document (or --policy) says clients of
 *    that port come from;
 *  - mismatch: another protocol than the documented one was positively recognised;
 *  - undocumented-port: a protocol that identifies a documented product (RESP, Envoy xDS, the Zeebe
 *    gateway or broker protocols, ...) was recognised on a port no rule documents, e.g. RESP on
 *    7000. Generic protocols (TLS, HTTP, gRPC, DNS, metrics scrapes) prove nothing and never raise it.
 *    Its key also holds the server port and the protocol.
 *
 * Lines: the first flow of a key writes a line at once (`"new": true`); later flows of the key
 * update its count and last time, written at most once per `repeatSec` per key (capture time for
 * files, wall time for live captures) and, for whatever is left, at the end. Each line carries the
 * totals so far, so the latest line of a key is its state. At most `maxKeys` keys are held; the
 * least recently raised one is written and forgotten to make room (counted in `forgotten`).
 */
import type { ClassifiedFlow, AlertKind, AlertRow, Endpoint } from '../pipeline/results.js';
import { parseTimestamp } from '../util/time.js';
import { GENERIC_PROTOCOL_TAGS } from '../util/protocol-tags.js';
import type { RuleInfo, SessionConsumer, SessionEnd, SessionInfo, SessionUpdate } from './consumer.js';

export interface AlertLine {
  kind: AlertKind;
  service: string;
  product: string | null;
  client: string;
  server: Endpoint;
  transport: string;
  count: number;
  first: string;
  last: string;
  /** Ids of the latest flows that raised it, newest first (at most 5). */
  flowIds: number[];
  detail: string;
  /** undocumented-port: the protocol recognised and the rules that document it. */
  protocol?: string;
  documentedBy?: string[];
  /** True on the first line of a key. */
  new: boolean;
}

interface AlertState {
  line: AlertLine;
  firstSec: number;
  lastSec: number;
  /** Count written in the latest line of this key. */
  reported: number;
  /** Clock (seconds) of the latest line of this key. */
  reportedAt: number;
}

export interface AlertsOptions {
  /** Receives each NDJSON line (without the newline). Omit to only count (for --fail-on). */
  write?: (line: string) => void;
  /** Called at every session update and at the end: the writer's flush. */
  flush?: () => void;
  repeatSec?: number;
  maxKeys?: number;
  /** Wall clock in ms (tests). */
  now?: () => number;
}

export const DEFAULT_ALERT_REPEAT_SEC = 60;
export const DEFAULT_ALERT_KEYS = 10_000;
const FLOW_IDS = 5;

export class AlertsConsumer implements SessionConsumer {
  readonly updateNeeds = 'totals';
  /** Flows that raised each kind (a flow can raise several kinds). */
  readonly flowsByKind: Record<AlertKind, number> = { 'exposure-violation': 0, mismatch: 0, 'undocumented-port': 0 };
  /** Keys forgotten to stay within maxKeys (their last line was written first). */
  forgotten = 0;
  linesWritten = 0;
  private readonly keys = new Map<string, AlertState>();
  private readonly repeatSec: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private live = false;
  /** Capture clock for files: the latest flow end time seen. */
  private captureClock = -Infinity;
  private rules = new Map<string, RuleInfo>();
  /** Distinctive protocol tag -> ids of the selected rules that document it. */
  private documented = new Map<string, string[]>();

  constructor(private readonly opts: AlertsOptions = {}) {
    this.repeatSec = opts.repeatSec ?? DEFAULT_ALERT_REPEAT_SEC;
    this.maxKeys = opts.maxKeys ?? DEFAULT_ALERT_KEYS;
    this.now = opts.now ?? Date.now;
  }

  start(info: SessionInfo): void {
    this.live = info.kind === 'live' || info.kind === 'proxy';
    const products = info.products;
    const selected = info.rules.filter((r) => products === null || products.includes(r.product));
    this.rules = new Map(info.rules.map((r) => [r.id, r]));
    this.documented = new Map();
    for (const r of selected) {
      for (const tag of r.protocols) {
        if (GENERIC_PROTOCOL_TAGS.has(tag)) continue;
        this.documented.set(tag, [...(this.documented.get(tag) ?? []), r.id]);
      }
    }
  }

  /** The alerts one flow raises (pure: also used by tests and the dashboard's detail). */
  alertsOf(f: ClassifiedFlow): Array<{ kind: AlertKind; key: string; service: string; detail: string; protocol?: string; documentedBy?: string[] }> {
    const out: Array<{ kind: AlertKind; key: string; service: string; detail: string; protocol?: string; documentedBy?: string[] }> = [];
    if (f.verdict === undefined) return out;
    const service = serviceKeyOf(f);
    const client = f.client.ip;
    if (f.exposure?.status === 'violation') {
      out.push({ kind: 'exposure-violation', key: `exposure-violation\u0000${service}\u0000${client}`, service, detail: exposureDetail(f) });
    }
    if (f.verdict === 'mismatch') {
      out.push({ kind: 'mismatch', key: `mismatch\u0000${service}\u0000${client}`, service, detail: this.mismatchDetail(f) });
    }
    if (f.verdict === 'unknown' && f.candidates?.length === 0) {
      const tags = (f.evidence?.['tags'] ?? '').split(',').filter((t) => t !== '');
      // The most specific distinctive tag (recognisers list tags general to specific).
      const tag = [...tags].reverse().find((t) => this.documented.has(t));
      if (tag !== undefined) {
        const documentedBy = this.documented.get(tag)!;
        const port = `${f.transport}/${f.server.port}`;
        out.push({
          kind: 'undocumented-port',
          key: `undocumented-port\u0000${service}\u0000${client}\u0000${port}\u0000${tag}`,
          service,
          protocol: tag,
          documentedBy,
          detail: `${tag} on ${port}, a port no rule documents; ${tag} is documented for ${documentedBy.join(', ')}`,
        });
      }
    }
    return out;
  }

  private mismatchDetail(f: ClassifiedFlow): string {
    const protocol = f.evidence?.['protocol'] ?? 'another protocol';
    const documented = new Set<string>();
    for (const c of f.candidates ?? []) for (const p of this.rules.get(c.id)?.protocols ?? []) documented.add(p);
    return documented.size > 0
      ? `${protocol} on ${f.transport}/${f.server.port}, documented as ${[...documented].join(', ')}`
      : `${protocol} on ${f.transport}/${f.server.port}, where the document names another protocol`;
  }

  flow(f: ClassifiedFlow): void {
    const alerts = this.alertsOf(f);
    if (alerts.length === 0) return;
    const first = parseTimestamp(f.first);
    const last = parseTimestamp(f.last);
    const firstSec = first === null ? 0 : first.sec + first.nsec / 1e9;
    const lastSec = last === null ? firstSec : last.sec + last.nsec / 1e9;
    if (lastSec > this.captureClock) this.captureClock = lastSec;
    const clock = this.clock();
    for (const a of alerts) {
      this.flowsByKind[a.kind]++;
      let st = this.keys.get(a.key);
      if (st === undefined) {
        if (this.keys.size >= this.maxKeys) this.forgetOldest();
        st = {
          line: {
            kind: a.kind,
            service: a.service,
            product: f.service?.product ?? null,
            client: f.client.ip,
            server: { ...f.server },
            transport: f.transport,
            count: 1,
            first: f.first,
            last: f.last,
            flowIds: [f.id],
            detail: a.detail,
            ...(a.protocol !== undefined ? { protocol: a.protocol, documentedBy: a.documentedBy! } : {}),
            new: true,
          },
          firstSec,
          lastSec,
          reported: 0,
          reportedAt: clock,
        };
        this.keys.set(a.key, st);
        this.report(st, clock);
        continue;
      }
      // Most recently raised keys last (the Map's order): the first one is the one to forget.
      this.keys.delete(a.key);
      this.keys.set(a.key, st);
      const l = st.line;
      l.count++;
      if (firstSec < st.firstSec) {
        st.firstSec = firstSec;
        l.first = f.first;
      }
      if (lastSec >= st.lastSec) {
        st.lastSec = lastSec;
        l.last = f.last;
        l.server = { ...f.server };
        l.detail = a.detail;
      }
      l.flowIds = [f.id, ...l.flowIds.filter((id) => id !== f.id)].slice(0, FLOW_IDS);
      if (clock - st.reportedAt >= this.repeatSec) this.report(st, clock);
    }
  }

  private clock(): number {
    return this.live ? this.now() / 1000 : this.captureClock;
  }

  private report(st: AlertState, clock: number): void {
    st.line.new = st.reported === 0;
    st.reported = st.line.count;
    st.reportedAt = clock;
    this.linesWritten++;
    this.opts.write?.(JSON.stringify(st.line));
  }

  private forgetOldest(): void {
    const [key, st] = this.keys.entries().next().value as [string, AlertState];
    if (st.line.count > st.reported) this.report(st, this.clock());
    this.keys.delete(key);
    this.forgotten++;
  }

  /** Writes every key with flows not yet in a line, when due (or all of them with `all`). */
  private reportDue(all: boolean): void {
    const clock = this.clock();
    for (const st of this.keys.values()) {
      if (st.line.count > st.reported && (all || clock - st.reportedAt >= this.repeatSec)) this.report(st, clock);
    }
  }

  update(_u: SessionUpdate): void {
    // Files: lines depend only on the flows (capture time), so every run writes the same lines.
    if (this.live) this.reportDue(false);
    this.opts.flush?.();
  }

  finish(_end: SessionEnd): void {
    this.reportDue(true);
    this.opts.flush?.();
  }

  /** The current alerts as the dashboard lists them (newest first). */
  rows(limit = 50): AlertRow[] {
    const list = [...this.keys.values()].sort((a, b) => b.lastSec - a.lastSec).slice(0, limit);
    return list.map((st) => ({
      kind: st.line.kind,
      serviceKey: st.line.service,
      client: st.line.client,
      server: st.line.server,
      count: st.line.count,
      firstSec: st.firstSec,
      lastSec: st.lastSec,
      flowIds: st.line.flowIds,
      detail: st.line.detail,
    }));
  }

  /** Whether any flow raised one of `kinds` (for --fail-on). */
  raised(kinds: readonly AlertKind[]): boolean {
    return kinds.some((k) => this.flowsByKind[k] > 0);
  }
}

function serviceKeyOf(f: ClassifiedFlow): string {
  if (f.service) return f.service.id;
  if (f.ambiguous && f.candidates && f.candidates.length > 0) return `ambiguous:${f.candidates.map((c) => c.id).join('|')}`;
  return 'unknown';
}

function exposureDetail(f: ClassifiedFlow): string {
  const e = f.exposure!;
  const p = e.policy;
  if (p !== undefined && p.entry !== null) {
    const where = p.clientNetworks.length > 0 ? `in ${p.clientNetworks.join(', ')}` : 'in none of the policy networks';
    return `${e.client} client ${where}; --policy allows ${p.from!.join(', ')} (${p.entry})`;
  }
  const who = e.monitoringHost === false && e.allowed.includes('monitoring-only') ? `${e.client} client, not a monitoring host,` : `${e.client} client`;
  return `${who} on a port documented as ${e.allowed.join(', ')}`;
}
