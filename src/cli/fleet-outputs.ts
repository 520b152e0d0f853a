/**
 * The sensor's outputs to the rest of a fleet's monitoring, opened before the capture starts so
 * that a port in use or an unreachable collector is a clear error before any packet: `--metrics`
 * (Prometheus /metrics), `--ipfix` (flow records to a collector), `--alerts` (NDJSON) and the
 * alert bookkeeping `--fail-on` needs. Each is a SessionConsumer; the session drives them like any
 * other output.
 */
import type { AlertKind } from '../pipeline/results.js';
import { AlertsConsumer } from '../export/alerts.js';
import type { SessionConsumer, SessionEnd, SessionUpdate } from '../export/consumer.js';
import { IpfixExporter, type IpfixTarget } from '../export/ipfix.js';
import type { LineWriter } from '../export/line-writer.js';
import { openOutputFile } from './output-file.js';
import { MetricsServer, type MetricsAddress } from '../export/metrics-server.js';
import { PortsniffError } from '../errors.js';
import type { CliIo } from './io.js';
import { packageVersion } from './version.js';

/** The kinds --fail-on accepts and the alert kind each one means. */
export const FAIL_ON_KINDS: Record<string, AlertKind> = {
  exposure: 'exposure-violation',
  mismatch: 'mismatch',
  undocumented: 'undocumented-port',
};

export interface FleetOptions {
  metrics?: MetricsAddress;
  /** Seconds to keep /metrics up after the end, until one scrape has read the final figures. */
  metricsLinger?: number;
  ipfix?: IpfixTarget;
  /** --alerts PATH or '-' (stdout). */
  alerts?: string;
  failOn?: AlertKind[];
}

/**
 * Whether these outputs read finished flow records (the session then asks the engine for them):
 * IPFIX and alerts do; metrics only adds flows up (SessionConsumer.tally).
 */
export function fleetWantsFlows(o: FleetOptions | undefined): boolean {
  return o !== undefined && (o.ipfix !== undefined || o.alerts !== undefined || (o.failOn?.length ?? 0) > 0);
}

export interface FleetOutputs {
  /** In finish order: metrics and IPFIX, then the alerts. */
  consumers: SessionConsumer[];
  /** The writers SIGHUP reopens (besides the flow log). */
  reopenable: LineWriter[];
  /** Every writer of these outputs (stdout included), for the periodic flush of live sessions. */
  writers: LineWriter[];
  /** The --alerts file's writer (null for stdout or none): --flows naming the same file shares it. */
  alertsFile: LineWriter | null;
  /** Exit code 3 when --fail-on kinds were raised; a line on stderr says which. */
  failOnCode(): number;
  /** After every consumer finished: wait for the final scrape (--metrics-linger), close servers. */
  close(signal: AbortSignal): Promise<void>;
}

export async function openFleetOutputs(o: FleetOptions, io: CliIo): Promise<FleetOutputs> {
  const consumers: SessionConsumer[] = [];
  const reopenable: LineWriter[] = [];
  const writers: LineWriter[] = [];
  let server: MetricsServer | null = null;
  let metrics: import('../export/metrics.js').MetricsConsumer | null = null;
  let ipfix: IpfixExporter | null = null;
  try {
    if (o.metrics !== undefined) {
      // prom-client takes ~140 ms to load: only runs that serve metrics pay it.
      const { MetricsConsumer } = await import('../export/metrics.js');
      metrics = new MetricsConsumer({ version: packageVersion() });
      server = await MetricsServer.listen(o.metrics, metrics);
      io.stderr(server.describe());
      consumers.push(metrics);
    }
    if (o.ipfix !== undefined) {
      ipfix = await IpfixExporter.open({ ...o.ipfix, onWarning: (w) => io.stderr(`portsniff: warning: ${w}`) });
      io.stderr(`portsniff: IPFIX flow records to ${o.ipfix.host}:${o.ipfix.port} (UDP)`);
      consumers.push(ipfix);
    }
  } catch (err) {
    await server?.close();
    await ipfix?.close();
    throw err;
  }
  let alerts: AlertsConsumer | null = null;
  let alertsFile: LineWriter | null = null;
  if (o.alerts !== undefined || (o.failOn?.length ?? 0) > 0) {
    let writer: LineWriter | null = null;
    if (o.alerts === '-') writer = io.stdout;
    else if (o.alerts !== undefined) {
      try {
        writer = await openOutputFile(o.alerts, '--alerts', io);
      } catch (err) {
        await server?.close();
        await ipfix?.close();
        throw err;
      }
      reopenable.push(writer);
      alertsFile = writer;
    }
    const w = writer;
    if (w !== null) writers.push(w);
    alerts = new AlertsConsumer(w === null ? {} : { write: (line) => w.writeLine(line), flush: () => w.flush() });
    consumers.push(alerts);
    if (w !== null && w !== io.stdout) consumers.push({ finish: () => w.close(), abort: () => w.close() });
  }
  return {
    consumers,
    reopenable,
    writers,
    alertsFile,
    failOnCode(): number {
      const kinds = o.failOn ?? [];
      if (alerts === null || kinds.length === 0 || !alerts.raised(kinds)) return 0;
      const counts = kinds.filter((k) => alerts!.flowsByKind[k] > 0).map((k) => `${alerts!.flowsByKind[k]} ${k} flow${alerts!.flowsByKind[k] === 1 ? '' : 's'}`);
      io.stderr(`portsniff: --fail-on: ${counts.join(', ')} (exit 3)`);
      return 3;
    },
    async close(signal: AbortSignal): Promise<void> {
      if (server !== null) {
        const linger = o.metricsLinger ?? 0;
        if (linger > 0 && !signal.aborted) {
          io.stderr(`portsniff: keeping ${server.url} up for a final scrape (at most ${linger} s, --metrics-linger)`);
          await server.waitForFinalScrape(linger * 1000, signal);
        }
        await server.close();
      }
      await ipfix?.close();
    },
  };
}

/**
 * Flushes the given writers at most once a second, driven by session updates: a live sensor's or
 * a proxy's flow log and alerts are written as they grow (tail -f, log shippers), not in 64 KiB
 * steps. A FIFO without a reader looks for its next one then (LineWriter.awaitNextReader).
 */
export class PeriodicFlush implements SessionConsumer {
  readonly updateNeeds = 'totals';
  private last = 0;
  constructor(private readonly writers: LineWriter[]) {}
  update(u: SessionUpdate): void {
    if (u.wallMs - this.last < 1000) return;
    this.last = u.wallMs;
    for (const w of this.writers) w.flush();
  }
  finish(_end: SessionEnd): void {}
}

/** Reopens files for logrotate; a path that cannot be opened keeps the old file and says so. */
export function reopenWriters(writers: readonly LineWriter[], io: CliIo): void {
  for (const w of writers) {
    try {
      w.reopen();
    } catch (err) {
      io.stderr(`portsniff: warning: SIGHUP: ${err instanceof PortsniffError ? err.message : String(err)}; still writing to the old file`);
    }
  }
}
