/**
 * Drill-down pages: a service (its rule, as `portsniff rules explain` prints it, and its numbers),
 * an alert, and a single flow. Each returns an information block; the caller lists the flows
 * underneath in the height that is left.
 */
import type { RuleInfo, SessionInfo } from '../../export/consumer.js';
import type { AlertItem } from './alerts.js';
import type { UnknownPortItem } from './coverage.js';
import { payloadText } from './coverage-lines.js';
import { formatBytes, formatClock, formatCount, formatRate, formatRtt, type RateUnit } from './format.js';
import type { FlowItem } from './flows.js';
import { line, padLine, span, type Line, type Span } from './lines.js';
import { ruleIndex } from './rules.js';
import type { ServiceRow } from './services.js';
import { safeText, wrap } from './text.js';
import { stackDetail, tunnelLabel } from './tunnels.js';

const LABEL = 10;

function field(label: string, value: string, width: number, maxLines = 1, tone: Span['tone'] = 'normal'): Line[] {
  const lines = wrap(value === '' ? '-' : value, Math.max(10, width - LABEL - 2), maxLines);
  // A label never runs into its value: longer ones (evidence field names) are cut, with a space kept.
  const name = safeText(label);
  const cell = name.length < LABEL ? name.padEnd(LABEL) : `${name.slice(0, LABEL - 2)}… `;
  return lines.map((l, i) => padLine(line(span(i === 0 ? `  ${cell}` : ' '.repeat(LABEL + 2), 'dim'), span(l, tone)), width));
}

function ruleLines(r: RuleInfo, width: number, compact: boolean): Line[] {
  const out: Line[] = [];
  out.push(...field('rule', `${r.id} · ${r.product} · ${r.component} · ${r.ports === '' ? r.transport : `${r.transport}/${r.ports}`}`, width));
  out.push(...field('purpose', r.purpose, width, compact ? 1 : 2));
  out.push(...field('exposure', `documented: ${r.exposure.length === 0 ? 'not stated' : r.exposure.join(', ')}`, width));
  out.push(...field('protocols', `${r.protocols.length === 0 ? 'none documented' : r.protocols.join(', ')} · tls ${r.tls}`, width));
  out.push(...field('source', `${r.sourceDoc}: ${r.cite}`, width, compact ? 1 : 3));
  return out;
}

function title(spans: Span[], width: number): Line {
  return padLine({ spans }, width);
}

/** The information block of a service drill-down (`row` null: the service is not in this snapshot). */
export function serviceDetailLines(info: SessionInfo | null, key: string, row: ServiceRow | null, opts: { width: number; height: number; unit: RateUnit }): Line[] {
  const { width, unit } = opts;
  const idx = ruleIndex(info);
  const compact = opts.height < 30;
  const out: Line[] = [];
  const kind = row?.kind ?? (key.startsWith('ambiguous:') ? 'ambiguous' : key === 'unknown' ? 'unknown' : key === 'unclassified' ? 'unclassified' : 'rule');
  if (kind === 'rule') {
    const r = idx.byId.get(key);
    out.push(title([span(safeText(r?.product ?? row?.group ?? ''), 'title'), span(' › '), span(safeText(r?.component ?? row?.name ?? key), 'title'), span(`  (${key})`, 'dim')], width));
    if (r !== undefined) out.push(...ruleLines(r, width, compact));
    else out.push(...field('rule', `${key}: not among the loaded rules`, width));
  } else if (kind === 'ambiguous') {
    const candidates = row?.candidates ?? key.slice('ambiguous:'.length).split('|');
    out.push(title([span(`ambiguous ${row?.port ?? ''}`, 'title'), span(`: ${candidates.length} rules tie at the same specificity; portsniff never breaks ties`, 'dim')], width));
    for (const c of candidates) {
      const r = idx.byId.get(c);
      const desc = r === undefined ? c : `${c} · ${r.component} · ${r.protocols.length === 0 ? 'no protocol' : r.protocols.join(',')} · tls ${r.tls} · ${r.exposure.join(',') || 'exposure not stated'}`;
      out.push(...field('candidate', desc, width));
    }
    if (row !== null && row.hint !== '') out.push(...field('resolve', row.hint, width, 3, 'warn'));
  } else if (kind === 'unknown') {
    out.push(title([span('unknown traffic', 'title'), span(': no rule documents these server ports', 'dim')], width));
    const ports = row?.unknownPorts ?? [];
    if (ports.length === 0) out.push(...field('ports', 'none listed in this snapshot', width));
    for (const p of ports.slice(0, compact ? 4 : 10)) {
      const seen = p.protocols.length > 0 ? ` · seen: ${p.protocols.join(',')}` : '';
      out.push(...field(`${p.transport}/${p.port}`, `${formatCount(p.liveFlows).trim()} live / ${formatCount(p.flows).trim()} flows · ${p.packets === null ? 'relayed' : `${formatCount(p.packets).trim()} pkts`} · ${formatBytes(p.bytes).trim()}${seen}`, width));
    }
  } else {
    out.push(title([span('unclassified', 'title'), span(': rules are off (--no-rules)', 'dim')], width));
  }
  if (row !== null) {
    const traffic =
      info?.kind === 'proxy'
        ? `${formatCount(row.liveFlows).trim()} open / ${formatCount(row.flows).trim()} connections · ${formatBytes(row.bytes).trim()} relayed · now ${formatRate(row.bytesPerSec, unit).trim()}`
        : `${formatCount(row.liveFlows).trim()} live / ${formatCount(row.flows).trim()} flows · ${formatCount(row.packets).trim()} pkts · ${formatBytes(row.bytes).trim()} · now ${formatRate(row.bytesPerSec, unit).trim()}`;
    out.push(...field('traffic', traffic, width));
    const v = row.verdicts;
    out.push(
      ...field(
        'checks',
        `verified ${v.verified} · mismatch ${v.mismatch} · encrypted ${v.encrypted} · port-only ${v['port-only']}${v.unknown > 0 ? ` · unknown ${v.unknown}` : ''} · exposure violations ${row.violations}`,
        width,
        2,
        v.mismatch > 0 || row.violations > 0 ? 'alert' : 'normal',
      ),
    );
    if (row.encapsulations.length > 0) {
      const list = [...row.encapsulations].sort((a, b) => b.flows - a.flows);
      const text = list.map((e) => `${tunnelLabel(e)}: ${formatCount(e.flows).trim()} flows, ${formatCount(e.packets).trim()} pkts, ${formatBytes(e.bytes).trim()}`).join(' · ');
      out.push(...field('tunnels', text, width, 2));
    }
  } else {
    out.push(...field('traffic', 'not in the current snapshot (filtered out, or no flows yet)', width));
  }
  return out;
}

