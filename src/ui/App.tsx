/**
 * The dashboard's root component. It owns the key state machine (view-model/state.ts, run with
 * useReducer so every key applies to the latest state) and lays the screen out for the terminal
 * size: header, tab bar, the current view or drill-down, footer; never more than rows - 1 lines (a
 * frame as tall as the terminal makes Ink clear the screen and scrollback on every frame).
 *
 * Frames come either as props (tests) or from a FrameSource the dashboard publishes to at its
 * refresh rate. Side effects are callbacks: onPause(paused) when `p` toggles, onQuit() for every
 * quit request (q, Ctrl-C); the owner decides what they mean.
 */
import { useEffect, useMemo, useReducer, useRef } from 'react';
import { Box, useInput, useStdin, useStdout } from 'ink';
import type { SessionInfo } from '../export/consumer.js';
import type { RunSummary } from '../export/summary.js';
import { AlertDetail } from './components/AlertDetail.js';
import { AlertsView } from './components/AlertsView.js';
import { CoverageView } from './components/CoverageView.js';
import { FlowDetail } from './components/FlowDetail.js';
import { FlowsView } from './components/FlowsView.js';
import { Footer } from './components/Footer.js';
import { Header } from './components/Header.js';
import { HelpOverlay } from './components/HelpOverlay.js';
import { Lines } from './components/Lines.js';
import { PortDetail } from './components/PortDetail.js';
import { ServiceDetail } from './components/ServiceDetail.js';
import { ServicesView } from './components/ServicesView.js';
import { TabBar } from './components/TabBar.js';
import { buildAlerts, type AlertsModel } from './view-model/alerts.js';
import { buildCoverage } from './view-model/coverage.js';
import { EMPTY_FILTER } from './view-model/filter.js';
import { buildFlows, flowItem, captureNow, type FlowsModel } from './view-model/flows.js';
import type { Frame, SessionStatus } from './view-model/frame.js';
import { headerHeight } from './view-model/header-lines.js';
import type { KeyFlags } from './view-model/keys.js';
import { line, span } from './view-model/lines.js';
import { buildServices, type ServicesModel } from './view-model/services.js';
import { initialUi, parsePortId, reduce, selectedKey, type AppState, type TerminalSize, type ViewName } from './view-model/state.js';
import { clip } from './view-model/text.js';

/** Frames published by the dashboard: the latest one, and a way to hear about the next. */
export interface FrameSource {
  /** `summary`: the run's summary once the session ended (the final coverage report). */
  current(): { frame: Frame | null; status: SessionStatus; summary?: RunSummary | null };
  subscribe(listener: () => void): () => void;
}

export interface AppProps {
  info: SessionInfo | null;
  /** A fixed frame (tests); ignored when `source` is given. */
  frame?: Frame | null;
  status?: SessionStatus;
  /** The run's summary (tests; the dashboard passes it through `source`). */
  summary?: RunSummary | null;
  source?: FrameSource;
  /** Initial terminal size; later sizes come from stdout 'resize' events. Default: stdout's. */
  size?: TerminalSize;
  /** Whether to read keys (default true); never without a raw-mode capable stdin. */
  inputActive?: boolean;
  onPause?: (paused: boolean) => void;
  onQuit?: () => void;
}

/** Below this the dashboard only says the terminal is too small. */
export const MIN_COLUMNS = 40;
export const MIN_ROWS = 10;

function stdoutSize(stdout: NodeJS.WriteStream | undefined): TerminalSize {
  return { columns: stdout?.columns ?? 80, rows: stdout?.rows ?? 24 };
}

