/**
 * Progress without a terminal UI (pipes, files, CI): one line on stderr every ~2 s with packets,
 * packets/s, bits/s, flows, and for a file the % read and an ETA, for a live capture the drops; for
 * the proxy, connections and the payload relayed.
 * Rates are measured between two updates; nothing is printed for runs shorter than the interval.
 */
import type { SessionConsumer, SessionInfo, SessionUpdate } from './consumer.js';
import { formatCount, formatDuration, formatRate } from '../util/units.js';
import { formatBytes } from './text.js';

/** Payload bytes relayed so far (closed and open connections), for `portsniff proxy`. */
function relayedBytes(u: SessionUpdate): number {
  let n = 0;
  for (const e of u.snapshot.services) n += e.payloadBytes.toServer + e.payloadBytes.toClient;
  return n;
}

export const PROGRESS_INTERVAL_MS = 2000;

export class ProgressLine implements SessionConsumer {
  readonly updateNeeds = 'totals';
  private info: SessionInfo | null = null;
  private last: { wallMs: number; packets: number; bytes: number; bytesRead: number } | null = null;

  constructor(
    private readonly stderr: (line: string) => void,
    private readonly intervalMs: number = PROGRESS_INTERVAL_MS,
  ) {}

  start(info: SessionInfo): void {
    this.info = info;
  }

  update(u: SessionUpdate): void {
    const t = u.snapshot.totals;
    // A relay sees no frames: its rate is the payload it relays.
    const bytes = this.info?.kind === 'proxy' ? relayedBytes(u) : t.bytes;
    const now = { wallMs: u.wallMs, packets: t.packets, bytes, bytesRead: u.bytesRead };
    if (this.last === null) {
      this.last = { ...now, wallMs: this.info?.startedAt ?? u.wallMs, packets: 0, bytes: 0, bytesRead: 0 };
    }
    const dt = (now.wallMs - this.last.wallMs) / 1000;
    if (dt * 1000 < this.intervalMs || u.state !== 'running') return;
    this.stderr(progressText(this.info, u, (now.packets - this.last.packets) / dt, (now.bytes - this.last.bytes) / dt, (now.bytesRead - this.last.bytesRead) / dt));
    this.last = now;
  }
}

/** "portsniff: 1.20M packets (250k/s, 1.1 Gbit/s), 50.2k flows, 45% of capture.pcap, ETA 3 s". */
export function progressText(info: SessionInfo | null, u: SessionUpdate, packetsPerSec: number, bytesPerSec: number, readPerSec: number): string {
  const t = u.snapshot.totals;
  if (info?.kind === 'proxy') {
    // "portsniff: 1.20k connections (12 open), 35.2 MiB relayed (4.10 Mbit/s)"
    return `portsniff: ${formatCount(t.flows)} connections (${formatCount(t.liveFlows)} open), ${formatBytes(relayedBytes(u))} relayed (${formatRate(bytesPerSec * 8, 'bit')})`;
  }
  const parts = [`${formatCount(t.packets)} packets (${formatCount(packetsPerSec)}/s, ${formatRate(bytesPerSec * 8, 'bit')})`, `${formatCount(t.flows)} flows (${formatCount(t.liveFlows)} live)`];
  const total = info?.totalBytes ?? null;
  if (total !== null && total > 0) {
    const pct = Math.min(100, (100 * u.bytesRead) / total);
    const eta = readPerSec > 0 ? formatDuration((total - u.bytesRead) / readPerSec) : '?';
    parts.push(`${pct.toFixed(0)}% of ${info!.name}, ETA ${eta}`);
  }
  if (u.live !== null) {
    const n = (v: number | null): string => (v === null ? 'unknown' : formatCount(v));
    parts.push(`drops: kernel ${n(u.live.droppedByKernel)}, interface ${n(u.live.droppedByInterface)}, engine ${formatCount(u.live.engineDrops)}`);
  }
  if (u.paused) parts.push('paused');
  return `portsniff: ${parts.join(', ')}`;
}
