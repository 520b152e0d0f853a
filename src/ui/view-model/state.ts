/**
 * The dashboard's key state machine: a pure reducer over (UI state, frame, session info). App.tsx
 * runs it with useReducer, so keys that arrive in one chunk, or before React re-subscribes the input
 * handler, all apply in order to the latest state (a stale closure cannot drop one). Side effects
 * (pause the session, stop it) are not performed here: the state records them (`paused`, `quits`)
 * and App turns changes into calls.
 */
import type { SessionInfo } from '../../export/consumer.js';
import type { RunSummary } from '../../export/summary.js';
import { buildAlerts } from './alerts.js';
import { buildCoverage } from './coverage.js';
import { EMPTY_FILTER, parseFilter, type Filter } from './filter.js';
import { buildFlows } from './flows.js';
import type { Frame, SessionStatus } from './frame.js';
import type { RateUnit } from './format.js';
import { keyEvents, type KeyEvent, type KeyFlags } from './keys.js';
import { buildServices } from './services.js';
import { chooseSort, DEFAULT_SORT, nextSort, SORT_KEYS, type SortOrder } from './sort.js';

export const VIEWS = ['services', 'flows', 'alerts', 'coverage'] as const;
export type ViewName = (typeof VIEWS)[number];

/**
 * A drill-down level: a service (its rule and flows), an alert (its flows), one flow, or an unknown
 * server port from the coverage view (`tcp/7000`: what was seen there, and its flows).
 */
export type Drill = { kind: 'service'; key: string } | { kind: 'alert'; id: string } | { kind: 'flow'; id: number } | { kind: 'port'; id: string };

export interface FilterState {
  /** What is typed in the bar. */
  text: string;
  editing: boolean;
  /** The last valid filter (applied while the text is invalid). */
  applied: Filter;
  /** Why `text` is not valid, or null. */
  error: string | null;
}

export interface TerminalSize {
  columns: number;
  rows: number;
}

export interface UiState {
  view: ViewName;
  stack: Drill[];
  sort: SortOrder;
  unit: RateUnit;
  filter: FilterState;
  help: boolean;
  paused: boolean;
  /** How many times quit was asked for (q, Ctrl-C); App reports each new one. */
  quits: number;
  /** Selected row key per list (see listContext). */
  selection: Readonly<Record<string, string>>;
  size: TerminalSize;
}

export interface AppState {
  ui: UiState;
  info: SessionInfo | null;
  frame: Frame | null;
  status: SessionStatus;
  /** The run's summary once the session ended (a finished replay stays on screen with it); absent before. */
  summary?: RunSummary | null;
}

export type Action =
  | { type: 'frame'; frame: Frame | null; status: SessionStatus; summary?: RunSummary | null }
  | { type: 'keys'; input: string; key: KeyFlags }
  | { type: 'resize'; size: TerminalSize }
  | { type: 'info'; info: SessionInfo | null };

export function initialUi(size: TerminalSize): UiState {
  return {
    view: 'services',
    stack: [],
    sort: DEFAULT_SORT,
    unit: 'bits',
    filter: { text: '', editing: false, applied: EMPTY_FILTER, error: null },
    help: false,
    paused: false,
    quits: 0,
    selection: {},
    size: sanitizeSize(size),
  };
}

export function sanitizeSize(s: TerminalSize): TerminalSize {
  const c = Number.isFinite(s.columns) ? Math.max(0, Math.floor(s.columns)) : 80;
  const r = Number.isFinite(s.rows) ? Math.max(0, Math.floor(s.rows)) : 24;
  return { columns: c, rows: r };
}

/** The list the arrows move in right now, as an id for `selection`. */
export function listContext(ui: UiState): string {
  const top = ui.stack[ui.stack.length - 1];
  if (top === undefined) return ui.view;
  if (top.kind === 'service') return `service:${top.key}`;
  if (top.kind === 'alert') return `alert:${top.id}`;
  if (top.kind === 'port') return `port:${top.id}`;
  return 'flow';
}