export function App(props: AppProps) {
  const { stdout } = useStdout();
  const [state, dispatch] = useReducer(reduce, undefined, (): AppState => {
    const fromSource = props.source?.current();
    return {
      ui: initialUi(props.size ?? stdoutSize(stdout)),
      info: props.info,
      frame: fromSource?.frame ?? props.frame ?? null,
      status: fromSource?.status ?? props.status ?? 'running',
      summary: fromSource?.summary ?? props.summary ?? null,
    };
  });

  // Frames: from the source (dashboard) or from props (tests, rerender).
  const { source } = props;
  useEffect(() => {
    if (source === undefined) return undefined;
    const pull = () => {
      const c = source.current();
      dispatch({ type: 'frame', frame: c.frame, status: c.status, summary: c.summary ?? null });
    };
    pull();
    return source.subscribe(pull);
  }, [source]);
  useEffect(() => {
    if (source !== undefined) return;
    dispatch({ type: 'frame', frame: props.frame ?? null, status: props.status ?? 'running', summary: props.summary ?? null });
  }, [source, props.frame, props.status, props.summary]);
  useEffect(() => {
    dispatch({ type: 'info', info: props.info });
  }, [props.info]);

  // Terminal size lives in state: Ink 6.8 re-lays out on resize but does not re-render us.
  useEffect(() => {
    if (stdout === undefined || typeof stdout.on !== 'function') return undefined;
    const onResize = () => dispatch({ type: 'resize', size: stdoutSize(stdout) });
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);

  // Ink's isRawModeSupported is undefined (not false) for a non-TTY stdin, and useInput throws
  // without raw mode: only a strict true turns input on.
  const { isRawModeSupported } = useStdin();
  const inputActive = (props.inputActive ?? true) && isRawModeSupported === true;
  useInput((input: string, key: KeyFlags) => dispatch({ type: 'keys', input, key }), { isActive: inputActive });

  // Side effects of keys, reported after the state changed.
  const { onPause, onQuit } = props;
  const firstPause = useRef(true);
  useEffect(() => {
    if (firstPause.current) {
      firstPause.current = false;
      return;
    }
    onPause?.(state.ui.paused);
  }, [state.ui.paused, onPause]);
  const quitsSeen = useRef(0);
  useEffect(() => {
    while (quitsSeen.current < state.ui.quits) {
      quitsSeen.current++;
      onQuit?.();
    }
  }, [state.ui.quits, onQuit]);

  return <Screen state={state} />;
}

const NO_SERVICES: ServicesModel = { groups: [], order: [], shown: 0, total: 0, tunnelled: false, relayed: false };
const NO_FLOWS: FlowsModel = { live: [], ended: [], order: [], shown: 0, total: 0, tunnelled: false, relayed: false };
const NO_ALERTS: AlertsModel = { items: [], order: [], shown: 0, total: 0 };

/** The whole frame for a state (exported for tests that render a state directly). */
export function Screen({ state }: { state: AppState }) {
  const { ui, info, frame, status } = state;
  const summary = state.summary ?? null;
  const { columns: width, rows } = ui.size;
  const frameHeight = rows - 1;
  const filter = ui.filter.applied;
  const top = ui.stack[ui.stack.length - 1];

  // Only what this screen shows is built (each is a pass over the snapshot's lists).
  const wantServices = ui.view === 'services' || top?.kind === 'service' || ui.stack.some((d) => d.kind === 'service');
  const wantFlows = ui.view === 'flows' || top !== undefined;
  const wantAlerts = ui.view === 'alerts' && top === undefined;
  const services = useMemo(() => (wantServices ? buildServices(info, frame, ui.sort, filter) : NO_SERVICES), [wantServices, info, frame, ui.sort, filter]);
  const flows = useMemo(() => {
    if (!wantFlows) return NO_FLOWS;
    if (top?.kind === 'service') return buildFlows(info, frame, ui.sort, filter, { serviceKey: top.key });
    if (top?.kind === 'port') return buildFlows(info, frame, ui.sort, filter, { unknownPort: parsePortId(top.id) });
    if (top?.kind === 'alert') {
      const alert = buildAlerts(info, frame, EMPTY_FILTER).items.find((a) => a.id === top.id);
      return buildFlows(info, frame, ui.sort, filter, { ids: alert?.flowIds ?? [] });
    }
    return buildFlows(info, frame, ui.sort, filter);
  }, [wantFlows, info, frame, ui.sort, filter, top]);
  const alerts = useMemo(() => (wantAlerts ? buildAlerts(info, frame, filter) : NO_ALERTS), [wantAlerts, info, frame, filter]);
  // Always built: the tab bar counts its rows, and it is one pass over the rules and a bounded port
  // list. The port drill-down looks its port up unfiltered (the filter applies to its flows).
  const coverage = useMemo(() => buildCoverage(info, frame, summary, top?.kind === 'port' ? EMPTY_FILTER : filter), [info, frame, summary, filter, top]);

  if (frameHeight <= 0 || width <= 0) return null;
  if (width < MIN_COLUMNS || frameHeight < MIN_ROWS - 1) {
    const msg = [
      line(span(clip(`too small (${width}x${rows})`, width), 'title')),
      line(span(clip(`portsniff needs ${MIN_COLUMNS}x${MIN_ROWS}; q quits`, width))),
    ];
    return <Lines lines={msg.slice(0, frameHeight)} />;
  }

  const listKeys =
    top === undefined
      ? ui.view === 'services'
        ? services.order
        : ui.view === 'flows'
          ? flows.order.map(String)
          : ui.view === 'coverage'
            ? coverage.order
            : alerts.order
      : flows.order.map(String);
  const selected = selectedKey(state, listKeys);
  const selectedIndex = selected === null ? -1 : listKeys.indexOf(selected);
  const position = listKeys.length === 0 ? '' : `${selectedIndex + 1}/${listKeys.length}`;
  const shown =
    top === undefined
      ? ui.view === 'services'
        ? { rows: services.shown, total: services.total }
        : ui.view === 'flows'
          ? { rows: flows.shown, total: flows.total }
          : ui.view === 'coverage'
            ? { rows: coverage.shown, total: coverage.total }
            : { rows: alerts.shown, total: alerts.total }
      : { rows: flows.shown, total: flows.total };

  const footer = <Footer ui={ui} status={status} width={width} shown={shown} />;
  if (ui.help) {
    return (
      <Box flexDirection="column">
        <HelpOverlay width={width} height={frameHeight - 1} />
        {footer}
      </Box>
    );
  }

  const snap = frame?.update.snapshot;
  const counts: Record<ViewName, number | null> = {
    services: snap === undefined ? null : snap.services.length,
    flows: snap?.detail === undefined ? null : snap.detail.flows.length,
    alerts: snap?.detail === undefined ? null : snap.detail.alerts.length,
    coverage: info === null ? null : coverage.total,
  };
  const crumbs = ui.stack.map((d) => {
    if (d.kind === 'service') {
      const row = services.groups.flatMap((g) => g.rows).find((r) => r.key === d.key);
      return row === undefined ? d.key : row.kind === 'rule' ? row.name : row.kind === 'ambiguous' ? `ambiguous ${row.port}` : row.key;
    }
    if (d.kind === 'alert') return d.id.split('|').slice(0, 1).join('');
    if (d.kind === 'port') return d.id;
    return `flow ${d.id}`;
  });
  const bodyHeight = Math.max(0, frameHeight - headerHeight(frame) - 2);
  const common = { width, height: bodyHeight, sort: ui.sort, unit: ui.unit, selected };
  let body;
  if (top === undefined) {
    if (ui.view === 'services') body = <ServicesView model={services} {...common} />;
    else if (ui.view === 'flows') body = <FlowsView model={flows} {...common} />;
    else if (ui.view === 'coverage') body = <CoverageView model={coverage} width={width} height={bodyHeight} selected={selected} />;
    else body = <AlertsView model={alerts} width={width} height={bodyHeight} selected={selected} />;
  } else if (top.kind === 'service') {
    const row = services.groups.flatMap((g) => g.rows).find((r) => r.key === top.key) ?? null;
    body = <ServiceDetail info={info} serviceKey={top.key} row={row} flows={flows} {...common} />;
  } else if (top.kind === 'alert') {
    const alert = buildAlerts(info, frame, EMPTY_FILTER).items.find((a) => a.id === top.id) ?? null;
    body = <AlertDetail alertId={top.id} alert={alert} flows={flows} {...common} />;
  } else if (top.kind === 'port') {
    const port = coverage.unknown.find((p) => p.key === `port:${top.id}`) ?? null;
    body = <PortDetail portId={top.id} port={port} final={coverage.final} flows={flows} {...common} />;
  } else {
    const raw = snap?.detail?.flows.find((f) => f.id === top.id);
    body = <FlowDetail flowId={top.id} flow={raw === undefined ? null : flowItem(raw, captureNow(frame, info))} width={width} height={bodyHeight} unit={ui.unit} />;
  }
  return (
    <Box flexDirection="column" width={width}>
      <Header info={info} frame={frame} status={status} paused={ui.paused} unit={ui.unit} width={width} />
      <TabBar ui={ui} counts={counts} position={position} crumbs={crumbs} width={width} />
      <Box flexDirection="column" height={bodyHeight}>
        {body}
      </Box>
      {footer}
    </Box>
  );
}
