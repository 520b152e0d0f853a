/**
 * `portsniff proxy` as a producer with the capture pipeline's shape (pipeline/pipeline.ts
 * Pipeline): onFlow, onSnapshot/snapshot, finish() -> totals and per-service statistics, close().
 * It owns the listeners (TCP and UDP), the open connections and the counters; classification is the
 * stream classifier's (the same functions as capture mode), per-service totals are the capture
 * pipeline's ServiceStats, and flow records have the capture schema (record.ts).
 *
 * Start-up binds every listener or none: a failure (address in use, no permission) closes the ones
 * already bound and throws PSN_ERR_PROXY naming the address. stop() stops accepting and ends every
 * open connection ('shutdown'); finish() waits until each has reported its flow.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { StreamClassifier, StreamInspection } from '../classify/stream-classifier.js';
import type { Classification } from '../classify/types.js';
import { ErrorCode, PortsniffError } from '../errors.js';
import type { ClassifiedFlow, EngineTotals, ProxyListenerInfo, ProxyStats, ServiceTotals, Snapshot } from '../pipeline/results.js';
import { ServiceStats, type FlowCounts } from '../pipeline/service-stats.js';
import { PortStats, type PortStatsData } from '../pipeline/port-stats.js';
import { splitMs, systemClock, type WallClock } from './clock.js';
import { formatHostPort, type ProxyMapping } from './mapping.js';
import { ProxyDetail, type RelayRowSource } from './detail.js';
import { relayRecord, type RelayFacts } from './record.js';
import { plainAddress, resetSocket, TcpRelay, type TcpRelayHost, type TcpRelaySettings } from './tcp-relay.js';
import { UdpListener, type UdpRelayHost, type UdpSession } from './udp-relay.js';

export interface ProxyOptions {
  mappings: readonly ProxyMapping[];
  /** null: no classification (--no-rules); flows still get records and totals. */
  classifier: StreamClassifier | null;
  /** Seconds. */
  connectTimeout: number;
  idleTimeout: number;
  linger: number;
  udpIdleTimeout: number;
  maxConnections: number;
  /** Snapshots carry the dashboard's detail lists (flows, alerts, unknown ports). */
  detail?: boolean;
  snapshotIntervalMs?: number;
  /** Lines worth telling the operator (refused connections, bad PROXY headers...), rate-limited. */
  onWarning?: (line: string) => void;
  clock?: WallClock;
}

/** What finish() returns: the capture pipeline's result plus the relay counters. */
export interface ProxyResult {
  totals: EngineTotals;
  services: ServiceTotals[];
  workers: 0;
  engineDrops: 0;
  error: null;
  /** Documented upstream ports seen and undocumented ones (the summary's coverage report). */
  ports: PortStatsData;
  /** No packets, so no fast path. */
  fastRecords: 0;
  proxy: ProxyStats;
}

/** Warnings of one kind printed before the rest are only counted (in the summary). */
const WARNINGS_PER_KIND = 10;

type Live = TcpRelay | UdpSession;

export class ProxyServer implements TcpRelayHost, UdpRelayHost {
  readonly clock: WallClock;
  readonly settings: TcpRelaySettings;
  readonly udpIdleTimeoutMs: number;
  private readonly tcpServers: Array<{ server: net.Server; mapping: ProxyMapping }> = [];
  private readonly udpListeners: UdpListener[] = [];
  private readonly live = new Set<Live>();
  private readonly services = new ServiceStats();
  private readonly ports = new PortStats();
  private readonly flowCallbacks: Array<(f: ClassifiedFlow) => void> = [];
  private readonly snapshotCallbacks: Array<(s: Snapshot) => void> = [];
  private snapshotTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private readonly intervalMs: number;
  private readonly warnings = new Map<string, number>();
  private listenersInfo: ProxyListenerInfo[] = [];
  private ids = 0;
  private stopped = false;
  private startedMs = -1;
  private firstMs = -1;
  private lastMs = -1;
  private idleWaiters: Array<() => void> = [];
  private readonly detail: ProxyDetail | null;
  private readonly stats = {
    accepted: 0,
    refused: 0,
    upstreamErrors: 0,
    connectTimeouts: 0,
    proxyProtocolErrors: 0,
    toServer: 0,
    toClient: 0,
    datagramsDropped: 0,
  };

