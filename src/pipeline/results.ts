/**
 * What the engine produces, as plain data: the types every consumer (text and JSON summaries, the
 * flow log, the dashboard, exporters) reads. A leaf module: type-only imports, no code, so a
 * consumer depends on these shapes and never on the engine's implementation.
 */
import type { Endpoint, FlowRecord, TunnelInfo } from '../flow/record.js';
import type { Classification, Verdict } from '../classify/types.js';
import type { ExposureStatus } from '../classify/exposure.js';

export type { Endpoint, FlowRecord, TunnelInfo } from '../flow/record.js';
export type { Classification, ServiceRef, Verdict } from '../classify/types.js';
export type { ExposureCheck, ExposureStatus } from '../classify/exposure.js';

/**
 * A finished flow: transport facts plus (when rules are loaded) its classification. Flows relayed
 * by `portsniff proxy` also carry `source: 'proxy'` and `proxy` (what the relay knows), and have
 * null for the packet-level facts a relay cannot see (packets, wire bytes, state, history, ...).
 */
export type ClassifiedFlow = FlowRecord & Partial<Classification> & { source?: 'proxy'; proxy?: RelayInfo };

/**
 * What counters per service read of a finished flow (metrics): its transport, counts and verdict,
 * without the addresses, times and evidence a record formats (~1 µs a flow, 60% of a flow flood's
 * run with --metrics). A ClassifiedFlow is one too.
 */
export type FlowTally = Pick<ClassifiedFlow, 'transport' | 'packets' | 'bytes' | 'payloadBytes' | 'service' | 'verdict' | 'ambiguous' | 'candidates' | 'exposure'>;

/**
 * An ended flow as a worker reports it: the record, or with `flowsAsJson` its JSON text
 * (JSON.stringify of the record, made on the worker's thread), or with `tallies` its tally (the
 * one kind without an `id`).
 */
export type EndedFlow = ClassifiedFlow | string | FlowTally;

/** How one side of a relayed connection ended. */
export type RelayClose = 'fin' | 'reset' | 'error' | 'proxy';

/** What a relay knows about a connection beyond the flow record (docs/output-schema.md). */
export interface RelayInfo {
  /** The proxy's address the client connected to (the listen port is recorded here). */
  listener: Endpoint;
  /** The upstream as configured (`host` may be a name) and the address connected to (null if never connected). */
  upstream: { host: string; port: number; ip: string | null };
  /** The listener's TCP peer; differs from `client` when a PROXY protocol header named the real client. */
  peer: Endpoint;
  /** PROXY protocol version received from the peer (listeners with proxy-protocol-in), else null. */
  proxyProtocolIn: 'v1' | 'v2' | null;
  /** PROXY protocol version sent to the upstream, else null. */
  proxyProtocolOut: 'v1' | 'v2' | null;
  /** Accept to upstream connected, in milliseconds; null when the upstream was never connected. */
  connectMs: number | null;
  /** Wall-clock time of the first payload byte per direction. */
  firstByte: { toServer: string | null; toClient: string | null };
  /** Who sent payload first; null when nobody did. */
  firstSpeaker: 'client' | 'server' | null;
  /** How each side's connection ended (fin, reset, error, or `proxy`: closed by portsniff); null: never connected. */
  close: { client: RelayClose | null; server: RelayClose | null };
  /** UDP only: datagrams per direction. */
  datagrams: { toServer: number; toClient: number } | null;
  /** Why the connection failed, e.g. `connect ECONNREFUSED 127.0.0.1:6379` or a bad PROXY header; null when it did not. */
  error: string | null;
}

/** One proxy listener as the summary lists it. */
export interface ProxyListenerInfo {
  transport: 'tcp' | 'udp';
  listen: Endpoint;
  upstream: { host: string; port: number };
  proxyProtocolIn: boolean;
  proxyProtocolOut: 'v1' | 'v2' | null;
}