/** "tcp/7000" as a transport and a port (null if it is not one). */
export function parsePortId(id: string): { transport: string; port: number } | null {
  const m = /^([a-z0-9-]+)\/(\d{1,5})$/.exec(id);
  return m === null ? null : { transport: m[1]!, port: Number(m[2]) };
}

/** The row keys of the current list, in display order. */
export function listKeys(state: AppState): string[] {
  const { ui, info, frame } = state;
  const filter = ui.filter.applied;
  const top = ui.stack[ui.stack.length - 1];
  if (top === undefined) {
    if (ui.view === 'services') return buildServices(info, frame, ui.sort, filter).order;
    if (ui.view === 'flows') return buildFlows(info, frame, ui.sort, filter).order.map(String);
    if (ui.view === 'coverage') return buildCoverage(info, frame, state.summary ?? null, filter).order;
    return buildAlerts(info, frame, filter).order;
  }
  if (top.kind === 'service') return buildFlows(info, frame, ui.sort, filter, { serviceKey: top.key }).order.map(String);
  if (top.kind === 'port') return buildFlows(info, frame, ui.sort, filter, { unknownPort: parsePortId(top.id) }).order.map(String);
  if (top.kind === 'alert') {
    const alert = buildAlerts(info, frame, EMPTY_FILTER).items.find((a) => a.id === top.id);
    return buildFlows(info, frame, ui.sort, filter, { ids: alert?.flowIds ?? [] }).order.map(String);
  }
  return [];
}

/** The selected key of the current list: the stored one if still listed, else the first row. */
export function selectedKey(state: AppState, keys: readonly string[] = listKeys(state)): string | null {
  const stored = state.ui.selection[listContext(state.ui)];
  if (stored !== undefined && keys.includes(stored)) return stored;
  return keys[0] ?? null;
}

/** Rows a page key moves (the body is most of the screen). */
function pageSize(ui: UiState): number {
  return Math.max(1, ui.size.rows - 10);
}

export function reduce(state: AppState, action: Action): AppState {
  switch (action.type) {
    case 'frame':
      return { ...state, frame: action.frame, status: action.status, summary: action.summary === undefined ? state.summary : action.summary };
    case 'info':
      return { ...state, info: action.info };
    case 'resize': {
      const size = sanitizeSize(action.size);
      if (size.columns === state.ui.size.columns && size.rows === state.ui.size.rows) return state;
      return { ...state, ui: { ...state.ui, size } };
    }
    case 'keys': {
      let s = state;
      for (const ev of keyEvents(action.input, action.key)) s = applyKey(s, ev);
      return s;
    }
  }
}

function withUi(state: AppState, ui: Partial<UiState>): AppState {
  return { ...state, ui: { ...state.ui, ...ui } };
}

