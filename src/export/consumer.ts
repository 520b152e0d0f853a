/**
 * The session consumer interface: everything that shows or exports a capture session (the text and
 * JSON summaries, the flow log, the stderr progress line, the Ink dashboard, metrics, IPFIX...)
 * implements it, and the session (src/cli/session.ts) drives them all the same way. Consumers see
 * plain data only (pipeline/results.ts, export/summary.ts): never capture, decode or flow code.
 */
import type { ClassifiedFlow, FlowTally, ProxyStats, Snapshot } from '../pipeline/results.js';
import type { RunSummary } from './summary.js';
import type { LiveCounters } from '../capture/types.js';

export type { LiveCounters } from '../capture/types.js';

/** A rule as a consumer shows it (the drill-down, `rules explain`). */
export interface RuleInfo {
  id: string;
  product: string;
  component: string;
  transport: string;
  /** "8443", "10000-19999", "9443,8080"; empty for icmp. */
  ports: string;
  purpose: string;
  /** Documented exposure classes (public, external, internal, monitoring-only, localhost, ...). */
  exposure: string[];
  /** Protocol tags the document names (http, grpc, resp, tls, ...). */
  protocols: string[];
  /** Whether the document promises TLS: required | optional | none | unknown. */
  tls: string;
  /** The primary source row, quoted, with its document. */
  cite: string;
  sourceDoc: string;
}

export type SessionKind = 'file' | 'stdin' | 'live' | 'proxy';

/** What a session reads, known before the first packet. */
export interface SessionInfo {
  kind: SessionKind;
  /** File name, interface, or proxy listener list. */
  name: string;
  /** Live: the capture backend (tcpdump, cap) and BPF filter. */
  backend: string | null;
  filter: string | null;
  /**
   * Replay of a regular file (also on stdin: the bytes from its offset): its size in bytes
   * (progress, ETA); null when unknown (a pipe, gzip, live).
   */
  totalBytes: number | null;
  /** Replay pacing: 1 = capture speed, 10 = ten times faster; null = as fast as possible. */
  speed: number | null;
  workers: number;
  /** The loaded rules (empty with --no-rules). */
  rules: RuleInfo[];
  /** --products, or null for all. */
  products: string[] | null;
  /** Wall clock (ms since the epoch) when the session started. */
  startedAt: number;
}

/** A periodic view of the running session (a few times per second, never per packet). */
export interface SessionUpdate {
  snapshot: Snapshot;
  /** Wall clock (ms since the epoch) of this update. */
  wallMs: number;
  /** Bytes of the capture file consumed so far (progress); 0 for live. */
  bytesRead: number;
  live: LiveCounters | null;
  /** `portsniff proxy`: the relay's counters now (refused, upstream errors, ...); absent otherwise. */
  relay?: ProxyStats;
  /** The replay (or, live, the display) is paused. */
  paused: boolean;
  /** 'running' until the input ends; then 'ended' (the dashboard stays on the final state). */
  state: 'running' | 'ended';
}

/** How the session ended, with everything the final outputs need. */
export interface SessionEnd {
  summary: RunSummary;
  /** The flows the text summary lists (top by bytes) and the exposure violations it lists. */
  topFlows: ClassifiedFlow[];
  violations: ClassifiedFlow[];
  exitCode: number;
  /** False when the input could not even be opened (no such file...): nothing was read. */
  opened: boolean;
}

/** What a consumer may ask of the session (the dashboard's keys). */
export interface SessionControl {
  /** Pause/resume: a replay stops reading; a live capture keeps capturing (the display freezes). */
  setPaused(paused: boolean): void;
  /** Stop reading now (like Ctrl-C): the session then ends and flushes everything. */
  stop(): void;
}

export interface SessionConsumer {
  /** Before the first packet. */
  start?(info: SessionInfo, control: SessionControl): void;
  /** Each finished flow, in end-key order (only when some consumer wants flows). */
  flow?(flow: ClassifiedFlow): void;
  /**
   * Each finished flow's transport, counts and verdict, in end-key order: for a consumer that only
   * adds flows up (metrics), no record is built for it. The object may be reused after the call.
   */
  tally?(flow: FlowTally): void;
  /** Periodic updates (only when some consumer implements it). */
  update?(update: SessionUpdate): void;
  /**
   * What update() reads of the snapshot: 'totals' (packets, flows, drops) or 'services' (also the
   * per-service figures including live flows; the default). When no consumer needs services, the
   * engine skips the per-service accounting of live flows that snapshots otherwise do.
   */
  readonly updateNeeds?: 'totals' | 'services';
  /**
   * The input ended (or was interrupted) and every flow was flushed. The session waits for the
   * returned promise (the dashboard resolves it when the user quits) before the next consumer's
   * finish, so final text reaches the terminal after the dashboard has cleaned up.
   */
  finish?(end: SessionEnd): void | Promise<void>;
  /** The session failed with an internal error: release the terminal, files, sockets; nothing more comes. */
  abort?(): void | Promise<void>;
}
