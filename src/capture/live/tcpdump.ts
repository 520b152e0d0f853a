/**
 * The default live backend: an external tcpdump writing a pcap stream to its stdout, read by our
 * own parser (`tcpdump -i IFACE -w - -U --immediate-mode -n -s SNAPLEN -B KiB [-p] [-c N] [BPF]`;
 * -B defaults to 64 MiB, 256 MiB on lo: see defaultBufferKiB).
 *
 * Why a child process: tcpdump opens the device with the privileges it has (root, or file
 * capabilities set with setcap) and drops them afterwards; Node itself needs none. -U flushes
 * every packet to the pipe, --immediate-mode delivers packets as they arrive instead of when a
 * kernel block fills. When we are slower than the link, the pipe fills, tcpdump blocks, the
 * kernel ring fills and the kernel counts the drops: nothing is lost silently.
 *
 * Statistics come from tcpdump's stderr: "N packets captured, N packets received by filter,
 * N packets dropped by kernel[, N packets dropped by interface]" (one line on SIGUSR1, one line
 * per counter at exit). "received by filter" is not a packet count: on lo the kernel sees every
 * packet twice (outgoing and incoming copies) and libpcap discards the outgoing one.
 *
 * Stopping: SIGUSR1 (a last statistics line) then SIGINT; tcpdump stops its loop, flushes its
 * output and exits 0, and we read its stdout to the end, so everything it captured is parsed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LiveCounters, CaptureReadResult, FrameSink, LiveStats } from '../types.js';
import { LiveControl, type StopReason } from './control.js';
import { LiveCaptureError, TCPDUMP_INSTALL_HINT, classifyCaptureFailure, withLivePartial } from './errors.js';
import { defaultBufferKiB, isLoopbackInterface, linkTypeFromDltName } from './link-types.js';
import { PcapStreamFeeder, discardWriteFile, openWriteFile } from './pcap-stream.js';
import type { FlowClockTick, LiveCaptureOptions, LiveReadResult, LiveSource } from './types.js';

/** How long a tcpdump that exited cleanly on its own waits for this process's own Ctrl-C. */
const SELF_EXIT_GRACE_MS = 200;
/** How long tcpdump gets to exit after a stop request before it is killed. */
const STOP_GRACE_MS = 5000;
/** Least time between two statistics requests (SIGUSR1) while counters() is read. */
const STATS_ASK_MS = 2000;
/** Drain before SIGINT: wait for this much silence on tcpdump's stdout ... */
const DRAIN_QUIET_MS = 40;
/** ... but not longer than this on a busy link. */
const DRAIN_MAX_MS = 500;
/** Directories searched after $PATH: tcpdump lives in sbin on several distributions. */
const EXTRA_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** Counters from tcpdump's statistics lines (null = not printed). */
export interface TcpdumpStats {
  captured: number | null;
  receivedByFilter: number | null;
  droppedByKernel: number | null;
  droppedByInterface: number | null;
}

export function emptyTcpdumpStats(): TcpdumpStats {
  return { captured: null, receivedByFilter: null, droppedByKernel: null, droppedByInterface: null };
}

const STAT_RE = /(\d+) packets? (captured|received by filter|dropped by kernel|dropped by interface)/g;

/**
 * Reads the counters in one stderr line into `stats` (kernel counters only grow, so a later line
 * never lowers a value). Returns true when the line was a statistics line.
 */
export function parseTcpdumpStatsLine(line: string, stats: TcpdumpStats): boolean {
  let found = false;
  for (const m of line.matchAll(STAT_RE)) {
    found = true;
    const n = Number(m[1]);
    const key: keyof TcpdumpStats =
      m[2] === 'captured' ? 'captured' : m[2] === 'received by filter' ? 'receivedByFilter' : m[2] === 'dropped by kernel' ? 'droppedByKernel' : 'droppedByInterface';
    stats[key] = Math.max(stats[key] ?? 0, n);
  }
  return found;
}

/** "tcpdump: listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes" (4.99; older: "capture size"). */
const LISTENING_RE = /^tcpdump: listening on (\S+), link-type (\S+)(?: \([^)]*\))?, (?:snapshot length|capture size) (\d+) bytes/;

export function parseListeningLine(line: string): { iface: string; dltName: string; snaplen: number } | null {
  const m = LISTENING_RE.exec(line);
  return m === null ? null : { iface: m[1]!, dltName: m[2]!, snaplen: Number(m[3]) };
}