/** Relay counters of a proxy run (the summary's `source.proxy`). */
export interface ProxyStats {
  listeners: ProxyListenerInfo[];
  /** TCP connections accepted plus UDP sessions started (each is one flow). */
  accepted: number;
  /** Connections reset at once because --max-connections were open (no flow record). */
  refused: number;
  /** Connections and sessions open now (0 at the end). */
  open: number;
  /** Flows whose upstream could not be reached (refused, unreachable, name not resolved). */
  upstreamErrors: number;
  connectTimeouts: number;
  /** Connections closed because their PROXY protocol header was missing or malformed. */
  proxyProtocolErrors: number;
  /** Payload bytes relayed. */
  payloadBytes: { toServer: number; toClient: number };
  /** UDP datagrams dropped (session table full, upstream not ready, send failed). */
  datagramsDropped: number;
  elapsedSec: number;
  /** The relay settings in effect (seconds; max connections). */
  options: { connectTimeout: number; idleTimeout: number; linger: number; udpIdleTimeout: number; maxConnections: number };
}

export interface EngineTotals {
  packets: number;
  /** Sum of frame wire lengths (orig_len). */
  bytes: number;
  /** Sum of captured lengths. */
  capturedBytes: number;
  /** Frames cut by the snaplen (caplen < origlen). */
  truncatedFrames: number;
  /** Frames without IP (ARP, LLDP, unsupported link types). */
  notIp: number;
  /** IP frames that could not be put in a flow (truncated transport header, orphan fragment). */
  unattributed: number;
  flows: number;
  liveFlows: number;
  evictedFlows: number;
  anomalies: Record<string, number>;
  packetsByLinkType: Record<string, number>;
  firstSec: number;
  firstNsec: number;
  lastSec: number;
  lastNsec: number;
}

/** Per-service totals of one run (the `services` of the --json summary). */
export interface ServiceTotals {
  /** Rule id, `ambiguous:<id>|<id>...` for unresolved ties, or `unknown`. */
  key: string;
  id: string | null;
  product: string | null;
  component: string | null;
  candidates: string[];
  flows: number;
  /** Frames and their wire bytes (capture mode; 0 in proxy mode, where no frames are seen). */
  packets: { toServer: number; toClient: number };
  bytes: { toServer: number; toClient: number };
  /** Transport payload bytes (capture: by the headers; proxy: the bytes relayed). */
  payloadBytes: { toServer: number; toClient: number };
  verdicts: Record<Verdict, number>;
  /** Flows by exposure status (exposure.ts); all zero for `unknown` and `unclassified`. */
  exposure: Record<ExposureStatus, number>;
  /**
   * Encapsulations the service's flows were found inside (each counted once per flow, at any
   * depth), by type then id; absent when none of its flows was tunnelled. Snapshots count live
   * flows too, like every other field of a SnapshotService.
   */
  encapsulations?: EncapsulationCount[];
}

/** Flows (and their packets and bytes) found inside one encapsulation: a type and its id. */
export interface EncapsulationCount {
  /** vxlan, vxlan-gpe, geneve, gre, erspan, ip-in-ip, mpls, pppoe, teredo, gtp-u. */
  type: string;
  /** VNI (VXLAN, VXLAN-GPE, Geneve), GRE key / PPTP call id, ERSPAN session, bottom MPLS label, PPPoE session, GTP-U TEID; null when the header has none. */
  id: number | null;
  flows: number;
  packets: number;
  bytes: number;
}

/** A service in a snapshot: ended flows plus live flows as they are now. */
export interface SnapshotService extends ServiceTotals {
  /** Of `flows`, how many are still live. */
  liveFlows: number;
}

