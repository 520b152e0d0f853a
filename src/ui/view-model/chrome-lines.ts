/**
 * The frame around the views: the tab bar (views, sort, filter, position), the footer with the keys
 * (or the filter bar while typing, or the end-of-replay status), and the help overlay.
 */
import type { SessionStatus } from './frame.js';
import { clipLine, leftRight, line, padLine, span, type Line, type Span } from './lines.js';
import { VIEWS, type UiState, type ViewName } from './state.js';
import { sortMarker } from './sort.js';
import { clip, safeText } from './text.js';

const VIEW_TITLES: Readonly<Record<ViewName, string>> = { services: 'Services', flows: 'Flows', alerts: 'Alerts', coverage: 'Coverage' };

export function tabBar(ui: UiState, counts: Readonly<Partial<Record<ViewName, number | null>>>, position: string, width: number, crumbs: string[]): Line {
  const right: Span[] = [];
  // Alerts are always newest first, coverage busiest ports first; the sort applies to the other lists.
  const fixedOrder = ui.stack.length === 0 ? (ui.view === 'alerts' ? 'newest first' : ui.view === 'coverage' ? 'busiest first' : null) : null;
  right.push(span(fixedOrder ?? `sort ${ui.sort.key}${sortMarker(ui.sort, ui.sort.key)}`, 'dim'));
  if (ui.filter.applied.text !== '' && !ui.filter.editing) right.push(span(' · filter ', 'dim'), span(clip(ui.filter.applied.text, 24), 'warn'));
  if (position !== '') right.push(span(` · ${position}`, 'dim'));
  const tabs = (roomy: boolean): Span[] => {
    const left: Span[] = [];
    for (const v of VIEWS) {
      const n = counts[v] ?? null;
      const label = `${VIEW_TITLES[v]}${n === null ? '' : ` ${n}`}`;
      if (left.length > 0) left.push(span(' '));
      left.push(v === ui.view ? span(`[${label}]`, 'badge') : span(roomy ? ` ${label} ` : label, 'dim'));
    }
    for (const c of crumbs) left.push(span(' › ', 'dim'), span(safeText(c), 'title'));
    return left;
  };
  // The tabs lose their padding before anything is cut (80 columns with a filter shown).
  const roomy = tabs(true);
  const fits = roomy.reduce((n, x) => n + x.text.length, 0) + 1 + right.reduce((n, x) => n + x.text.length, 0) <= width;
  return leftRight(fits ? roomy : tabs(false), right, width);
}

const KEYS: ReadonlyArray<readonly [string, string]> = [
  ['q', 'quit'],
  ['?', 'help'],
  ['p', 'pause'],
  ['s', 'sort'],
  ['/', 'filter'],
  ['tab', 'view'],
  ['⏎', 'open'],
  ['esc', 'back'],
  ['b', 'units'],
];

export function footerLine(ui: UiState, status: SessionStatus, width: number, shown: { rows: number; total: number } | null): Line {
  if (ui.filter.editing) return filterBar(ui, width, shown);
  const spans: Span[] = [];
  if (status === 'finished') spans.push(span(' replay finished: q to quit ', 'badge'), span(' '));
  else if (status === 'stopping') spans.push(span(' stopping: writing outputs… ', 'badge'), span(' '));
  for (const [k, what] of KEYS) {
    if (status === 'finished' && (k === 'p' || k === 'q')) continue;
    spans.push(span(k, 'key'), span(` ${what}  `, 'dim'));
  }
  return clipLine({ spans }, width);
}

/** "/ port:6379 !src:10.0.0.5█  ✓ 3 of 12 rows" or the reason the text is not a valid filter. */
export function filterBar(ui: UiState, width: number, shown: { rows: number; total: number } | null): Line {
  const f = ui.filter;
  const status: Span[] =
    f.error !== null
      ? [span(`✗ ${f.error}`, 'alert')]
      : [span(`✓ ${shown === null ? 'ok' : `${shown.rows} of ${shown.total}`}`, 'ok'), span('  ⏎ keep · esc clear', 'dim')];
  const statusWidth = status.reduce((n, s) => n + s.text.length, 0);
  const room = Math.max(8, width - statusWidth - 4);
  const typed = safeText(f.text);
  const shownText = typed.length + 1 > room ? `…${typed.slice(typed.length - room + 2)}` : typed;
  return leftRight([span('/ ', 'key'), span(shownText), span('█', 'key')], status, width);
}

const HELP: ReadonlyArray<readonly [string, string]> = [
  ['q  Ctrl-C', 'quit (a replay that finished waits for q)'],
  ['p', 'pause: live freezes the view (capture goes on); replay stops'],
  ['s  S/r', 'sort: bytes → rate → flows → name; S or r reverses'],
  ['1 2 3 4', 'sort by bytes, rate, flows, name (again: reverse)'],
  ['/', 'filter; ⏎ keeps it, esc clears it'],
  ['tab', 'next view: services, flows, alerts, coverage (shift-tab back)'],
  ['↑ ↓ j k', 'move; PgUp PgDn Home End g G'],
  ['⏎ →', 'open: service → rule, flows; alert → flows; port → flows; flow'],
  ['esc ←', 'back (at the top: clear the filter)'],
  ['b', 'rates in bits/s or bytes/s'],
];

const FILTER_HELP = [
  'filter terms (all must match): product:redis  service:web-ui  port:6379',
  '  port:8000-9000  src:10.0.0.5  dst:10.1.  addr:10.0.0.0/8  sni:example',
  '  tunnel:vxlan  tunnel:vxlan:1  tunnel:any  ·  free text',
  '  !term or -term negates  ·  a,b = either value',
];

const LEGEND = [
  'checks: ✓ verified  ✗ mismatch  e encrypted  ~ port-only  ! exposure violation',
  'sort marker: ▼ natural order (largest first, A-Z), ▲ reversed',
];

export function helpLines(width: number, height: number): Line[] {
  const out: Line[] = [padLine(line(span('portsniff dashboard: keys', 'title'), span('   (? or esc closes)', 'dim')), width)];
  for (const [k, what] of HELP) out.push(padLine(line(span(`  ${k.padEnd(11)}`, 'key'), span(what)), width));
  out.push(padLine(line(span('')), width));
  for (const l of FILTER_HELP) out.push(padLine(line(span(l)), width));
  out.push(padLine(line(span('')), width));
  for (const l of LEGEND) out.push(padLine(line(span(l, 'dim')), width));
  return out.slice(0, Math.max(0, height));
}
