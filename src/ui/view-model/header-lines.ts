/**
 * The header: what is being read, how fast, how much, what was lost, and what needs attention.
 * Four lines at every width (cut to fit), and a fifth with the encapsulations seen once a flow came
 * through a tunnel; figures are fixed-width so nothing jumps between frames.
 */
import type { SessionInfo } from '../../export/consumer.js';
import { formatBytes, formatConnectionRate, formatCount, formatDuration, formatPacketRate, formatPercent, formatRate, progressBar, type RateUnit } from './format.js';
import type { Frame, SessionStatus } from './frame.js';
import { clipLine, leftRight, line, span, type Line, type Span } from './lines.js';
import { unknownShare } from './services.js';
import { safeText } from './text.js';
import { encapsulationTotals, tunnelLabel } from './tunnels.js';

export interface HeaderInput {
  info: SessionInfo | null;
  frame: Frame | null;
  status: SessionStatus;
  paused: boolean;
  unit: RateUnit;
  width: number;
}

/** Lines of the header without tunnels. */
const HEADER_LINES = 4;

/** Lines of the header for this frame: one more once any flow came through a tunnel. */
export function headerHeight(frame: Frame | null): number {
  return HEADER_LINES + (frame !== null && frame.update.snapshot.services.some((s) => (s.encapsulations ?? []).length > 0) ? 1 : 0);
}

function sourceSpans(info: SessionInfo | null): Span[] {
  if (info === null) return [span('portsniff', 'title')];
  const spans: Span[] = [span('portsniff', 'title'), span(` ${info.kind === 'live' ? 'live' : info.kind === 'proxy' ? 'proxy' : 'replay'} `)];
  spans.push(span(safeText(info.name), 'title'));
  const extra: string[] = [];
  if (info.kind === 'live' || info.kind === 'proxy') {
    if (info.backend) extra.push(info.backend);
    if (info.filter) extra.push(`filter "${info.filter}"`);
  } else {
    extra.push(info.speed === null ? 'max speed' : `${info.speed}x`);
  }
  if (info.products !== null && info.products.length > 0) extra.push(`products ${info.products.join(',')}`);
  if (info.rules.length === 0) extra.push('rules off');
  if (extra.length > 0) spans.push(span(` · ${safeText(extra.join(' · '))}`, 'dim'));
  return spans;
}

function badges(h: HeaderInput): Span[] {
  const out: Span[] = [];
  if (h.paused) out.push(span(' PAUSED ', 'badge'));
  if (h.status === 'finished') out.push(span(' FINISHED ', 'badge'));
  if (h.status === 'stopping') out.push(span(' STOPPING ', 'badge'));
  if (h.frame !== null && h.status === 'running') {
    // A relay (portsniff proxy) counts connections, never packets.
    const t = h.frame.update.snapshot.totals;
    if (h.info?.kind === 'proxy' ? t.flows === 0 : t.packets === 0) out.push(span(h.info?.kind === 'proxy' ? 'waiting for connections' : 'waiting for packets', 'dim'));
  }
  const spaced: Span[] = [];
  for (const b of out) {
    if (spaced.length > 0) spaced.push(span(' '));
    spaced.push(b);
  }
  return spaced;
}

function ratesLine(h: HeaderInput): Line {
  const f = h.frame;
  const t = f?.update.snapshot.totals;
  if (h.info?.kind === 'proxy') {
    // A relay sees connections and the bytes it relays, never packets: no packet figures at all.
    return line(
      span('now '),
      span(formatConnectionRate(f?.flowsPerSec ?? 0), 'title'),
      span(' '),
      span(formatRate(f?.bytesPerSec ?? 0, h.unit), 'title'),
      span(' │ relayed ', 'dim'),
      span(formatBytes(t?.bytes ?? 0)),
      span(' │ connections ', 'dim'),
      span(formatCount(t?.flows ?? 0)),
      span(` (${formatCount(t?.liveFlows ?? 0).trim()} open)`),
    );
  }
  return line(
    span('now '),
    span(formatPacketRate(f?.packetsPerSec ?? 0), 'title'),
    span(' '),
    span(formatRate(f?.bytesPerSec ?? 0, h.unit), 'title'),
    span(' │ total ', 'dim'),
    span(formatCount(t?.packets ?? 0)),
    span(' pkts '),
    span(formatBytes(t?.bytes ?? 0)),
    span(' │ flows ', 'dim'),
    span(formatCount(t?.flows ?? 0)),
    span(` (${formatCount(t?.liveFlows ?? 0).trim()} live)`),
  );
}

function elapsedMs(h: HeaderInput): number {
  if (h.info === null) return 0;
  const now = h.frame?.update.wallMs ?? h.info.startedAt;
  return now - h.info.startedAt;
}