  constructor(private readonly opts: ProxyOptions) {
    this.clock = opts.clock ?? systemClock;
    this.settings = { connectTimeoutMs: opts.connectTimeout * 1000, idleTimeoutMs: opts.idleTimeout * 1000, lingerMs: opts.linger * 1000 };
    this.udpIdleTimeoutMs = opts.udpIdleTimeout * 1000;
    this.intervalMs = opts.snapshotIntervalMs ?? 250;
    this.detail = opts.detail === true ? new ProxyDetail() : null;
  }

  /** Binds every listener; returns them with the ports actually bound (listen port 0). */
  async start(): Promise<ProxyListenerInfo[]> {
    this.startedMs = this.clock();
    try {
      for (const m of this.opts.mappings) {
        if (m.transport === 'tcp') await this.listenTcp(m);
        else await this.listenUdp(m);
      }
    } catch (err) {
      await this.closeListeners();
      throw err;
    }
    // One timer for every connection's idle/linger limit (tcp-relay.ts sweep()).
    const s = this.settings;
    const sweepMs = Math.min(1000, Math.max(20, Math.min(s.idleTimeoutMs, s.lingerMs) / 5));
    this.sweepTimer = setInterval(() => {
      const now = this.clock();
      for (const c of this.live) if (c instanceof TcpRelay) c.sweep(now);
    }, sweepMs);
    this.sweepTimer.unref();
    this.listenersInfo = [
      ...this.tcpServers.map(({ server, mapping }) => listenerInfo(mapping, server.address() as net.AddressInfo)),
      ...this.udpListeners.map((l) => listenerInfo(l.mapping, l.socket.address())),
    ];
    return this.listenersInfo;
  }

