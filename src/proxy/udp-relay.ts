/**
 * DNS-style UDP relaying: a listener socket, and per client address a session with its own
 * connected upstream socket. A client's datagram goes out on its session's socket; what comes back
 * on that socket goes to the client from the listener's address (so a resolver sees the answer come
 * from where it asked). A session is one flow; it ends after the UDP idle timeout without
 * datagrams either way, when the upstream refuses (ICMP port unreachable), or at shutdown.
 *
 * Bounded: sessions count against --max-connections (a datagram from a new client beyond it is
 * dropped and counted); a session queues at most UDP_QUEUE datagrams while its upstream socket is
 * being set up. UDP has no backpressure: a datagram the kernel refuses is dropped and counted.
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import type { StreamInspection } from '../classify/stream-classifier.js';
import type { Endpoint } from '../pipeline/results.js';
import type { WallClock } from './clock.js';
import type { ProxyMapping } from './mapping.js';
import type { RelayEnd, RelayFacts } from './record.js';
import { plainAddress } from './tcp-relay.js';

/** Datagrams a session holds while its upstream socket is not ready. */
export const UDP_QUEUE = 16;

export interface UdpRelayHost {
  readonly clock: WallClock;
  readonly udpIdleTimeoutMs: number;
  /** Whether another session may start (the --max-connections bound). */
  admit(): boolean;
  /** A new session started (it counts as an open connection until ended). */
  started(session: UdpSession): void;
  nextId(): number;
  inspect(transport: number, serverPort: number, clientPort: number, clientIp: string): StreamInspection | null;
  dropped(n: number): void;
  ended(session: UdpSession, facts: RelayFacts): void;
}

export class UdpListener {
  readonly sessions = new Map<string, UdpSession>();
  private closed = false;

  constructor(
    readonly mapping: ProxyMapping,
    readonly socket: dgram.Socket,
    private readonly host: UdpRelayHost,
  ) {
    socket.on('message', (msg, rinfo) => this.fromClient(msg, rinfo));
    // A send to a client that is gone (ICMP) surfaces here; the listener keeps serving.
    socket.on('error', () => {});
  }

  get listenEndpoint(): Endpoint {
    const a = this.socket.address();
    return { ip: plainAddress(a.address), port: a.port };
  }

  private fromClient(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closed) return;
    const key = `${rinfo.address}|${rinfo.port}`;
    let s = this.sessions.get(key);
    if (s === undefined) {
      if (!this.host.admit()) {
        this.host.dropped(1);
        return;
      }
      s = new UdpSession(this.host.nextId(), this, key, { ip: plainAddress(rinfo.address), port: rinfo.port }, this.host);
      this.sessions.set(key, s);
      this.host.started(s);
    }
    s.fromClient(msg);
  }

  /** Sends an upstream answer to the client (a refused send is counted as dropped). */
  sendToClient(msg: Buffer, client: Endpoint): void {
    this.socket.send(msg, client.port, client.ip, (err) => {
      if (err) this.host.dropped(1);
    });
  }

  forget(s: UdpSession): void {
    if (this.sessions.get(s.key) === s) this.sessions.delete(s.key);
  }

  /** Stops taking datagrams and ends every session ('shutdown'). */
  shutdown(): void {
    this.closed = true;
    for (const s of [...this.sessions.values()]) s.end('shutdown', null);
    try {
      this.socket.close();
    } catch {
      /* already closed */
    }
  }
}

export class UdpSession {
  readonly startMs: number;
  readonly listener: Endpoint;
  upstreamIp: string | null = null;
  connectMs: number | null = null;
  payloadToServer = 0;
  payloadToClient = 0;
  datagramsToServer = 0;
  datagramsToClient = 0;
  firstToServerMs = -1;
  firstToClientMs = -1;
  inspection: StreamInspection | null;
  private upstream: dgram.Socket | null = null;
  private queue: Buffer[] | null = [];
  private timer: NodeJS.Timeout;
  private finished = false;
  private error: string | null = null;

