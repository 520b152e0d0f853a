/**
 * Flow lists as lines (the flows view, and the flows of a service or an alert): live flows first,
 * then the recently ended ones under their own heading, so "ended" never depends on colour.
 */
import { formatAge, formatBytes, formatCount, formatRate, formatRtt, type RateUnit } from './format.js';
import type { FlowItem, FlowsModel } from './flows.js';
import { line, padLine, span, type Line, type Tone } from './lines.js';
import { windowStart } from './services-lines.js';
import { sortMarker, type SortOrder } from './sort.js';
import { fitMiddle } from './text.js';
import { headerSpans, layoutColumns, rowSpans, type Column, type ColumnSpec } from './table.js';

type ColId = 'endpoints' | 'service' | 'verdict' | 'state' | 'packets' | 'bytes' | 'up' | 'down' | 'rate' | 'rtt' | 'age' | 'via' | 'evidence';

/**
 * `tunnelled`: some listed flow came through a tunnel, so a VIA column shows its stack (at 80
 * columns instead of AGE). `relayed`: connections of portsniff proxy, which has no TCP state,
 * packet counts or handshake RTT to show.
 */
export function flowColumns(width: number, showService = true, tunnelled = false, relayed = false): Column<ColId>[] {
  const c = (id: ColId, title: string, w: number, align: 'left' | 'right', extra: { max?: number; drop?: number } = {}): ColumnSpec<ColId> => ({ id, title, width: w, align, ...extra });
  const wide = width >= 110;
  const specs: ColumnSpec<ColId>[] = [c('endpoints', 'CLIENT → SERVER', 26, 'left', { max: wide ? 36 : 30 })];
  if (showService) specs.push(c('service', 'SERVICE', 12, 'left', { max: wide ? 26 : 16, drop: 2 }));
  specs.push(c('verdict', 'VERDICT', 10, 'left', { drop: 1 }));
  if (wide && !relayed) specs.push(c('state', 'STATE', 5, 'left'), c('packets', 'PKTS ↑/↓', 11, 'right'));
  if (wide) specs.push(c('up', 'BYTES ↑', 8, 'right'), c('down', 'BYTES ↓', 8, 'right'));
  else specs.push(c('bytes', 'BYTES', 8, 'right', { drop: 3 }));
  specs.push(c('rate', 'RATE', 9, 'right'));
  if (wide && !relayed) specs.push(c('rtt', 'RTT', 7, 'right'));
  specs.push(c('age', 'AGE', 4, 'right', { drop: 4 }));
  if (tunnelled) specs.push(c('via', 'VIA', 8, 'left', { max: wide ? 24 : 16, drop: 3.5 }));
  if (wide) specs.push(c('evidence', 'EVIDENCE', 10, 'left', { max: 200 }));
  return layoutColumns(width, specs);
}

/** "10.0.0.5:51234 → 10.0.1.2:6379", each side cut in the middle if it has to be. */
export function endpointsText(f: FlowItem, width: number): string {
  const full = `${f.client} → ${f.server}`;
  if (full.length <= width) return full;
  // The client's (ephemeral) port is the least telling part: it goes first.
  const clientIp = f.raw.client.ip.includes(':') ? `[${f.raw.client.ip}]` : f.raw.client.ip;
  const short = `${clientIp} → ${f.server}`;
  if (short.length <= width) return short;
  const side = Math.max(1, Math.floor((width - 3) / 2));
  return `${fitMiddle(clientIp, side).trimEnd()} → ${fitMiddle(f.server, width - 3 - side).trimEnd()}`;
}

function verdictTone(v: string): Tone {
  return v === 'mismatch' ? 'alert' : v === 'verified' ? 'ok' : 'normal';
}

export interface FlowsScreen {
  header: Line;
  body: Line[];
  totalLines: number;
  firstLine: number;
}

export function flowsScreen(
  model: FlowsModel,
  opts: { width: number; height: number; sort: SortOrder; unit: RateUnit; selected: string | null; showService?: boolean; empty?: string },
): FlowsScreen {
  const { width, unit } = opts;
  const cols = flowColumns(width, opts.showService ?? true, model.tunnelled, model.relayed);
  const marker: Partial<Record<ColId, string>> = {
    service: sortMarker(opts.sort, 'name'),
    bytes: sortMarker(opts.sort, 'bytes'),
    up: sortMarker(opts.sort, 'bytes'),
    rate: sortMarker(opts.sort, 'rate'),
    packets: sortMarker(opts.sort, 'flows'),
  };
  const header = padLine({ spans: headerSpans(cols, marker) }, width);
  const endpointsWidth = cols.find((c) => c.id === 'endpoints')!.width;
  const all: Array<{ key: string | null; line: Line }> = [];
  const rowLine = (f: FlowItem): Line => {
    const selected = String(f.id) === opts.selected;
    const cells: Partial<Record<ColId, string>> = {
      endpoints: endpointsText(f, endpointsWidth),
      service: f.service,
      verdict: f.verdict === 'mismatch' ? '✗mismatch' : f.verdict === 'verified' ? '✓verified' : f.verdict,
      state: f.state,
      packets: f.packetsUp === null || f.packetsDown === null ? '-' : `${formatCount(f.packetsUp).trim()}/${formatCount(f.packetsDown).trim()}`,
      bytes: formatBytes(f.bytesUp + f.bytesDown),
      up: formatBytes(f.bytesUp),
      down: formatBytes(f.bytesDown),
      rate: f.live ? formatRate(f.bytesPerSec, unit) : 'ended',
      rtt: formatRtt(f.rttMs),
      age: f.live ? formatAge(f.ageSec) : formatAge(f.idleSec),
      evidence: f.evidence,
      via: f.tunnel,
    };
    const tones: Partial<Record<ColId, Tone>> = { verdict: verdictTone(f.verdict) };
    if (f.exposure === 'violation') {
      cells.verdict = `!${cells.verdict}`;
      tones.verdict = 'alert';
    }
    return { ...padLine({ spans: rowSpans(cols, cells, tones, selected ? '> ' : '  ') }, width), selected };
  };
  if (model.live.length > 0 || model.ended.length === 0) {
    all.push({ key: null, line: padLine(line(span(`live flows (${model.live.length})`, 'group')), width) });
  }
  for (const f of model.live) all.push({ key: String(f.id), line: rowLine(f) });
  if (model.ended.length > 0) {
    const since = model.relayed ? 'since it closed' : 'since the last packet';
    all.push({ key: null, line: padLine(line(span(`recently ended (${model.ended.length}; AGE = ${since})`, 'group')), width) });
    for (const f of model.ended) all.push({ key: String(f.id), line: rowLine(f) });
  }
  if (model.shown === 0) {
    const why = model.total > 0 ? `no flow matches the filter (${model.total} listed)` : (opts.empty ?? 'no flows listed yet');
    all.push({ key: null, line: padLine(line(span(`  ${why}`, 'dim')), width) });
  }
  const height = Math.max(0, opts.height);
  const selIndex = all.findIndex((b) => b.key !== null && b.key === opts.selected);
  const first = windowStart(selIndex, all.length, height);
  return { header, body: all.slice(first, first + height).map((b) => b.line), totalLines: all.length, firstLine: first };
}
