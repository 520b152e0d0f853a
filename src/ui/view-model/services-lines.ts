/**
 * The services view as lines: product group headers, one row per service, the candidates and
 * resolution hint under an ambiguous row, the busiest ports under the unknown row. A window of the
 * body follows the selected row.
 */
import { formatBytes, formatCount, formatRate, type RateUnit } from './format.js';
import { sparkline } from './history.js';
import { line, padLine, span, type Line, type Tone } from './lines.js';
import type { ServiceRow, ServicesModel } from './services.js';
import { sortMarker, type SortOrder } from './sort.js';
import { layoutColumns, headerSpans, rowSpans, type Column, type ColumnSpec } from './table.js';

type ColId = 'name' | 'port' | 'flows' | 'packets' | 'bytes' | 'rate' | 'spark' | 'via' | 'checks' | 'verified' | 'mismatch' | 'encrypted' | 'portonly' | 'violations';

/**
 * Columns for a terminal `width` cells wide: more detail as it grows. `tunnelled`: some service's
 * flows came through an encapsulation, so a VIA column names it ("vxlan:1"); at 80 columns it takes
 * the sparkline's place.
 */
export function serviceColumns(width: number, tunnelled = false, relayed = false): Column<ColId>[] {
  const c = (id: ColId, title: string, w: number, align: 'left' | 'right', extra: { max?: number; drop?: number } = {}): ColumnSpec<ColId> => ({ id, title, width: w, align, ...extra });
  if (width >= 150) {
    return layoutColumns(width, [
      c('name', 'SERVICE', 26, 'left', { max: 44 }),
      c('port', 'PORT', 16, 'left'),
      c('flows', 'LIVE/ALL', 11, 'right'),
      ...(relayed ? [] : [c('packets', 'PKTS', 5, 'right')]),
      c('bytes', 'BYTES', 8, 'right'),
      c('rate', 'RATE', 9, 'right'),
      c('verified', 'VERIFIED', 8, 'right'),
      c('mismatch', 'MISMATCH', 8, 'right'),
      c('encrypted', 'ENCRYPT', 7, 'right'),
      c('portonly', 'PORTONLY', 8, 'right'),
      c('violations', 'EXPOSURE!', 9, 'right'),
      ...(tunnelled ? [c('via', 'VIA', 10, 'left', { max: 24 })] : []),
      c('spark', 'LAST 60S', tunnelled ? 10 : 20, 'left', { max: 60 }),
    ]);
  }
  return layoutColumns(width, [
    c('name', 'SERVICE', 14, 'left', { max: width >= 100 ? 30 : 18 }),
    c('port', 'PORT', 11, 'left', { max: 13, drop: 3 }),
    c('flows', 'LIVE/ALL', 9, 'right'),
    ...(width >= 110 && !relayed ? [c('packets', 'PKTS', 5, 'right')] : []),
    c('bytes', 'BYTES', 8, 'right', { drop: 2 }),
    c('rate', 'RATE', 9, 'right'),
    c('spark', width >= 100 ? 'LAST 60S' : '60s', 6, 'left', { max: width >= 130 ? 20 : width >= 100 ? 12 : 6, drop: 4 }),
    ...(tunnelled ? [c('via', 'VIA', 9, 'left', { max: 18, drop: 3.5 })] : []),
    c('checks', 'CHECKS', 11, 'left', { max: 200, drop: 1 }),
  ]);
}

/** "✗1 !2 ✓12 e3 ~5": alarms first; "-" when there is nothing to report. */
export function checksText(r: ServiceRow): string {
  const parts: string[] = [];
  if (r.verdicts.mismatch > 0) parts.push(`✗${formatCount(r.verdicts.mismatch).trim()}`);
  if (r.violations > 0) parts.push(`!${formatCount(r.violations).trim()}`);
  if (r.verdicts.verified > 0) parts.push(`✓${formatCount(r.verdicts.verified).trim()}`);
  if (r.verdicts.encrypted > 0) parts.push(`e${formatCount(r.verdicts.encrypted).trim()}`);
  if (r.verdicts['port-only'] > 0) parts.push(`~${formatCount(r.verdicts['port-only']).trim()}`);
  return parts.length === 0 ? '-' : parts.join(' ');
}

/** Port text: "tcp/" is implied (most rules); other transports keep their prefix. */
function shortPort(p: string): string {
  return p.startsWith('tcp/') ? p.slice(4) : p;
}

function flowsText(live: number, total: number): string {
  return `${formatCount(live).trim()}/${formatCount(total).trim()}`;
}

/** A group line's title spans the name and port columns (and the row prefix). */
function groupColumns(cols: Column<ColId>[]): Column<ColId>[] {
  const port = cols.find((c) => c.id === 'port');
  const name = cols[0]!;
  const merged = { ...name, width: name.width + 2 + (port === undefined ? 0 : port.width + 1) };
  return [merged, ...cols.slice(1).filter((c) => c.id !== 'port')];
}

export interface ServicesScreen {
  header: Line;
  body: Line[];
  /** Lines of the whole list, and the window shown. */
  totalLines: number;
  firstLine: number;
}

interface BodyLine {
  line: Line;
  /** The row this line starts (selectable), or null. */
  key: string | null;
}