/** One flow as the dashboard lists it (live, or recently ended). */
export interface FlowRow {
  /** The flow record's id (ordinal of its first packet). */
  id: number;
  live: boolean;
  transport: string;
  client: Endpoint;
  server: Endpoint;
  /** ServiceTotals.key of the flow's service (`unknown`, `ambiguous:...`, or a rule id). */
  serviceKey: string;
  verdict: Verdict | null;
  exposure: ExposureStatus | null;
  /** Zeek-style connection state (S0, SF, ...) now; null for a relayed connection (no packets seen). */
  state: string | null;
  /** Frames per direction; null for a relayed connection. */
  packets: { toServer: number; toClient: number } | null;
  /** Wire bytes per direction; for a relayed connection (portsniff proxy), the payload bytes relayed. */
  bytes: { toServer: number; toClient: number };
  /** `bytes` per second (both directions) since the previous snapshot; 0 for ended flows. */
  rateBytesPerSec: number;
  handshakeRttMs: number | null;
  /** Capture time of the first and the latest packet, in seconds since the epoch (fractional). */
  firstSec: number;
  lastSec: number;
  /** Evidence from payload bytes (sni, alpn, grpcPath, httpPath, protocol, ...). */
  evidence: Record<string, string>;
  /** Why an ended flow ended (idle-timeout, ...); null while live. */
  end: string | null;
  /** Encapsulations the flow was found inside, outer to inner (the flow record's `tunnel`); absent outside tunnels. */
  tunnel?: TunnelInfo[];
}

/**
 * exposure-violation: a client the documents (or --policy) do not expect; mismatch: another
 * protocol than documented; undocumented-port: a documented product's protocol (RESP, xDS, ...)
 * positively recognised on a port no rule documents.
 */
export const ALERT_KINDS = ['exposure-violation', 'mismatch', 'undocumented-port'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** Alerts de-duplicated per (kind, service, client address). */
export interface AlertRow {
  kind: AlertKind;
  serviceKey: string;
  /** The client address the alert is about. */
  client: string;
  /** The server of the latest flow that raised it. */
  server: Endpoint;
  /** Flows that raised it. */
  count: number;
  /** Capture time (seconds since the epoch, fractional) of the first and the latest flow. */
  firstSec: number;
  lastSec: number;
  /** Ids of the latest flows that raised it (newest first, at most a few). */
  flowIds: number[];
  /** Human explanation: "tls on a resp port", "public client on an internal port", ... */
  detail: string;
}

/** A server port with no rule, with what was seen on it. */
export interface UnknownPortRow {
  transport: string;
  port: number;
  flows: number;
  liveFlows: number;
  /** Null for relayed connections (no packets seen). */
  packets: number | null;
  /** Wire bytes; for relayed connections, the payload bytes relayed. */
  bytes: number;
  /** Protocols the recognisers saw on it (tls, http, resp, ...), most frequent first. */
  protocols: string[];
}

/** Dashboard detail of a snapshot: bounded lists, whatever the number of live flows. */
export interface SnapshotDetail {
  /** Top live flows (by rate, then bytes) and the most recently ended ones, each list bounded. */
  flows: FlowRow[];
  /** Newest first, bounded. */
  alerts: AlertRow[];
  /** Busiest unknown server ports (by bytes), bounded. */
  unknownPorts: UnknownPortRow[];
}

export interface Snapshot {
  /** Wall-clock time (ms since the epoch) the snapshot was taken; merged: the newest part. */
  takenAt: number;
  /** Worker threads behind it (0 = the in-process engine). */
  workers: number;
  /** Packets, bytes, flows (created and live), anomalies... summed over the workers. */
  totals: EngineTotals;
  /** Per-service totals of ended flows plus live flows as they are now, sorted by key. */
  services: SnapshotService[];
  /** Records a live source offered that the pipeline could not take (every chunk in use). */
  engineDrops: number;
  /** Chunks handed to the workers and not yet released (backpressure gauge; 0 in-process). */
  inFlightChunks: number;
  /** Present when the pipeline was created with `detail` (the dashboard asks for it). */
  detail?: SnapshotDetail;
}