function progressLine(h: HeaderInput): Line {
  const info = h.info;
  const u = h.frame?.update;
  const spans: Span[] = [];
  const elapsed = elapsedMs(h);
  if (info !== null && info.kind === 'proxy') {
    // The relay's own trouble instead of capture drops; no decoding, so no anomalies, no workers.
    const r = u?.relay;
    const n = (label: string, v: number | undefined, first = false): void => {
      spans.push(span(`${first ? '' : ' · '}${label} `, first ? 'normal' : 'dim'), v === undefined ? span('-', 'dim') : span(formatCount(v).trim(), v > 0 ? 'warn' : 'normal'));
    };
    n('upstream errors', r?.upstreamErrors, true);
    n('connect timeouts', r?.connectTimeouts);
    n('refused (max conns)', r?.refused);
    if (r !== undefined && r.listeners.some((l) => l.proxyProtocolIn)) n('PROXY header errors', r.proxyProtocolErrors);
    if (r !== undefined && r.listeners.some((l) => l.transport === 'udp')) n('datagrams dropped', r.datagramsDropped);
    spans.push(span(' · elapsed ', 'dim'), span(formatDuration(elapsed / 1000).padStart(7)));
    return { spans };
  }
  if (info !== null && info.kind === 'live') {
    const live = u?.live ?? null;
    const drop = (v: number | null | undefined): Span => (v === null || v === undefined ? span('unknown', 'dim') : span(String(v), v > 0 ? 'warn' : 'normal'));
    spans.push(span('drops kernel '), drop(live?.droppedByKernel), span(' iface '), drop(live?.droppedByInterface), span(' engine '));
    spans.push(drop(live?.engineDrops ?? u?.snapshot.engineDrops ?? null));
  } else if (info !== null && info.totalBytes !== null && info.totalBytes > 0) {
    const read = u?.bytesRead ?? 0;
    const fraction = read / info.totalBytes;
    const rate = elapsed > 0 ? read / (elapsed / 1000) : 0;
    const eta = rate > 0 && read < info.totalBytes ? (info.totalBytes - read) / rate : read >= info.totalBytes ? 0 : NaN;
    const barWidth = Math.max(5, Math.min(40, h.width - 66));
    spans.push(span(progressBar(fraction, barWidth), 'ok'), span(` ${formatPercent(fraction)}`), span(` ETA ${formatDuration(eta).padStart(7)}`));
  } else {
    spans.push(span(`read ${formatBytes(u?.bytesRead ?? 0).trim()}`));
  }
  const totals = u?.snapshot.totals;
  const anomalies = totals === undefined ? 0 : Object.values(totals.anomalies).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  spans.push(span(' · elapsed ', 'dim'), span(formatDuration(elapsed / 1000).padStart(7)));
  spans.push(span(' · anomalies ', 'dim'), span(formatCount(anomalies).trim(), anomalies > 0 ? 'warn' : 'normal'));
  spans.push(span(' · workers ', 'dim'), span(String(u?.snapshot.workers ?? info?.workers ?? 0)));
  return { spans };
}

/** Alarms first (mismatches, exposure violations), then ambiguity, then the unknown share and its busiest ports. */
function attentionLine(h: HeaderInput): Line {
  const snap = h.frame?.update.snapshot;
  const share = unknownShare(h.frame);
  let mismatch = 0;
  let violations = 0;
  let ambiguous = 0;
  for (const s of snap?.services ?? []) {
    mismatch += s.verdicts.mismatch;
    violations += s.exposure.violation;
    if (s.key.startsWith('ambiguous:')) ambiguous++;
  }
  // Alerts the Alerts view lists that no service counter holds: flows per kind, as the alert rows count them.
  let undocumented = 0;
  for (const a of snap?.detail?.alerts ?? []) if (a.kind === 'undocumented-port') undocumented += a.count;
  const spans: Span[] = [];
  spans.push(span('mismatch '), span(formatCount(mismatch).trim(), mismatch > 0 ? 'alert' : 'normal'));
  spans.push(span(' · exposure! '), span(formatCount(violations).trim(), violations > 0 ? 'alert' : 'normal'));
  if (undocumented > 0) spans.push(span(' · undoc-port '), span(formatCount(undocumented).trim(), 'alert'));
  spans.push(span(' · ambiguous '), span(String(ambiguous), ambiguous > 0 ? 'warn' : 'normal'));
  spans.push(span(' · unknown '), span(`${Math.round(share.fraction * 100)}%`, share.fraction > 0 ? 'warn' : 'normal'), span(' of bytes'));
  if (share.ports.length > 0) spans.push(span(` (${share.ports.join(', ')})`, 'dim'));
  return { spans };
}

/** "tunnels vxlan:1 75 flows · ip-in-ip 10 · geneve:16 6": every encapsulation seen, most flows first; null when none. */
function tunnelsLine(h: HeaderInput): Line | null {
  const list = encapsulationTotals(h.frame?.update.snapshot.services ?? []);
  if (list.length === 0) return null;
  const spans: Span[] = [span('tunnels ', 'dim')];
  list.forEach((e, i) => {
    if (i > 0) spans.push(span(' · ', 'dim'));
    spans.push(span(tunnelLabel(e), 'title'), span(` ${formatCount(e.flows).trim()}${i === 0 ? ' flows' : ''}`));
  });
  return { spans };
}

export function headerLines(h: HeaderInput): Line[] {
  const w = Math.max(0, h.width);
  const lines = [leftRight(sourceSpans(h.info), badges(h), w), clipLine(ratesLine(h), w), clipLine(progressLine(h), w), clipLine(attentionLine(h), w)];
  const tunnels = tunnelsLine(h);
  if (tunnels !== null) lines.push(clipLine(tunnels, w));
  return lines;
}