  private listenTcp(m: ProxyMapping): Promise<void> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) => this.accept(m, socket));
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(m, err)));
      server.listen({ host: m.listenHost, port: m.listenPort, ipv6Only: m.listenHost === '::' ? false : undefined }, () => {
        server.removeAllListeners('error');
        // Accept errors (EMFILE, ...) must not end the run: say so and keep serving.
        server.on('error', (err) => this.warn('accept', `accept on ${formatHostPort(m.listenHost, m.listenPort)} failed: ${err.message}`));
        this.tcpServers.push({ server, mapping: m });
        resolve();
      });
    });
  }

  private listenUdp(m: ProxyMapping): Promise<void> {
    const socket = dgram.createSocket({ type: net.isIPv6(m.listenHost) ? 'udp6' : 'udp4', ipv6Only: false });
    return new Promise((resolve, reject) => {
      socket.once('error', (err: NodeJS.ErrnoException) => reject(listenError(m, err)));
      socket.bind(m.listenPort, m.listenHost, () => {
        socket.removeAllListeners('error');
        this.udpListeners.push(new UdpListener(m, socket, this));
        resolve();
      });
    });
  }

  private accept(m: ProxyMapping, socket: net.Socket): void {
    if (this.stopped) {
      resetSocket(socket);
      return;
    }
    if (this.live.size >= this.opts.maxConnections) {
      this.stats.refused++;
      this.warn('refused', `refused a connection from ${formatHostPort(plainAddress(socket.remoteAddress), socket.remotePort ?? 0)}: ${this.opts.maxConnections} connections are open (--max-connections)`);
      socket.on('error', () => {});
      resetSocket(socket);
      return;
    }
    const relay = new TcpRelay(this.nextId(), m, socket, this);
    this.started(relay);
    relay.start();
  }

  // -- hosts' callbacks (TcpRelayHost, UdpRelayHost) ------------------------------------------

  nextId(): number {
    return this.ids++;
  }

  admit(): boolean {
    if (this.stopped) return false;
    if (this.live.size >= this.opts.maxConnections) {
      this.warn('refused-udp', `a UDP datagram from a new client was dropped: ${this.opts.maxConnections} connections and sessions are open (--max-connections)`);
      return false;
    }
    return true;
  }

  started(c: Live): void {
    this.stats.accepted++;
    this.live.add(c);
    const now = this.clock();
    if (this.firstMs < 0) this.firstMs = now;
    this.lastMs = now;
  }

  inspect(transport: number, serverPort: number, clientPort: number, clientIp: string): StreamInspection | null {
    return this.opts.classifier === null ? null : this.opts.classifier.open(transport, serverPort, clientPort, clientIp);
  }

  dropped(n: number): void {
    this.stats.datagramsDropped += n;
  }

  ended(c: Live, f: RelayFacts): void {
    this.live.delete(c);
    if (f.endMs > this.lastMs) this.lastMs = f.endMs;
    this.stats.toServer += f.payloadToServer;
    this.stats.toClient += f.payloadToClient;
    const where = `${formatHostPort(f.client.ip, f.client.port)} -> ${formatHostPort(f.listener.ip, f.listener.port)}`;
    if (f.end === 'upstream-error') {
      this.stats.upstreamErrors++;
      this.warn('upstream', `${where}: upstream ${formatHostPort(f.mapping.upstreamHost, f.mapping.upstreamPort)} unreachable (${f.error ?? 'error'}); the client was reset`);
    } else if (f.end === 'connect-timeout') {
      this.stats.connectTimeouts++;
      this.warn('upstream', `${where}: ${f.error ?? 'connect timeout'}; the client was reset`);
    } else if (f.end === 'proxy-protocol-error') {
      this.stats.proxyProtocolErrors++;
      this.warn('proxy-protocol', `${where}: bad PROXY protocol header: ${f.error ?? ''}; connection reset, the proxy keeps serving others`);
    }
    // With the dashboard's lists, the closed connection's row shows its evidence like an open one's
    // (capture mode likewise builds evidence for the ended flows it lists).
    const cls = c.inspection === null ? null : this.detail !== null ? c.inspection.classification(true) : c.inspection.classification();
    this.services.addCounts(cls, countsOf(f.payloadToServer, f.payloadToClient));
    // Coverage: the upstream port is the server port; a relay counts payload, not frames.
    const payload = f.payloadToServer + f.payloadToClient;
    this.ports.add(f.transport === 'tcp' ? 6 : 17, f.mapping.upstreamPort, f.client.port, cls, c.inspection?.observedProtocol() ?? null, 0, payload, payload);
    this.detail?.ended(rowSource(c, f.client), cls, f.end, f.endMs);
    if (this.flowCallbacks.length > 0) {
      const record = relayRecord(f, cls);
      for (const cb of this.flowCallbacks) cb(record);
    }
    if (this.live.size === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
    }
  }

  /** One line per kind up to WARNINGS_PER_KIND, then one saying the rest are only counted. */
  private warn(kind: string, line: string): void {
    const n = (this.warnings.get(kind) ?? 0) + 1;
    this.warnings.set(kind, n);
    if (this.opts.onWarning === undefined) return;
    if (n <= WARNINGS_PER_KIND) this.opts.onWarning(line);
    else if (n === WARNINGS_PER_KIND + 1) this.opts.onWarning(`more of these (${kind}) are counted in the summary, not printed`);
  }

  // -- the Pipeline shape -----------------------------------------------------------------------

  onFlow(cb: (flow: ClassifiedFlow) => void): void {
    this.flowCallbacks.push(cb);
  }

  onSnapshot(cb: (s: Snapshot) => void): void {
    this.snapshotCallbacks.push(cb);
    if (this.snapshotTimer === null) {
      this.snapshotTimer = setInterval(() => {
        const s = this.snapshot();
        for (const c of this.snapshotCallbacks) c(s);
      }, this.intervalMs);
      this.snapshotTimer.unref();
    }
  }

  /** Ended connections plus the open ones as they are now (their verdict so far). */
  snapshot(): Snapshot {
    const withDetail = this.detail !== null;
    const live: Array<readonly [Classification | null, FlowCounts]> = [];
    const rows: Array<readonly [RelayRowSource, Classification | null]> = [];
    for (const c of this.live) {
      const cls = c.inspection === null ? null : c.inspection.classification(withDetail);
      live.push([cls, countsOf(c.payloadToServer, c.payloadToClient)]);
      if (withDetail) rows.push([rowSource(c, c.client), cls]);
    }
    const takenAt = Date.now();
    return {
      takenAt,
      workers: 0,
      totals: this.totals(),
      services: this.services.listWithLiveCounts(live),
      engineDrops: 0,
      inFlightChunks: 0,
      ...(withDetail ? { detail: this.detail!.snapshot(rows, this.clock()) } : {}),
    };
  }

  /**
   * The capture pipeline's totals: connections are flows; a relay sees no packets or frames, so
   * `packets` is 0 and `bytes` the payload relayed (closed and open connections).
   */
  totals(): EngineTotals {
    let relayed = this.stats.toServer + this.stats.toClient;
    for (const c of this.live) relayed += c.payloadToServer + c.payloadToClient;
    const [firstSec, firstNsec] = this.firstMs < 0 ? [-1, 0] : splitMs(this.firstMs);
    const [lastSec, lastNsec] = this.lastMs < 0 ? [-1, 0] : splitMs(this.lastMs);
    return {
      packets: 0,
      bytes: relayed,
      capturedBytes: 0,
      truncatedFrames: 0,
      notIp: 0,
      unattributed: 0,
      flows: this.stats.accepted,
      liveFlows: this.live.size,
      evictedFlows: 0,
      anomalies: {},
      packetsByLinkType: {},
      firstSec,
      firstNsec,
      lastSec,
      lastNsec,
    };
  }

  proxyStats(): ProxyStats {
    let toServer = this.stats.toServer;
    let toClient = this.stats.toClient;
    for (const c of this.live) {
      toServer += c.payloadToServer;
      toClient += c.payloadToClient;
    }
    const o = this.opts;
    return {
      listeners: this.listenersInfo,
      accepted: this.stats.accepted,
      refused: this.stats.refused,
      open: this.live.size,
      upstreamErrors: this.stats.upstreamErrors,
      connectTimeouts: this.stats.connectTimeouts,
      proxyProtocolErrors: this.stats.proxyProtocolErrors,
      payloadBytes: { toServer, toClient },
      datagramsDropped: this.stats.datagramsDropped,
      elapsedSec: this.startedMs < 0 ? 0 : Math.round(this.clock() - this.startedMs) / 1000,
      options: { connectTimeout: o.connectTimeout, idleTimeout: o.idleTimeout, linger: o.linger, udpIdleTimeout: o.udpIdleTimeout, maxConnections: o.maxConnections },
    };
  }

  /** Open connections and UDP sessions now. */
  get openConnections(): number {
    return this.live.size;
  }

  /** Stops accepting and ends every open connection ('shutdown'); their flows follow as they close. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const { server } of this.tcpServers) server.close();
    for (const l of this.udpListeners) l.shutdown();
    for (const c of [...this.live]) {
      if (c instanceof TcpRelay) c.shutdown();
      else c.end('shutdown', null);
    }
  }

  /** Stops (if not yet) and resolves with the totals once every connection has reported its flow. */
  async finish(): Promise<ProxyResult> {
    this.stop();
    if (this.live.size > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    this.stopTimer();
    return { totals: this.totals(), services: this.services.list(), workers: 0, engineDrops: 0, error: null, ports: this.ports.toData(), fastRecords: 0, proxy: this.proxyStats() };
  }

  private stopTimer(): void {
    if (this.snapshotTimer !== null) clearInterval(this.snapshotTimer);
    this.snapshotTimer = null;
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  private async closeListeners(): Promise<void> {
    await Promise.all(this.tcpServers.map(({ server }) => new Promise<void>((r) => server.close(() => r()))));
    for (const l of this.udpListeners) l.shutdown();
  }

  async close(): Promise<void> {
    this.stop();
    this.stopTimer();
    await this.closeListeners();
  }
}

/** A connection as the detail lists see it (the upstream as connected, else as configured). */
function rowSource(c: Live, client: { ip: string; port: number }): RelayRowSource {
  const m = c.mapping;
  return {
    id: c.id,
    transport: m.transport,
    client,
    server: { ip: c.upstreamIp ?? m.upstreamHost, port: m.upstreamPort },
    startMs: c.startMs,
    payloadToServer: c.payloadToServer,
    payloadToClient: c.payloadToClient,
  };
}

/**
 * A relayed flow's counts: no packets; its bytes are the payload relayed (a relay sees no frames),
 * so per-service byte totals, rates and shares mean the relayed volume in proxy mode.
 */
function countsOf(toServer: number, toClient: number): FlowCounts {
  return { packetsToServer: 0, packetsToClient: 0, bytesToServer: toServer, bytesToClient: toClient, payloadToServer: toServer, payloadToClient: toClient };
}

function listenerInfo(m: ProxyMapping, a: net.AddressInfo | { address: string; port: number }): ProxyListenerInfo {
  return {
    transport: m.transport,
    listen: { ip: plainAddress(a.address), port: a.port },
    upstream: { host: m.upstreamHost, port: m.upstreamPort },
    proxyProtocolIn: m.proxyProtocolIn,
    proxyProtocolOut: m.proxyProtocolOut,
  };
}

function listenError(m: ProxyMapping, err: NodeJS.ErrnoException): PortsniffError {
  const where = `${m.transport} ${formatHostPort(m.listenHost, m.listenPort)} (${m.origin})`;
  const why =
    err.code === 'EADDRINUSE'
      ? 'the address is in use (another process listens there)'
      : err.code === 'EACCES'
        ? 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)'
        : err.code === 'EADDRNOTAVAIL'
          ? 'no interface has this address'
          : err.message;
  return new PortsniffError(ErrorCode.Proxy, `cannot listen on ${where}: ${why}`);
}
