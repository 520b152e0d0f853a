/**
 * One relayed TCP connection: client socket (accepted by a listener) <-> upstream socket.
 *
 * Bytes are relayed unchanged and never wait for classification: each read is written to the
 * other side at once, and the first message of each direction is copied aside for the stream
 * classifier while it still wants bytes.
 *
 * TCP behaviour:
 * - Half-close both ways (allowHalfOpen): a FIN from one side becomes a FIN to the other, and the
 *   other direction keeps flowing (a server answering after the client's FIN still reaches it).
 * - Backpressure: when a write is buffered (write() returns false) the source is paused until the
 *   destination drains, so a stalled reader makes the kernel windows fill, not portsniff's memory
 *   (at most about one read plus the stream high-water marks per direction).
 * - Timeouts: connect (upstream not connected in time: the client is reset), idle (no byte either
 *   way), linger (after a half-close, the remaining direction's inactivity limit), PROXY header
 *   (listeners that take one: the header must arrive within the connect timeout).
 * - A reset on one side resets the other; an upstream that cannot be reached resets the client.
 * Every way out ends in finish(), which reports the connection's facts exactly once.
 */
import net from 'node:net';
import type { StreamInspection } from '../classify/stream-classifier.js';
import type { Endpoint, RelayClose } from '../pipeline/results.js';
import type { WallClock } from './clock.js';
import { formatHostPort, type ProxyMapping } from './mapping.js';
import { encodeProxyHeader, MAX_PROXY_HEADER, parseProxyHeader } from './proxy-protocol.js';
import type { RelayEnd, RelayFacts } from './record.js';

export interface TcpRelaySettings {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  lingerMs: number;
}

/** What a relay needs from its server. */
export interface TcpRelayHost {
  readonly settings: TcpRelaySettings;
  readonly clock: WallClock;
  /** Starts classification once the real client is known (null: classification off). */
  inspect(transport: number, serverPort: number, clientPort: number, clientIp: string): StreamInspection | null;
  /** Called once, when both sockets are closed. */
  ended(relay: TcpRelay, facts: RelayFacts): void;
}

