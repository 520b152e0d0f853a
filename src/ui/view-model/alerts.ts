/**
 * The alerts view: payload mismatches and exposure violations, de-duplicated per (kind, service,
 * client) by the engine, newest first. Each alert leads to its flows (AlertRow.flowIds).
 */
import type { SessionInfo } from '../../export/consumer.js';
import type { AlertRow } from '../../pipeline/results.js';
import { matchesFilter, portsOf, type Filter } from './filter.js';
import type { Frame } from './frame.js';
import { candidatesOf, keyKind, productOfId, ruleIndex } from './rules.js';
import { serviceLabel } from './flows.js';

export interface AlertItem {
  /** Stable id: kind|serviceKey|client. */
  id: string;
  kind: AlertRow['kind'];
  /** "MISMATCH" / "EXPOSURE" / "UNDOC-PORT": the kind in words, so nothing depends on colour. */
  label: string;
  service: string;
  client: string;
  server: string;
  count: number;
  firstSec: number;
  lastSec: number;
  detail: string;
  flowIds: number[];
  raw: AlertRow;
}

export interface AlertsModel {
  items: AlertItem[];
  order: string[];
  shown: number;
  total: number;
}

export function alertId(a: AlertRow): string {
  return `${a.kind}|${a.serviceKey}|${a.client}`;
}

const LABELS: Readonly<Record<AlertRow['kind'], string>> = { mismatch: 'MISMATCH', 'exposure-violation': 'EXPOSURE', 'undocumented-port': 'UNDOC-PORT' };

export function buildAlerts(info: SessionInfo | null, frame: Frame | null, filter: Filter): AlertsModel {
  const idx = ruleIndex(info);
  const all = frame?.update.snapshot.detail?.alerts ?? [];
  const flows = frame?.update.snapshot.detail?.flows ?? [];
  const items: AlertItem[] = [];
  for (const a of all) {
    const kind = keyKind(a.serviceKey);
    const ids = kind === 'ambiguous' ? candidatesOf(a.serviceKey) : kind === 'rule' ? [a.serviceKey] : [];
    const server = a.server.ip.includes(':') ? `[${a.server.ip}]:${a.server.port}` : `${a.server.ip}:${a.server.port}`;
    const item: AlertItem = {
      id: alertId(a),
      kind: a.kind,
      label: LABELS[a.kind] ?? String(a.kind).toUpperCase(),
      service: serviceLabel(a.serviceKey),
      client: a.client,
      server,
      count: a.count,
      firstSec: a.firstSec,
      lastSec: a.lastSec,
      detail: a.detail,
      flowIds: a.flowIds,
      raw: a,
    };
    if (filter.terms.length > 0) {
      const subject = {
        products: ids.length > 0 ? ids.map((id) => productOfId(id, idx)) : [kind],
        services: [a.serviceKey],
        ports: portsOf(a.server.port),
        clients: [a.client],
        servers: [a.server.ip],
        sni: [],
        // Known through the alert's flows that the snapshot still lists.
        tunnels: flows.filter((f) => a.flowIds.includes(f.id)).flatMap((f) => f.tunnel ?? []),
        text: [item.label, item.kind, a.detail, server],
      };
      if (!matchesFilter(filter, subject)) continue;
    }
    items.push(item);
  }
  items.sort((a, b) => b.lastSec - a.lastSec || b.count - a.count || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { items, order: items.map((x) => x.id), shown: items.length, total: all.length };
}