  constructor(
    readonly id: number,
    private readonly owner: UdpListener,
    /** The session table key (the client as the socket reported it). */
    readonly key: string,
    readonly client: Endpoint,
    private readonly host: UdpRelayHost,
  ) {
    this.startMs = host.clock();
    this.listener = owner.listenEndpoint;
    const m = owner.mapping;
    this.inspection = host.inspect(17, m.upstreamPort, client.port, client.ip);
    this.timer = setTimeout(() => this.end('idle-timeout', null), host.udpIdleTimeoutMs);
    this.openUpstream(m);
  }

  private openUpstream(m: ProxyMapping): void {
    const family = isIP(m.upstreamHost);
    const open = (ip: string, fam: number): void => {
      if (this.finished) return;
      const sock = dgram.createSocket(fam === 6 ? 'udp6' : 'udp4');
      this.upstream = sock;
      sock.on('message', (msg) => this.fromUpstream(msg));
      sock.on('error', (err) => this.end('upstream-error', err.message));
      sock.connect(m.upstreamPort, ip, () => {
        if (this.finished) return;
        this.connectMs = this.host.clock() - this.startMs;
        this.upstreamIp = ip;
        const q = this.queue ?? [];
        this.queue = null;
        for (const d of q) this.send(d);
      });
    };
    if (family !== 0) {
      open(m.upstreamHost, family);
      return;
    }
    lookup(m.upstreamHost, (err, address, fam) => {
      if (err) this.end('upstream-error', `cannot resolve ${m.upstreamHost}: ${err.code ?? err.message}`);
      else open(address, fam);
    });
  }

  fromClient(msg: Buffer): void {
    if (this.finished) return;
    const now = this.host.clock();
    if (this.firstToServerMs < 0) this.firstToServerMs = now;
    this.timer.refresh();
    const i = this.inspection;
    if (i !== null && i.wants(0)) i.feed(0, msg, 0, msg.length, now);
    if (this.queue !== null) {
      if (this.queue.length >= UDP_QUEUE) {
        this.host.dropped(1);
        return;
      }
      this.queue.push(msg);
      return;
    }
    this.send(msg);
  }

  private send(msg: Buffer): void {
    this.datagramsToServer++;
    this.payloadToServer += msg.length;
    this.upstream!.send(msg, (err) => {
      if (err) this.host.dropped(1);
    });
  }

  get mapping(): ProxyMapping {
    return this.owner.mapping;
  }

  private fromUpstream(msg: Buffer): void {
    if (this.finished) return;
    const now = this.host.clock();
    if (this.firstToClientMs < 0) this.firstToClientMs = now;
    this.timer.refresh();
    this.datagramsToClient++;
    this.payloadToClient += msg.length;
    const i = this.inspection;
    if (i !== null && i.wants(1)) i.feed(1, msg, 0, msg.length, now);
    this.owner.sendToClient(msg, this.client);
  }

  end(reason: RelayEnd, error: string | null): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    if (this.queue !== null && this.queue.length > 0) this.host.dropped(this.queue.length);
    this.queue = null;
    this.error ??= error;
    try {
      this.upstream?.close();
    } catch {
      /* already closed */
    }
    this.owner.forget(this);
    const m = this.owner.mapping;
    this.host.ended(this, {
      id: this.id,
      transport: 'udp',
      mapping: m,
      client: this.client,
      peer: this.client,
      listener: this.listener,
      upstreamIp: this.upstreamIp,
      proxyProtocolIn: null,
      startMs: this.startMs,
      endMs: this.host.clock(),
      connectMs: this.connectMs,
      payloadToServer: this.payloadToServer,
      payloadToClient: this.payloadToClient,
      firstToServerMs: this.firstToServerMs,
      firstToClientMs: this.firstToClientMs,
      clientClose: null,
      serverClose: null,
      datagrams: { toServer: this.datagramsToServer, toClient: this.datagramsToClient },
      end: reason,
      error: this.error,
    });
  }
}