export function servicesScreen(model: ServicesModel, opts: { width: number; height: number; sort: SortOrder; unit: RateUnit; selected: string | null }): ServicesScreen {
  const { width, unit } = opts;
  const cols = serviceColumns(width, model.tunnelled, model.relayed);
  const marker: Partial<Record<ColId, string>> = {
    name: sortMarker(opts.sort, 'name'),
    bytes: sortMarker(opts.sort, 'bytes'),
    rate: sortMarker(opts.sort, 'rate'),
    flows: sortMarker(opts.sort, 'flows'),
  };
  const header = padLine({ spans: headerSpans(cols, marker) }, width);
  const sparkCol = cols.find((c) => c.id === 'spark');
  const indent = ' '.repeat(4);

  const rowLine = (r: ServiceRow): Line => {
    const selected = r.key === opts.selected;
    const alarm = r.verdicts.mismatch > 0 || r.violations > 0;
    const cells: Partial<Record<ColId, string>> = {
      name: r.kind === 'ambiguous' && !cols.some((c) => c.id === 'port') ? `${shortPort(r.port) || '?'} ${r.name}` : r.name,
      port: shortPort(r.port),
      flows: flowsText(r.liveFlows, r.flows),
      packets: formatCount(r.packets),
      bytes: formatBytes(r.bytes),
      rate: formatRate(r.bytesPerSec, unit),
      spark: sparkCol === undefined ? '' : sparkline(r.series, sparkCol.width),
      checks: checksText(r),
      via: r.via,
      verified: formatCount(r.verdicts.verified),
      mismatch: formatCount(r.verdicts.mismatch),
      encrypted: formatCount(r.verdicts.encrypted),
      portonly: formatCount(r.verdicts['port-only']),
      violations: formatCount(r.violations),
    };
    const tones: Partial<Record<ColId, Tone>> = alarm ? { checks: 'alert', mismatch: r.verdicts.mismatch > 0 ? 'alert' : 'normal', violations: r.violations > 0 ? 'alert' : 'normal' } : {};
    if (sparkCol !== undefined) tones.spark = 'ok';
    if (r.kind === 'unknown' || r.kind === 'unclassified') tones.name = 'warn';
    return { ...padLine({ spans: rowSpans(cols, cells, tones, selected ? '> ' : '  ') }, width), selected };
  };

  // Everything but unknown traffic scrolls; the unknown row sits below the window, always in view.
  const scroll: BodyLine[] = [];
  const sticky: BodyLine[] = [];
  for (const g of model.groups) {
    if (g.kind === 'unknown' || g.kind === 'unclassified') {
      for (const r of g.rows) {
        sticky.push({ key: r.key, line: rowLine(r) });
        if (r.kind === 'unknown') {
          const ports = r.unknownPorts.map((p) => `${p.transport}/${p.port}${p.protocols.length > 0 ? ` ${p.protocols.join(',')}` : ''} ${formatBytes(p.bytes).trim()}`);
          sticky.push({ key: null, line: padLine(line(span(`${indent}busiest: ${ports.length === 0 ? 'no port list in this snapshot' : ports.join(' · ')}`, 'dim')), width) });
        }
      }
      continue;
    }
    const title = g.kind === 'product' ? `${g.title} (${g.rows.length})` : g.title;
    const groupCells: Partial<Record<ColId, string>> = {
      name: title,
      flows: flowsText(g.liveFlows, g.flows),
      bytes: formatBytes(g.bytes),
      rate: formatRate(g.bytesPerSec, unit),
    };
    scroll.push({ key: null, line: padLine({ spans: rowSpans(groupColumns(cols), groupCells, {}, '').map((x) => ({ ...x, tone: 'group' as Tone })) }, width) });
    for (const r of g.rows) {
      scroll.push({ key: r.key, line: rowLine(r) });
      if (r.kind === 'ambiguous') {
        scroll.push({ key: null, line: padLine(line(span(`${indent}candidates: ${r.candidates.join(' | ')}`, 'dim')), width) });
        if (r.hint !== '') scroll.push({ key: null, line: padLine(line(span(`${indent}resolve: ${r.hint}`, 'dim')), width) });
      }
    }
  }
  const height = Math.max(0, opts.height);
  const stickyShown = sticky.slice(0, Math.max(0, Math.min(sticky.length, height - 2)));
  const scrollHeight = height - stickyShown.length;
  const selIndex = scroll.findIndex((b) => b.key !== null && b.key === opts.selected);
  const first = windowStart(selIndex, scroll.length, scrollHeight);
  const window = scroll.slice(first, first + scrollHeight).map((b) => b.line);
  // Blank lines keep the unknown row at the bottom of the table area.
  while (window.length < scrollHeight && stickyShown.length > 0) window.push(padLine(line(span('')), width));
  return { header, body: [...window, ...stickyShown.map((b) => b.line)], totalLines: scroll.length + sticky.length, firstLine: first };
}

/** The first line of a window of `height` lines that keeps line `sel` visible, two lines from the bottom edge when scrolling. */
export function windowStart(sel: number, total: number, height: number): number {
  if (height <= 0 || total <= height || sel < 0) return 0;
  const margin = Math.min(2, Math.floor((height - 1) / 2));
  const start = sel - (height - 1 - margin);
  return Math.max(0, Math.min(total - height, start));
}
