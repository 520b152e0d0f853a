/**
 * Live-capture contracts. Both backends (an external tcpdump, the in-process `cap` binding) turn
 * what they capture into a classic pcap byte stream and push it through the same CaptureParser as
 * replay, into the same FrameSink: one reader, one decoder, whatever the source.
 */
import type { CaptureReadResult, FrameSink, LiveCounters, LiveStats } from '../types.js';

export type LiveBackendName = LiveStats['backend'];
export type LiveBackendChoice = LiveBackendName | 'auto';

/** Default snapshot length: tcpdump's own default (the whole packet on every common link). */
export const DEFAULT_SNAPLEN = 262_144;
/** The `cap` binding hard-codes this snapshot length (pcap_set_snaplen(65535) in its source). */
export const CAP_FIXED_SNAPLEN = 65_535;
export interface LiveCaptureOptions {
  /** Interface name as libpcap knows it (eth0, lo, any). */
  interface: string;
  /** BPF filter expression (pcap-filter(7)); empty or undefined = everything. */
  filter?: string;
  /** Bytes kept per packet. */
  snaplen: number;
  /** Kernel capture buffer in KiB (tcpdump -B); undefined = defaultBufferKiB(interface): 64 MiB, 256 MiB on lo. */
  bufferSizeKiB?: number;
  /** Put the interface in promiscuous mode (tcpdump's default; -p turns it off). */
  promisc: boolean;
  /** Stop after this many seconds. */
  durationSec?: number;
  /** Stop after this many packets. */
  count?: number;
  /** Save exactly what was captured to this pcap file (like tcpdump -w). */
  writePath?: string;
  /** Told once the device is open and packets flow. */
  onReady?: (info: LiveReadyInfo) => void;
  /** Non-fatal messages from the backend (tcpdump's WARNING lines, ignored options). */
  onWarning?: (message: string) => void;
}

export interface LiveReadyInfo {
  backend: LiveBackendName;
  interface: string;
  /** Link type as the backend names it (EN10MB, LINUX_SLL2, ...). */
  linkTypeName: string;
  snaplen: number;
}

/** What a live capture returns: the usual read result plus the live counters (always set). */
export type LiveReadResult = CaptureReadResult & { live: LiveStats };

/**
 * Advances the pipeline's flow clock with no packet to carry it (wall-clock seconds), so idle flows
 * still expire when the link is quiet. The Engine implements it with `table.sweepIfDue(nowSec)`.
 */
export type FlowClockTick = (nowSec: number) => void;

/** One live capture, from one interface, with one backend. Single use. */
export interface LiveSource {
  readonly backend: LiveBackendName;
  /**
   * Opens the device (and compiles the filter). Throws a one-line PortsniffError(Capture) when the
   * interface does not exist, permission is missing, the filter is invalid or the backend is not
   * available. Resolves early (without error) when `signal` aborts first. Optional: start() opens
   * when this was not called.
   */
  open(signal?: AbortSignal): Promise<void>;
  /**
   * Captures into `sink` until `signal` aborts, --duration or --count is reached, or the backend
   * stops; then drains what is in flight, closes the --write file and resolves. A failure after
   * packets flowed rejects with a LiveCaptureError whose `partial` says what was captured.
   */
  start(sink: FrameSink, signal: AbortSignal, tick?: FlowClockTick): Promise<LiveReadResult>;
  /** Counters while capturing (for the dashboard and the progress line); null before start(). */
  counters?(): LiveCounters | null;
}
