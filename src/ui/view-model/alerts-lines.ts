/** The alerts view as lines: kind in words, service, client -> server, count, first/last seen, why. */
import type { AlertItem, AlertsModel } from './alerts.js';
import { formatClock, formatCount } from './format.js';
import { line, padLine, span, type Line } from './lines.js';
import { windowStart } from './services-lines.js';
import { headerSpans, layoutColumns, rowSpans, type Column, type ColumnSpec } from './table.js';

type ColId = 'kind' | 'service' | 'client' | 'server' | 'count' | 'first' | 'last' | 'detail';

export function alertColumns(width: number): Column<ColId>[] {
  const c = (id: ColId, title: string, w: number, align: 'left' | 'right', extra: { max?: number; drop?: number } = {}): ColumnSpec<ColId> => ({ id, title, width: w, align, ...extra });
  return layoutColumns(width, [
    c('kind', 'ALERT', 10, 'left'),
    c('service', 'SERVICE', 18, 'left', { max: width >= 110 ? 34 : width >= 96 ? 26 : 22 }),
    c('client', 'CLIENT', 15, 'left', { max: width >= 110 ? 39 : 17 }),
    ...(width >= 110 ? [c('server', 'SERVER', 21, 'left')] : []),
    c('count', 'FLOWS', 5, 'right'),
    ...(width >= 110 ? [c('first', 'FIRST', 8, 'left')] : []),
    c('last', 'LAST', 8, 'left', { drop: 2 }),
    c('detail', 'WHY', 12, 'left', { max: 200, drop: 1 }),
  ]);
}

export function alertsScreen(model: AlertsModel, opts: { width: number; height: number; selected: string | null }): { header: Line; body: Line[]; totalLines: number; firstLine: number } {
  const { width } = opts;
  const cols = alertColumns(width);
  const header = padLine({ spans: headerSpans(cols, {}) }, width);
  const all: Array<{ key: string | null; line: Line }> = [];
  const row = (a: AlertItem): Line => {
    const selected = a.id === opts.selected;
    const cells: Partial<Record<ColId, string>> = {
      kind: a.label,
      service: a.service,
      client: a.client,
      server: a.server,
      count: formatCount(a.count),
      first: formatClock(a.firstSec),
      last: formatClock(a.lastSec),
      detail: a.detail,
    };
    return { ...padLine({ spans: rowSpans(cols, cells, { kind: 'alert' }, selected ? '> ' : '  ') }, width), selected };
  };
  for (const a of model.items) all.push({ key: a.id, line: row(a) });
  if (model.items.length === 0) {
    const why = model.total > 0 ? `no alert matches the filter (${model.total} listed)` : 'no alerts: no payload mismatch and no exposure violation so far';
    all.push({ key: null, line: padLine(line(span(`  ${why}`, 'dim')), width) });
  }
  const height = Math.max(0, opts.height);
  const selIndex = all.findIndex((b) => b.key !== null && b.key === opts.selected);
  const first = windowStart(selIndex, all.length, height);
  return { header, body: all.slice(first, first + height).map((b) => b.line), totalLines: all.length, firstLine: first };
}