/** `::ffff:a.b.c.d` (a dual-stack socket's IPv4 peer) as plain IPv4. */
export function plainAddress(ip: string | undefined): string {
  if (ip === undefined) return '';
  return ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

export class TcpRelay {
  upstream: net.Socket | null = null;
  readonly startMs: number;
  peer: Endpoint;
  client: Endpoint;
  readonly listener: Endpoint;
  upstreamIp: string | null = null;
  proxyProtocolIn: 'v1' | 'v2' | null = null;
  connectMs: number | null = null;
  payloadToServer = 0;
  payloadToClient = 0;
  firstToServerMs = -1;
  firstToClientMs = -1;
  clientClose: RelayClose | null = null;
  serverClose: RelayClose | null = null;
  inspection: StreamInspection | null = null;
  private endReason: RelayEnd | null = null;
  private error: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private clientClosed = false;
  private upstreamClosed = true; // until there is an upstream socket
  private finished = false;
  private halfClosed = false;
  /** Reads relayed so far; the idle sweep compares it with the value it saw last time. */
  private activity = 0;
  private seenActivity = 0;
  private quietSinceMs = 0;
  /** 'header': reading a PROXY header; 'connecting'; 'relaying'. */
  private phase: 'header' | 'connecting' | 'relaying' = 'connecting';
  /** Client bytes read while waiting for the PROXY header (then: the bytes after it). */
  private pending: Buffer | null = null;

  constructor(
    readonly id: number,
    readonly mapping: ProxyMapping,
    readonly socket: net.Socket,
    private readonly host: TcpRelayHost,
  ) {
    this.startMs = host.clock();
    this.peer = { ip: plainAddress(socket.remoteAddress), port: socket.remotePort ?? 0 };
    this.client = this.peer;
    this.listener = { ip: plainAddress(socket.localAddress), port: socket.localPort ?? 0 };
    socket.setNoDelay(true);
    socket.on('error', (err: NodeJS.ErrnoException) => this.clientError(err));
    // Registered once, up front: an EOF read together with the last bytes of a PROXY header (or
    // while the upstream is connecting) is emitted before the relay stage begins.
    socket.on('end', () => this.clientEnded());
    socket.on('close', () => {
      this.clientClosed = true;
      if (this.clientClose === null) this.clientClose = 'proxy';
      this.maybeFinish();
    });
  }

  /** Begins the connection: read the PROXY header first when the listener takes one. */
  start(): void {
    if (this.mapping.proxyProtocolIn) this.readProxyHeader();
    else this.connect();
  }

  // -- PROXY protocol in ------------------------------------------------------------------------

  private readProxyHeader(): void {
    const s = this.socket;
    this.phase = 'header';
    this.arm(this.host.settings.connectTimeoutMs, () => this.refuse('proxy-protocol-error', `no complete PROXY protocol header within ${seconds(this.host.settings.connectTimeoutMs)}`));
    const onData = (chunk: Buffer): void => {
      const buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
      const r = parseProxyHeader(buf, 0, buf.length);
      if (r.kind === 'more') {
        this.pending = buf;
        if (buf.length > MAX_PROXY_HEADER) this.refuse('proxy-protocol-error', 'PROXY protocol header too long');
        return;
      }
      s.off('data', onData);
      s.pause();
      if (r.kind === 'bad') {
        this.pending = null;
        this.refuse('proxy-protocol-error', r.message);
        return;
      }
      this.proxyProtocolIn = r.header.version;
      if (r.header.source !== null) this.client = r.header.source;
      this.pending = buf.length > r.length ? buf.subarray(r.length) : null;
      this.connect();
    };
    s.on('data', onData);
    s.resume();
  }

  /** The client's FIN, whatever the phase. */
  private clientEnded(): void {
    this.clientClose = 'fin';
    if (this.phase === 'header') {
      this.refuse('proxy-protocol-error', this.pending === null ? 'closed before sending a PROXY protocol header' : 'closed inside the PROXY protocol header');
    } else if (this.phase === 'relaying') {
      this.upstream!.end();
      this.halfClose();
    }
    // 'connecting': connected() passes the FIN on after the early bytes.
  }

  // -- upstream -----------------------------------------------------------------------------

  private connect(): void {
    this.phase = 'connecting';
    const m = this.mapping;
    this.inspection = this.host.inspect(6, m.upstreamPort, this.client.port, this.client.ip);
    const up = net.connect({
      host: m.upstreamHost,
      port: m.upstreamPort,
      allowHalfOpen: true,
      noDelay: true,
      onread: { buffer: sharedReadBuffer, callback: (n: number, buf: Uint8Array) => this.fromUpstream(n, buf) },
    });
    this.upstream = up;
    this.upstreamClosed = false;
    this.arm(this.host.settings.connectTimeoutMs, () => {
      this.endReason = 'connect-timeout';
      this.error = `connect to ${formatHostPort(m.upstreamHost, m.upstreamPort)} timed out after ${seconds(this.host.settings.connectTimeoutMs)}`;
      up.destroy();
      this.resetClient();
    });
    up.on('error', (err: NodeJS.ErrnoException) => this.upstreamError(err));
    up.on('close', () => {
      this.upstreamClosed = true;
      if (this.serverClose === null && this.connectMs !== null) this.serverClose = 'proxy';
      this.maybeFinish();
    });
    up.once('connect', () => this.connected(up));
  }

  private connected(up: net.Socket): void {
    const now = this.host.clock();
    this.connectMs = now - this.startMs;
    this.upstreamIp = plainAddress(up.remoteAddress) || null;
    this.disarm();
    const client = this.socket;
    if (this.clientClosed) {
      // The client gave up while we were connecting.
      up.destroy();
      return;
    }
    const m = this.mapping;
    if (m.proxyProtocolOut !== null) up.write(encodeProxyHeader(m.proxyProtocolOut, this.client, this.listener));
    if (this.pending !== null) {
      const early = this.pending;
      this.pending = null;
      this.fromClient(early);
    }
    client.on('data', (chunk: Buffer) => this.fromClient(chunk));
    up.on('drain', () => {
      if (!this.clientClosed) client.resume();
    });
    client.on('drain', () => {
      if (!this.upstreamClosed) up.resume();
    });
    this.phase = 'relaying';
    if (this.clientClose === 'fin') {
      up.end();
      this.halfClose();
    }
    up.on('end', () => {
      this.serverClose = 'fin';
      client.end();
      this.halfClose();
    });
    this.quietSinceMs = now;
    client.resume();
  }

  private fromClient(chunk: Buffer): void {
    const n = chunk.length;
    this.activity++;
    if (this.firstToServerMs < 0) this.firstToServerMs = this.host.clock();
    this.payloadToServer += n;
    const i = this.inspection;
    if (i !== null && i.wants(0)) i.feed(0, chunk, 0, n, this.host.clock());
    const up = this.upstream!;
    if (up.destroyed) return;
    if (!up.write(chunk)) this.socket.pause();
  }

  /**
   * Upstream reads land in one buffer shared by every upstream socket (onread): no readable-stream
   * machinery per read, which measured about 14% less relay CPU per request with redis-benchmark
   * (bench/README.md). The bytes are copied out before they are written (a pending write must own
   * them). Returning false pauses the upstream until the client drains.
   */
  private fromUpstream(n: number, buf: Uint8Array): boolean {
    this.activity++;
    if (this.firstToClientMs < 0) this.firstToClientMs = this.host.clock();
    this.payloadToClient += n;
    const i = this.inspection;
    if (i !== null && i.wants(1)) i.feed(1, buf, 0, n, this.host.clock());
    const client = this.socket;
    if (client.destroyed) return false;
    return client.write(copyOf(buf, n));
  }

  /** One side sent FIN: the other direction now has the linger limit instead of the idle one. */
  private halfClose(): void {
    this.halfClosed = true;
  }

  /**
   * Idle and linger timeouts, checked by the server's periodic sweep instead of a timer per socket
   * (a socket timeout is re-armed on every read and write: measurable per request). A connection
   * with no read since the last sweep has been quiet since then; once quiet for the limit (the
   * linger limit after a half-close) it is closed. Precision: the sweep interval.
   */
  sweep(nowMs: number): void {
    if (this.phase !== 'relaying' || this.finished) return;
    if (this.activity !== this.seenActivity) {
      this.seenActivity = this.activity;
      this.quietSinceMs = nowMs;
      return;
    }
    const s = this.host.settings;
    const limit = this.halfClosed ? Math.min(s.lingerMs, s.idleTimeoutMs) : s.idleTimeoutMs;
    if (nowMs - this.quietSinceMs >= limit) this.timedOut();
  }

  private timedOut(): void {
    this.endReason = this.halfClosed ? 'linger-timeout' : 'idle-timeout';
    this.socket.destroy();
    this.upstream?.destroy();
  }

  // -- errors and endings ---------------------------------------------------------------------

  private clientError(err: NodeJS.ErrnoException): void {
    this.clientClose = err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : 'error';
    if (this.clientClose === 'error') this.error ??= `client: ${err.message}`;
    const up = this.upstream;
    if (up !== null && !this.upstreamClosed) {
      if (this.connectMs === null) up.destroy();
      else resetSocket(up);
    }
  }

  private upstreamError(err: NodeJS.ErrnoException): void {
    if (this.connectMs === null) {
      // Never connected: refused, unreachable, unresolvable. The client sees a reset.
      this.endReason ??= 'upstream-error';
      this.error ??= err.message;
      this.disarm();
      this.resetClient();
      return;
    }
    this.serverClose = err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : 'error';
    if (this.serverClose === 'error') this.error ??= `upstream: ${err.message}`;
    if (!this.clientClosed) resetSocket(this.socket);
  }

  /** Ends a connection that never reached the relay stage (bad PROXY header, ...): reset it. */
  private refuse(reason: RelayEnd, message: string): void {
    this.endReason ??= reason;
    this.error ??= message;
    this.disarm();
    this.resetClient();
  }

  private resetClient(): void {
    if (!this.clientClosed) {
      if (this.clientClose === null) this.clientClose = 'proxy';
      resetSocket(this.socket);
    }
  }

  /** Closes everything now (SIGINT/SIGTERM): both sides get a FIN (a reset if data was unread). */
  shutdown(): void {
    if (this.finished) return;
    this.endReason ??= 'shutdown';
    this.disarm();
    this.socket.destroy();
    this.upstream?.destroy();
  }

  private arm(ms: number, fn: () => void): void {
    this.disarm();
    this.timer = setTimeout(fn, ms);
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private maybeFinish(): void {
    if (this.finished || !this.clientClosed || !this.upstreamClosed) return;
    this.finished = true;
    this.disarm();
    const end: RelayEnd =
      this.endReason ??
      (this.clientClose === 'reset' || this.serverClose === 'reset' ? 'reset' : this.clientClose === 'error' || this.serverClose === 'error' ? 'error' : 'closed');
    this.host.ended(this, {
      id: this.id,
      transport: 'tcp',
      mapping: this.mapping,
      client: this.client,
      peer: this.peer,
      listener: this.listener,
      upstreamIp: this.upstreamIp,
      proxyProtocolIn: this.proxyProtocolIn,
      startMs: this.startMs,
      endMs: this.host.clock(),
      connectMs: this.connectMs,
      payloadToServer: this.payloadToServer,
      payloadToClient: this.payloadToClient,
      firstToServerMs: this.firstToServerMs,
      firstToClientMs: this.firstToClientMs,
      clientClose: this.clientClose,
      serverClose: this.serverClose,
      datagrams: null,
      end,
      error: this.error,
    });
  }
}

/** Bytes per upstream read (Node's own default read size). */
const READ_BYTES = 64 * 1024;
/**
 * The buffer every upstream socket reads into. JavaScript handles one read at a time and each
 * read's bytes are copied out before anything else can read, so one buffer serves every connection.
 */
const sharedRead: Buffer = Buffer.allocUnsafe(READ_BYTES);

function sharedReadBuffer(): Uint8Array {
  return sharedRead;
}

/** The first `n` bytes of `buf` in a buffer of their own (small copies come from Node's pool). */
function copyOf(buf: Uint8Array, n: number): Buffer {
  return Buffer.from(buf.subarray(0, n));
}

/** RST instead of FIN (a socket still connecting is just destroyed). */
export function resetSocket(s: net.Socket): void {
  try {
    if (s.connecting || s.destroyed) s.destroy();
    else s.resetAndDestroy();
  } catch {
    s.destroy();
  }
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}