export function alertDetailLines(a: AlertItem | null, id: string, opts: { width: number }): Line[] {
  const { width } = opts;
  if (a === null) return [title([span('alert ', 'title'), span(`${id}: no longer in the snapshot's alert list`, 'dim')], width)];
  return [
    title([span(a.label, 'alert'), span(` ${a.service}`, 'title'), span(` from ${a.client}`, 'title')], width),
    ...field('why', a.detail, width, 2, 'alert'),
    ...field('flows', `${a.count} raised it · first ${formatClock(a.firstSec)} · last ${formatClock(a.lastSec)} (capture time, UTC) · latest server ${a.server}`, width),
  ];
}

/** An unknown server port (the coverage view's drill-down); `port` null: no longer listed. */
export function portDetailLines(port: UnknownPortItem | null, id: string, final: boolean, opts: { width: number }): Line[] {
  const { width } = opts;
  const out: Line[] = [title([span(id, 'title'), span(': no rule documents this server port', 'dim')], width)];
  if (port === null) {
    out.push(...field('traffic', final ? 'not among the busiest unknown ports of the final report' : "no longer among the snapshot's busiest unknown ports", width));
    return out;
  }
  const live = port.liveFlows === null ? '' : `${formatCount(port.liveFlows).trim()} live / `;
  out.push(...field('traffic', `${live}${formatCount(port.flows).trim()} flows · ${port.packets === null ? 'relayed' : `${formatCount(port.packets).trim()} pkts`} · ${formatBytes(port.bytes).trim()}`, width));
  out.push(...field(final ? 'payload' : 'seen', payloadText(port), width, 3, port.documented.length > 0 ? 'warn' : 'normal'));
  if (port.documented.length > 0) out.push(...field('hint', 'a documented product may run here on a port its documents do not list: check the service, or add a --rules override', width, 2));
  return out;
}

export function flowDetailLines(f: FlowItem | null, id: number, opts: { width: number; height: number; unit: RateUnit }): Line[] {
  const { width, unit } = opts;
  if (f === null) return [title([span(`flow ${id}`, 'title'), span(': no longer listed (the snapshot keeps the top live flows and the latest ended ones)', 'dim')], width)];
  const out: Line[] = [title([span(`flow ${f.id} `, 'title'), span(`${f.transport} ${f.client} → ${f.server}`, 'title'), span(f.live ? '  live' : `  ended (${f.end ?? 'ended'})`, 'dim')], width)];
  out.push(...field('service', f.service, width, 2));
  if (f.tunnel !== '') out.push(...field('tunnel', `${stackDetail(f.raw.tunnel)} (outer to inner)`, width, 2));
  out.push(...field('verdict', `${f.verdict} · exposure ${f.exposure}`, width, 1, f.verdict === 'mismatch' || f.exposure === 'violation' ? 'alert' : 'normal'));
  // A relayed connection (portsniff proxy) has no packets, TCP state or RTT; its bytes are the payload relayed.
  const relayed = f.raw.packets === null;
  if (relayed) {
    out.push(...field('relayed', 'payload bytes by portsniff proxy: no packets, TCP state or RTT', width));
    out.push(...field('to server', `${formatBytes(f.bytesUp).trim()} relayed`, width));
    out.push(...field('to client', `${formatBytes(f.bytesDown).trim()} relayed`, width));
  } else {
    out.push(...field('state', `${f.state} · handshake RTT ${formatRtt(f.rttMs)}`, width));
    out.push(...field('to server', `${formatCount(f.packetsUp ?? 0).trim()} pkts · ${formatBytes(f.bytesUp).trim()}`, width));
    out.push(...field('to client', `${formatCount(f.packetsDown ?? 0).trim()} pkts · ${formatBytes(f.bytesDown).trim()}`, width));
  }
  out.push(...field('rate', f.live ? formatRate(f.bytesPerSec, unit).trim() : '-', width));
  out.push(...field('time', `first ${formatClock(f.raw.firstSec)} · last ${formatClock(f.raw.lastSec)} (${relayed ? 'wall clock' : 'capture time'}, UTC)`, width));
  const ev = Object.entries(f.raw.evidence);
  if (ev.length === 0) out.push(...field('evidence', 'none (no payload recognised, or evidence not kept)', width));
  for (const [k, v] of ev.slice(0, Math.max(1, opts.height - out.length - 1))) out.push(...field(k, v, width));
  return out;
}
