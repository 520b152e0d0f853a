/**
 * The flow record of a relayed connection: the capture-mode schema (flow/record.ts plus the
 * classification), with null for what a relay cannot see (frames, wire bytes, TCP state and
 * history, handshake RTT, VLANs, ICMP errors) and `source: 'proxy'` + `proxy` for what only a
 * relay knows (docs/output-schema.md).
 */
import { isIP } from 'node:net';
import type { Classification } from '../classify/types.js';
import type { ClassifiedFlow, Endpoint, RelayClose, RelayInfo } from '../pipeline/results.js';
import { formatMs } from './clock.js';
import type { ProxyMapping } from './mapping.js';

/** Why a relayed connection ended (the record's `end`). */
export type RelayEnd =
  | 'closed'
  | 'reset'
  | 'error'
  | 'idle-timeout'
  | 'linger-timeout'
  | 'connect-timeout'
  | 'upstream-error'
  | 'proxy-protocol-error'
  | 'shutdown';

/** What a TCP or UDP relay hands over when a connection (or UDP session) ends. */
export interface RelayFacts {
  id: number;
  transport: 'tcp' | 'udp';
  mapping: ProxyMapping;
  /** The real client (from a PROXY header when the listener takes one, else the peer). */
  client: Endpoint;
  peer: Endpoint;
  listener: Endpoint;
  /** The upstream address connected to; null when never connected. */
  upstreamIp: string | null;
  proxyProtocolIn: 'v1' | 'v2' | null;
  startMs: number;
  endMs: number;
  connectMs: number | null;
  payloadToServer: number;
  payloadToClient: number;
  /** -1: no byte in that direction. */
  firstToServerMs: number;
  firstToClientMs: number;
  clientClose: RelayClose | null;
  serverClose: RelayClose | null;
  datagrams: { toServer: number; toClient: number } | null;
  end: RelayEnd;
  error: string | null;
}

export function relayRecord(f: RelayFacts, cls: Classification | null): ClassifiedFlow {
  const m = f.mapping;
  const server: Endpoint = { ip: f.upstreamIp ?? m.upstreamHost, port: m.upstreamPort };
  const first = formatMs(f.startMs);
  const proxy: RelayInfo = {
    listener: f.listener,
    upstream: { host: m.upstreamHost, port: m.upstreamPort, ip: f.upstreamIp },
    peer: f.peer,
    proxyProtocolIn: f.proxyProtocolIn,
    proxyProtocolOut: m.proxyProtocolOut !== null && f.connectMs !== null ? m.proxyProtocolOut : null,
    connectMs: f.connectMs === null ? null : Math.round(f.connectMs * 1000) / 1000,
    firstByte: {
      toServer: f.firstToServerMs >= 0 ? formatMs(f.firstToServerMs) : null,
      toClient: f.firstToClientMs >= 0 ? formatMs(f.firstToClientMs) : null,
    },
    firstSpeaker: firstSpeaker(f.firstToServerMs, f.firstToClientMs),
    close: { client: f.clientClose, server: f.serverClose },
    datagrams: f.datagrams,
    error: f.error,
  };
  const record: ClassifiedFlow = {
    id: f.id,
    transport: f.transport,
    ipVersion: isIP(f.client.ip) === 6 ? 6 : 4,
    vlan: null,
    client: f.client,
    server,
    directionBasis: 'proxy',
    packets: null,
    bytes: null,
    payloadBytes: { toServer: f.payloadToServer, toClient: f.payloadToClient },
    first,
    last: formatMs(f.endMs),
    durationSec: Math.round(Math.max(0, f.endMs - f.startMs) * 1e6) / 1e9,
    state: null,
    history: null,
    handshakeRttMs: null,
    icmpErrors: null,
    anomalies: {},
    end: f.end,
    continued: false,
  };
  if (cls !== null) Object.assign(record, cls);
  record.source = 'proxy';
  record.proxy = proxy;
  return record;
}

function firstSpeaker(toServer: number, toClient: number): 'client' | 'server' | null {
  if (toServer < 0 && toClient < 0) return null;
  if (toClient < 0) return 'client';
  if (toServer < 0) return 'server';
  return toServer <= toClient ? 'client' : 'server';
}
