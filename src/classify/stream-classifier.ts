/**
 * Classification of one relayed connection (portsniff proxy): the same port decision, recognisers,
 * verdict and exposure check as PortMapClassifier (decidePorts, recognizePayload, verdictFor,
 * checkExposure, the --policy checker), fed from the ports, the client address and the first bytes of each direction of
 * a socket pair instead of flow-table slots.
 *
 * A relay sees whole byte streams, so it can afford one complete first message per direction: TCP
 * bytes are collected (copied aside, never delayed) until the recognisers return evidence that is
 * not partial, or STREAM_INSPECT_BYTES were collected, or STREAM_INSPECT_MS passed since that
 * direction's first byte. A TLS ClientHello split over many segments is therefore read whole (SNI,
 * ALPN). UDP datagrams are inspected one by one, at most INSPECT_PACKETS per direction, as in
 * capture mode.
 */
import { parseAddress } from '../flow/key.js';
import type { PortIndex } from '../rules/compile.js';
import { IpProto } from '../util/ip-proto.js';
import { INSPECT_PACKETS, verdictFor } from './classifier.js';
import { addressClass, inCidrs, type Cidr, type ExposureClient } from './exposure.js';
import type { PolicyChecker } from './policy-check.js';
import { decidePorts, type PortDecision } from './port-decision.js';
import { recognizePayload, type ProtocolEvidence } from './recognize/index.js';
import type { Classification } from './types.js';

const TRANSPORT_TCP = IpProto.TCP;
const TRANSPORT_UDP = IpProto.UDP;

/** Bytes of one direction kept for recognition at most (a large ClientHello fits). */
export const STREAM_INSPECT_BYTES = 16 * 1024;
/** A direction's first message must be complete this long after its first byte, else it is judged as it is. */
export const STREAM_INSPECT_MS = 5000;
/** Reads of one direction inspected at most (a first message trickling in byte by byte). */
export const STREAM_INSPECT_READS = 256;

/** Direction of bytes: 0 from the client (to the server), 1 from the server (to the client). */
export type StreamDirection = 0 | 1;

export interface StreamClassifierOptions {
  /** --monitoring-hosts; null or absent: monitoring-only ports are unchecked. */
  monitoringHosts?: readonly Cidr[] | null;
  /** Keep the decoded evidence fields (SNI, gRPC path, ...); false keeps the protocol tags only. */
  evidenceDetail?: boolean;
  /** --policy (policy-check.ts), as capture mode applies it; null: the documented exposure decides. */
  policy?: PolicyChecker | null;
}

/** Shared by every connection of a proxy: the compiled rules, the monitoring hosts and a decision cache. */
export class StreamClassifier {
  private readonly monitoringHosts: readonly Cidr[] | null;
  readonly evidenceDetail: boolean;
  readonly policy: PolicyChecker | null;
  private readonly decisionCache = new Map<number, PortDecision>();

  constructor(
    private readonly index: PortIndex,
    opts: StreamClassifierOptions = {},
  ) {
    this.monitoringHosts = opts.monitoringHosts ?? null;
    this.evidenceDetail = opts.evidenceDetail !== false;
    this.policy = opts.policy ?? null;
  }

  /**
   * The rules the ports point at (server port first, as for captured flows). Cached per matching
   * rule group and side, like PortMapClassifier: a decision depends on nothing else.
   */
  decision(transport: number, serverPort: number, clientPort: number): PortDecision {
    const sg = this.index.lookup(transport, serverPort);
    const key = sg !== 0 ? transport * 2 * 65536 + sg : (transport * 2 + 1) * 65536 + this.index.lookup(transport, clientPort);
    let d = this.decisionCache.get(key);
    if (d === undefined) {
      d = decidePorts(this.index, transport, serverPort, clientPort);
      this.decisionCache.set(key, d);
    }
    return d;
  }

  /** The client as the exposure check sees it; null when the address cannot be parsed. */
  exposureClient(ip: string): ExposureClient | null {
    const a = parseAddress(ip);
    if (a === null) return null;
    if (this.policy !== null) return this.policy.client(a[0], a[1], a[2], a[3], a[4]);
    const hosts = this.monitoringHosts;
    return {
      client: addressClass(a[0], a[1], a[2], a[3], a[4]),
      monitoringHost: hosts === null ? null : inCidrs(hosts, a[0], a[1], a[2], a[3], a[4]),
    };
  }