/** The exact command line (without the program). */
export function tcpdumpArgs(opts: LiveCaptureOptions): string[] {
  const args = ['-i', opts.interface, '-w', '-', '-U', '--immediate-mode', '-n', '-s', String(opts.snaplen)];
  args.push('-B', String(opts.bufferSizeKiB ?? defaultBufferKiB(opts.interface)));
  if (!opts.promisc) args.push('-p');
  if (opts.count !== undefined) args.push('-c', String(opts.count));
  if (opts.filter !== undefined && opts.filter.trim() !== '') args.push(opts.filter);
  return args;
}

/**
 * Where tcpdump is: $PORTSNIFF_TCPDUMP if set (it need not exist: then "not installed"), else the
 * first executable `tcpdump` in $PATH, /usr/sbin, /sbin, /usr/local/sbin. null when there is none.
 */
export function findTcpdump(env: NodeJS.ProcessEnv = process.env): string | null {
  const forced = env['PORTSNIFF_TCPDUMP'];
  if (forced !== undefined && forced !== '') return isExecutable(forced) ? forced : null;
  const dirs = [...(env['PATH'] ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, 'tcpdump');
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The one-line error for a missing tcpdump. */
export function tcpdumpMissingError(env: NodeJS.ProcessEnv = process.env): LiveCaptureError {
  const forced = env['PORTSNIFF_TCPDUMP'];
  const where = forced ? `not found at ${forced} (PORTSNIFF_TCPDUMP)` : 'not installed (not in PATH, /usr/sbin or /sbin)';
  return new LiveCaptureError('backend-missing', `tcpdump is ${where}: ${TCPDUMP_INSTALL_HINT}`);
}

export class TcpdumpSource implements LiveSource {
  readonly backend = 'tcpdump' as const;
  private readonly opts: LiveCaptureOptions;
  private readonly binary: string;
  private child: ChildProcess | null = null;
  private opening: Promise<void> | null = null;
  private closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;
  private exited = false;
  private ready: { iface: string; dltName: string; snaplen: number } | null = null;
  private abortedBeforeReady = false;
  private readonly stderrLines: string[] = [];
  private readonly stats = emptyTcpdumpStats();
  /** stdout chunks that arrived before start() attached the parser. */
  private pending: Buffer[] = [];
  private onData: ((chunk: Buffer) => void) | null = null;
  private killTimer: NodeJS.Timeout | null = null;
  private writeFd: number | null = null;
  private lastDataMs = 0;
  /** The running capture's parser (counters() reads its packet count). */
  private feeder: PcapStreamFeeder | null = null;
  private lastStatsAskMs = -Infinity;
  private readonly exitHook = (): void => {
    this.child?.kill('SIGTERM');
  };

  constructor(opts: LiveCaptureOptions, binary: string) {
    this.opts = opts;
    this.binary = binary;
  }

  open(signal?: AbortSignal): Promise<void> {
    this.opening ??= this.doOpen(signal);
    return this.opening;
  }

  private doOpen(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) {
      this.abortedBeforeReady = true;
      return Promise.resolve();
    }
    // The --write file first: failing there must not leave a capture running.
    if (this.opts.writePath !== undefined && this.writeFd === null) {
      try {
        this.writeFd = openWriteFile(this.opts.writePath);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    let child: ChildProcess;
    try {
      child = spawn(this.binary, tcpdumpArgs(this.opts), { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      this.discardWriteFile();
      return Promise.reject(this.spawnError(err));
    }
    this.child = child;
    process.once('exit', this.exitHook);
    child.stdout!.on('data', (chunk: Buffer) => {
      this.lastDataMs = performance.now();
      if (this.onData !== null) this.onData(chunk);
      else this.pending.push(chunk);
    });
    let spawnFailure: unknown = null;
    this.closed = new Promise((resolve) => {
      child.once('error', (err) => {
        // spawn failures (ENOENT, EACCES) arrive here, and 'close' follows.
        spawnFailure = err;
      });
      child.once('close', (code, sig) => {
        this.exited = true;
        process.removeListener('exit', this.exitHook);
        if (this.killTimer !== null) clearTimeout(this.killTimer);
        resolve({ code, signal: sig });
      });
    });

    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err: unknown): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (err === null) return resolve();
        this.discardWriteFile();
        reject(err);
      };
      const onAbort = (): void => {
        if (this.ready !== null) return;
        this.abortedBeforeReady = true;
        child.kill('SIGTERM');
        settle(null);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      let partialLine = '';
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (text: string) => {
        const parts = (partialLine + text).split('\n');
        partialLine = parts.pop() ?? '';
        for (const line of parts) this.stderrLine(line, () => settle(null));
      });
      child.stderr!.on('end', () => {
        if (partialLine !== '') this.stderrLine(partialLine, () => settle(null));
        partialLine = '';
      });
      void this.closed!.then(({ code, signal: sig }) => {
        // A Ctrl-C in a terminal reaches tcpdump too (same process group): not a failure.
        if (this.ready !== null || this.abortedBeforeReady || signal?.aborted === true) return settle(null);
        if (spawnFailure !== null) return settle(this.spawnError(spawnFailure));
        // It exited before listening: the device, the permission or the filter was refused.
        const text = this.stderrLines.join('\n');
        if (code === 0 && text === '') return settle(null);
        const why = text !== '' ? text : sig !== null ? `tcpdump was killed by ${sig}` : `tcpdump exited with status ${code}`;
        settle(classifyCaptureFailure('tcpdump', this.opts.interface, this.opts.filter, why));
      });
    });
  }

  private discardWriteFile(): void {
    if (this.writeFd === null) return;
    discardWriteFile(this.writeFd, this.opts.writePath!);
    this.writeFd = null;
  }

  private stderrLine(raw: string, onReady: () => void): void {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    if (parseTcpdumpStatsLine(line, this.stats)) return;
    const listening = parseListeningLine(line);
    if (listening !== null) {
      this.ready = listening;
      this.opts.onReady?.({
        backend: 'tcpdump',
        interface: this.opts.interface,
        linkTypeName: listening.dltName,
        snaplen: listening.snaplen,
      });
      onReady();
      return;
    }
    if (/^tcpdump: WARNING/.test(line)) {
      this.opts.onWarning?.(line.replace(/^tcpdump: /, 'tcpdump: '));
      return;
    }
    this.stderrLines.push(line);
  }

  private spawnError(err: unknown): LiveCaptureError {
    const code = (err as NodeJS.ErrnoException | null)?.code;
    if (code === 'ENOENT') return tcpdumpMissingError();
    return new LiveCaptureError('backend-failed', `cannot run ${this.binary}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }

  async start(sink: FrameSink, signal: AbortSignal, tick?: FlowClockTick): Promise<LiveReadResult> {
    const control = new LiveControl(signal, (reason) => this.stopChild(reason));
    await this.open(signal);
    const writeFd = this.writeFd;
    const feeder = new PcapStreamFeeder(sink, `tcpdump -i ${this.opts.interface}`, writeFd === null ? null : { fd: writeFd, path: this.opts.writePath! });
    this.feeder = feeder;
    let failure: unknown = null;
    try {
      if (this.child === null || this.abortedBeforeReady) {
        await this.closed;
        return this.finishResult(feeder, control, true);
      }
      const push = (chunk: Buffer): void => {
        if (failure !== null) return;
        try {
          feeder.push(chunk, 0, chunk.length);
        } catch (err) {
          failure = err;
          control.stop('error');
        }
      };
      for (const chunk of this.pending) push(chunk);
      this.pending = [];
      this.onData = push;
      control.arm(this.opts.durationSec, tick);
      const { code, signal: sig } = await this.closed!;
      control.dispose();
      if (failure === null) {
        try {
          feeder.finish();
        } catch (err) {
          failure = err;
        }
      }
      if (failure !== null) throw this.withPartial(failure, feeder, control);
      // Ctrl-C in a terminal also reaches tcpdump directly; it may exit before we ask it to.
      const stoppedByUs = control.stopReason !== null || signal.aborted;
      if (!stoppedByUs && code !== 0) {
        // It died on its own while capturing (interface gone, a crash).
        const text = this.stderrLines.join('\n');
        const why = text !== '' ? text : sig !== null ? `tcpdump was killed by ${sig}` : `tcpdump exited with status ${code}`;
        throw this.withPartial(classifyCaptureFailure('tcpdump', this.opts.interface, this.opts.filter, why), feeder, control);
      }
      if (!stoppedByUs && this.opts.count === undefined) {
        // Status 0, not asked to stop and no --count: someone sent tcpdump SIGINT or SIGTERM (its
        // clean exit). A terminal's Ctrl-C reaches tcpdump and this process together: give this
        // process's own handler a moment to say so before calling it a failure.
        await new Promise((resolve) => setTimeout(resolve, SELF_EXIT_GRACE_MS));
        if (!signal.aborted) {
          const why = 'tcpdump ended by itself (exit status 0) without being asked to stop: was it sent SIGINT or SIGTERM?';
          throw this.withPartial(classifyCaptureFailure('tcpdump', this.opts.interface, this.opts.filter, why), feeder, control);
        }
      }
      if (!stoppedByUs) control.stopReason = this.opts.count !== undefined ? 'count' : 'backend';
      return this.finishResult(feeder, control, signal.aborted);
    } finally {
      control.dispose();
      if (writeFd !== null) fs.closeSync(writeFd);
      this.writeFd = null;
      if (!this.exited) this.child?.kill('SIGKILL');
    }
  }

  /**
   * Counters while capturing. Kernel drops come from tcpdump's statistics line, which it prints on
   * SIGUSR1 and keeps capturing: asked for at most every STATS_ASK_MS while someone reads them, so
   * the numbers shown are at most that old (null until the first answer).
   */
  counters(): LiveCounters | null {
    const feeder = this.feeder;
    if (feeder === null) return null;
    const now = performance.now();
    if (this.ready !== null && !this.exited && now - this.lastStatsAskMs >= STATS_ASK_MS) {
      this.lastStatsAskMs = now;
      this.child?.kill('SIGUSR1');
    }
    const s = this.stats;
    const seen = s.captured !== null || s.droppedByKernel !== null;
    return {
      captured: feeder.packets,
      droppedByKernel: s.droppedByKernel,
      droppedByInterface: s.droppedByInterface ?? (seen ? 0 : null),
      // Packets tcpdump counted that have not reached us are in flight, not lost, while it runs.
      engineDrops: 0,
    };
  }

  private stopChild(reason: StopReason): void {
    const child = this.child;
    if (child === null || this.exited) return;
    this.killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    this.killTimer.unref();
    if (this.ready === null || reason === 'error') {
      child.kill('SIGTERM');
      return;
    }
    // A last statistics line (SIGUSR1 is installed by the time tcpdump says "listening").
    child.kill('SIGUSR1');
    // Drain: tcpdump's SIGINT handler breaks its loop at once, and whatever is still in the kernel
    // ring is never read. Let it read what arrived before the stop (until its output has been
    // quiet for DRAIN_QUIET_MS, at most DRAIN_MAX_MS), then stop it: it flushes and exits 0.
    const began = performance.now();
    const poll = (): void => {
      if (this.exited) return;
      const now = performance.now();
      if (now - this.lastDataMs >= DRAIN_QUIET_MS || now - began >= DRAIN_MAX_MS) child.kill('SIGINT');
      else setTimeout(poll, DRAIN_QUIET_MS / 2);
    };
    setTimeout(poll, DRAIN_QUIET_MS / 2);
  }

  private finishResult(feeder: PcapStreamFeeder, control: LiveControl, aborted: boolean): LiveReadResult {
    const base = feeder.result();
    const live = this.liveStats(base, control);
    annotateInterface(base, live);
    const r: LiveReadResult = { ...base, live };
    if (aborted) r.aborted = true;
    return r;
  }

  private liveStats(base: CaptureReadResult, control: LiveControl): LiveStats {
    const s = this.stats;
    const statsSeen = s.captured !== null || s.droppedByKernel !== null;
    const fromFile = base.info.interfaces[0];
    const notes: string[] = [];
    const iface = this.opts.interface;
    if (iface === 'any' || isLoopbackInterface(iface)) {
      notes.push(
        'the kernel sees each packet on lo twice (outgoing and incoming copy) and counts both: "received by filter" is not the packet count, and kernel drops may include outgoing copies libpcap discards anyway',
      );
    }
    if (!statsSeen) notes.push('tcpdump printed no statistics: kernel drop counts are unknown');
    return {
      backend: 'tcpdump',
      interface: iface,
      linkType: fromFile?.linkType ?? (this.ready ? linkTypeFromDltName(this.ready.dltName) : -1),
      snaplen: fromFile?.snaplen ?? this.ready?.snaplen ?? this.opts.snaplen,
      captured: base.packets,
      droppedByKernel: s.droppedByKernel,
      // tcpdump prints "dropped by interface" only when it is not 0.
      droppedByInterface: s.droppedByInterface ?? (statsSeen ? 0 : null),
      engineDrops: s.captured !== null ? Math.max(0, s.captured - base.packets) : 0,
      elapsedSec: control.elapsedSec(),
      notes,
    };
  }

  private withPartial(err: unknown, feeder: PcapStreamFeeder, control: LiveControl): unknown {
    return withLivePartial(err, this.finishResult(feeder, control, false));
  }

}

/** Names the interface and puts the kernel counters where the summary shows interface stats. */
export function annotateInterface(result: CaptureReadResult, live: LiveStats): void {
  const first = result.info.interfaces[0];
  if (first === undefined) {
    if (live.linkType >= 0) {
      result.info.interfaces.push({ id: 0, linkType: live.linkType, snaplen: live.snaplen, tsUnitsPerSecond: 1e6, name: live.interface });
    }
    return;
  }
  first.name = live.interface;
  if (live.droppedByKernel !== null || live.droppedByInterface !== null) {
    first.stats = {};
    if (live.droppedByKernel !== null) first.stats.droppedByOs = live.droppedByKernel;
    if (live.droppedByInterface !== null) first.stats.droppedByInterface = live.droppedByInterface;
  }
}