function applyKey(state: AppState, ev: KeyEvent): AppState {
  const ui = state.ui;
  if (ev.kind === 'ctrl-c') return withUi(state, { quits: ui.quits + 1 });
  if (ui.help) {
    if (ev.kind === 'escape' || (ev.kind === 'char' && ev.char === '?')) return withUi(state, { help: false });
    if (ev.kind === 'char' && ev.char === 'q') return withUi(state, { quits: ui.quits + 1 });
    return state;
  }
  if (ui.filter.editing) return editFilter(state, ev);
  if (ev.kind === 'char') {
    switch (ev.char) {
      case 'q':
        return withUi(state, { quits: ui.quits + 1 });
      case 'p':
        return withUi(state, { paused: !ui.paused });
      case 's':
        return withUi(state, { sort: nextSort(ui.sort) });
      case 'S':
      case 'r':
        return withUi(state, { sort: { ...ui.sort, reverse: !ui.sort.reverse } });
      case '1':
      case '2':
      case '3':
      case '4':
        return withUi(state, { sort: chooseSort(ui.sort, SORT_KEYS[Number(ev.char) - 1]!) });
      case '/':
        return withUi(state, { filter: { ...ui.filter, editing: true } });
      case '?':
        return withUi(state, { help: true });
      case 'b':
        return withUi(state, { unit: ui.unit === 'bits' ? 'bytes' : 'bits' });
      case 'j':
        return move(state, 1);
      case 'k':
        return move(state, -1);
      case 'g':
        return move(state, -Infinity);
      case 'G':
        return move(state, Infinity);
      default:
        return state;
    }
  }
  switch (ev.kind) {
    case 'tab':
    case 'backtab': {
      const i = VIEWS.indexOf(ui.view);
      const next = VIEWS[(i + (ev.kind === 'tab' ? 1 : VIEWS.length - 1)) % VIEWS.length]!;
      return withUi(state, { view: next, stack: [] });
    }
    case 'up':
      return move(state, -1);
    case 'down':
      return move(state, 1);
    case 'pageup':
      return move(state, -pageSize(ui));
    case 'pagedown':
      return move(state, pageSize(ui));
    case 'home':
      return move(state, -Infinity);
    case 'end':
      return move(state, Infinity);
    case 'enter':
    case 'right':
      return drill(state);
    case 'escape':
    case 'left':
    case 'backspace':
      if (ui.stack.length > 0) return withUi(state, { stack: ui.stack.slice(0, -1) });
      if (ev.kind === 'escape' && ui.filter.text !== '') return withUi(state, { filter: { text: '', editing: false, applied: EMPTY_FILTER, error: null } });
      return state;
    default:
      return state;
  }
}

function editFilter(state: AppState, ev: KeyEvent): AppState {
  const f = state.ui.filter;
  let text = f.text;
  switch (ev.kind) {
    case 'escape':
      return withUi(state, { filter: { text: '', editing: false, applied: EMPTY_FILTER, error: null } });
    case 'enter':
      // An invalid filter stays open so the message stays in view.
      return f.error === null ? withUi(state, { filter: { ...f, editing: false } }) : state;
    case 'backspace':
      text = text.slice(0, -1);
      break;
    case 'ctrl-u':
      text = '';
      break;
    case 'char':
      if (text.length >= 200) return state;
      text += ev.char;
      break;
    default:
      return state;
  }
  const parsed = parseFilter(text);
  return withUi(state, {
    filter: parsed.ok ? { text, editing: true, applied: parsed.filter, error: null } : { text, editing: true, applied: f.applied, error: parsed.error },
  });
}

function move(state: AppState, delta: number): AppState {
  const keys = listKeys(state);
  if (keys.length === 0) return state;
  const current = selectedKey(state, keys);
  const i = current === null ? 0 : keys.indexOf(current);
  const target = Math.min(keys.length - 1, Math.max(0, Number.isFinite(delta) ? i + delta : delta > 0 ? keys.length - 1 : 0));
  return withUi(state, { selection: { ...state.ui.selection, [listContext(state.ui)]: keys[target]! } });
}

function drill(state: AppState): AppState {
  const ui = state.ui;
  const top = ui.stack[ui.stack.length - 1];
  if (top?.kind === 'flow') return state;
  const key = selectedKey(state);
  if (key === null) return state;
  let next: Drill;
  if (top === undefined && ui.view === 'services') next = { kind: 'service', key };
  else if (top === undefined && ui.view === 'alerts') next = { kind: 'alert', id: key };
  else if (top === undefined && ui.view === 'coverage') {
    // A documented rule opens like a service (its rule, and flows once it has some); a port, its own page.
    next = key.startsWith('rule:') ? { kind: 'service', key: key.slice('rule:'.length) } : { kind: 'port', id: key.slice('port:'.length) };
  } else next = { kind: 'flow', id: Number(key) };
  return withUi(state, { stack: [...ui.stack, next] });
}