  /**
   * Starts inspecting one connection. `transport` is the IP protocol number (6 TCP, 17 UDP);
   * `serverPort` the port whose rules apply (the proxy's upstream port), `clientPort` and
   * `clientIp` the real client's.
   */
  open(transport: number, serverPort: number, clientPort: number, clientIp: string): StreamInspection {
    return new StreamInspection(this, transport, serverPort, this.decision(transport, serverPort, clientPort), this.exposureClient(clientIp));
  }
}

/** The first-message inspection of one connection, both directions. */
export class StreamInspection {
  private readonly evidence: [ProtocolEvidence | null, ProtocolEvidence | null] = [null, null];
  private readonly buffers: [Uint8Array | null, Uint8Array | null] = [null, null];
  private readonly filled: [number, number] = [0, 0];
  private readonly reads: [number, number] = [0, 0];
  private readonly firstMs: [number, number] = [-1, -1];
  private readonly done: [boolean, boolean] = [false, false];

  constructor(
    private readonly owner: StreamClassifier,
    private readonly transport: number,
    private readonly serverPort: number,
    private readonly portDecision: PortDecision,
    private readonly client: ExposureClient | null,
  ) {
    if (transport !== TRANSPORT_TCP && transport !== TRANSPORT_UDP) this.done[0] = this.done[1] = true;
  }

  /** Whether bytes of this direction are still wanted (callers skip feed() otherwise). */
  wants(direction: StreamDirection): boolean {
    return !this.done[direction];
  }

  /** True once neither direction wants bytes. */
  get finished(): boolean {
    return this.done[0] && this.done[1];
  }

  /**
   * Bytes `buf[offset, offset + length)` read from one direction (a TCP read or one UDP datagram)
   * at wall-clock `nowMs`. Copies at most what is still wanted; never keeps a reference to `buf`.
   */
  feed(direction: StreamDirection, buf: Uint8Array, offset: number, length: number, nowMs: number): void {
    if (this.done[direction] || length <= 0) return;
    const reads = ++this.reads[direction]!;
    if (this.firstMs[direction]! < 0) this.firstMs[direction] = nowMs;
    let ev: ProtocolEvidence | null;
    if (this.transport === TRANSPORT_UDP) {
      ev = recognizePayload(buf, offset, Math.min(length, STREAM_INSPECT_BYTES), direction, this.transport, this.serverPort);
      if (reads >= INSPECT_PACKETS) this.done[direction] = true;
    } else {
      const have = this.filled[direction]!;
      const take = Math.min(length, STREAM_INSPECT_BYTES - have);
      let b = this.buffers[direction]!;
      if (b === null || b.length < have + take) {
        // Grow geometrically: most first messages are small, a ClientHello is 0.5-2 KiB.
        const grown = new Uint8Array(Math.min(STREAM_INSPECT_BYTES, Math.max(1024, (have + take) * 2)));
        if (b !== null) grown.set(b.subarray(0, have));
        b = grown;
        this.buffers[direction] = b;
      }
      b.set(buf.subarray(offset, offset + take), have);
      this.filled[direction] = have + take;
      ev = recognizePayload(b, 0, have + take, direction, this.transport, this.serverPort);
      if (have + take >= STREAM_INSPECT_BYTES || reads >= STREAM_INSPECT_READS) this.done[direction] = true;
    }
    if (ev !== null) {
      this.evidence[direction] = ev;
      // Incomplete evidence (a ClientHello cut short, ...) may improve with more bytes.
      if (ev.incomplete !== true) this.done[direction] = true;
    }
    if (nowMs - this.firstMs[direction]! >= STREAM_INSPECT_MS) this.done[direction] = true;
    if (this.done[direction]) this.buffers[direction] = null;
  }

  /** The verdict from what was seen so far (the same function capture mode uses). */
  classification(withEvidence = this.owner.evidenceDetail): Classification {
    return verdictFor(this.portDecision, this.evidence[0], this.evidence[1], withEvidence, this.client, this.owner.policy);
  }

  /** What the recognisers saw (either direction), for the coverage report; null when nothing. */
  observedProtocol(): string | null {
    return (this.evidence[0] ?? this.evidence[1])?.protocol ?? null;
  }

  /** The port decision this connection was opened with. */
  get decision(): PortDecision {
    return this.portDecision;
  }
}
