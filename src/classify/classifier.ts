/**
 * The classifier: joins the port decision (which documented rules a flow's ports point at) with
 * payload evidence (which protocol the first bytes speak) into a verdict.
 *
 * Runs once per flow plus a bounded payload inspection: at most INSPECT_PACKETS packets and
 * INSPECT_BYTES bytes per direction. TCP bytes are concatenated per direction in a fixed pool of
 * buffers (so a ClientHello or HTTP/2 HEADERS split over segments is still read); when the pool is
 * exhausted a flow is inspected packet by packet. UDP datagrams are inspected one by one. Payload
 * bytes are never stored in outputs.
 *
 * The pool is split evenly by host-pair bucket (flow/key.ts): a flow draws from its bucket's share,
 * so whether it gets a buffer depends only on flows of the same bucket. The worker pipeline shards by
 * those buckets, which keeps verdicts identical whatever the number of workers.
 */
import { IpProto, isIcmpProto } from '../util/ip-proto.js';
import type { FlowTable } from '../flow/table.js';
import { PAIR_BUCKETS, pairBucket, pairHash } from '../flow/key.js';
import type { PortIndex, Candidate } from '../rules/compile.js';
import type { ProtocolTag } from '../rules/protocol-tags.js';
import { decidePorts, type PortDecision } from './port-decision.js';
import { recognizePayload, type ProtocolEvidence } from './recognize/index.js';
import { addressClass, checkExposure, inCidrs, type Cidr, type ExposureClient } from './exposure.js';
import type { PolicyChecker, PolicyClient } from './policy-check.js';
import type { Exposure } from '../rules/types.js';
import type { Classification, FlowClassifier, ServiceRef, Verdict } from './types.js';

export const INSPECT_PACKETS = 4;
export const INSPECT_BYTES = 2048;
/** Flows inspected with concatenation at the same time (2 directions x INSPECT_BYTES each). */
export const INSPECT_POOL = 2048;
const BUFFERS_PER_BUCKET = INSPECT_POOL / PAIR_BUCKETS;

const ICMP_EVIDENCE: ProtocolEvidence = Object.freeze({ protocol: 'icmp', tags: ['icmp'], detail: {} }) as ProtocolEvidence;

export class PortMapClassifier implements FlowClassifier {
  private readonly decisions: Array<PortDecision | null>;
  private readonly decisionCache = new Map<number, PortDecision>();
  private readonly evidence: Array<ProtocolEvidence | null>; // slot*2 + direction (0 to server)
  private readonly done: Uint8Array; // slot*2 + direction
  private readonly packets: Uint8Array; // slot*2 + direction
  private readonly filled: Uint16Array; // slot*2 + direction
  private readonly bufferOf: Int32Array; // slot -> pool index, -1 none
  private readonly pool: Uint8Array;
  /** Per bucket b: free buffer ids in freeBuffers[b * BUFFERS_PER_BUCKET, + freeTop[b]). */
  private readonly freeBuffers: Int32Array;
  private readonly freeTop: Int32Array;

  private readonly evidenceDetail: boolean;
  /** --monitoring-hosts; null when not given (monitoring-only ports are then unchecked). */
  private readonly monitoringHosts: readonly Cidr[] | null;
  /** --policy (policy-check.ts); null: the documented exposure alone decides. */
  private readonly policy: PolicyChecker | null;
  /** Slim evidence (protocol and tags only), one shared object per distinct tag list. */
  private readonly slim = new Map<string, ProtocolEvidence>();

  constructor(
    private readonly index: PortIndex,
    capacity: number,
    opts: { evidenceDetail?: boolean; monitoringHosts?: readonly Cidr[] | null; policy?: PolicyChecker | null } = {},
  ) {
    this.evidenceDetail = opts.evidenceDetail !== false;
    this.monitoringHosts = opts.monitoringHosts ?? null;
    this.policy = opts.policy ?? null;
    this.decisions = new Array<PortDecision | null>(capacity).fill(null);
    this.evidence = new Array<ProtocolEvidence | null>(capacity * 2).fill(null);
    this.done = new Uint8Array(capacity * 2);
    this.packets = new Uint8Array(capacity * 2);
    this.filled = new Uint16Array(capacity * 2);
    this.bufferOf = new Int32Array(capacity).fill(-1);
    this.pool = new Uint8Array(INSPECT_POOL * 2 * INSPECT_BYTES);
    this.freeBuffers = new Int32Array(INSPECT_POOL);
    for (let i = 0; i < INSPECT_POOL; i++) this.freeBuffers[i] = i;
    this.freeTop = new Int32Array(PAIR_BUCKETS).fill(BUFFERS_PER_BUCKET);
  }

  flowStarted(t: FlowTable, s: number): void {
    const proto = t.proto(s);
    this.decisions[s] = this.decisionFor(proto, t.serverPort(s), t.clientPort(s));
    const e = s * 2;
    this.evidence[e] = this.evidence[e + 1] = null;
    this.done[e] = this.done[e + 1] = 0;
    if (isIcmpProto(proto)) {
      // The transport itself is the documented protocol (e.g. Redis Enterprise node connectivity).
      this.evidence[e] = ICMP_EVIDENCE;
      this.done[e] = this.done[e + 1] = 1;
    }
    this.packets[e] = this.packets[e + 1] = 0;
    this.filled[e] = this.filled[e + 1] = 0;
    this.releaseBuffer(s);
    if (proto === IpProto.TCP || proto === IpProto.UDP) {
      t.setInspect(s, true);
      if (proto === IpProto.TCP) {
        const bucket = pairBucket(pairHash(
          t.addressA(s, 0), t.addressA(s, 1), t.addressA(s, 2), t.addressA(s, 3),
          t.addressB(s, 0), t.addressB(s, 1), t.addressB(s, 2), t.addressB(s, 3), t.vlan(s),
        ));
        const top = this.freeTop[bucket]!;
        if (top > 0) {
          this.bufferOf[s] = this.freeBuffers[bucket * BUFFERS_PER_BUCKET + top - 1]!;
          this.freeTop[bucket] = top - 1;
        }
      }
    }
  }

  payload(t: FlowTable, s: number, toServer: boolean, buf: Uint8Array, offset: number, length: number): void {
    const d = toServer ? 0 : 1;
    const e = s * 2 + d;
    if (this.done[e] === 1) return;
    const proto = t.proto(s);
    const serverPort = t.serverPort(s);
    const n = ++this.packets[e]!;
    let ev: ProtocolEvidence | null;
    const b = this.bufferOf[s]!;
    if (proto === IpProto.TCP && b >= 0) {
      const base = (b * 2 + d) * INSPECT_BYTES;
      const have = this.filled[e]!;
      const take = Math.min(length, INSPECT_BYTES - have);
      this.pool.set(buf.subarray(offset, offset + take), base + have);
      this.filled[e] = have + take;
      ev = recognizePayload(this.pool, base, have + take, d, proto, serverPort);
      if (have + take >= INSPECT_BYTES) this.done[e] = 1;
    } else {
      ev = recognizePayload(buf, offset, Math.min(length, INSPECT_BYTES), d, proto, serverPort);
    }
    if (ev !== null) {
      // Per live flow, detail objects are most of the classifier's memory: keep them only when a
      // flow log will print them.
      this.evidence[e] = this.evidenceDetail ? ev : this.slimOf(ev);
      // Incomplete evidence may improve with more bytes: keep inspecting within the bounds.
      if (ev.incomplete !== true) this.done[e] = 1;
    }
    if (n >= INSPECT_PACKETS) this.done[e] = 1;
    if (this.done[s * 2] === 1 && this.done[s * 2 + 1] === 1) {
      t.setInspect(s, false);
      this.releaseBuffer(s);
    }
  }

  private slimOf(ev: ProtocolEvidence): ProtocolEvidence {
    const key = `${ev.protocol}|${ev.tags.join(',')}`;
    let slim = this.slim.get(key);
    if (slim === undefined) {
      slim = Object.freeze({ protocol: ev.protocol, tags: Object.freeze([...ev.tags]) as ProtocolEvidence['tags'], detail: EMPTY_EVIDENCE });
      this.slim.set(key, slim);
    }
    return slim;
  }

  private releaseBuffer(s: number): void {
    const b = this.bufferOf[s]!;
    if (b >= 0) {
      // Buffer ids are handed out per bucket: id / BUFFERS_PER_BUCKET is the bucket it belongs to.
      const bucket = (b / BUFFERS_PER_BUCKET) | 0;
      const top = this.freeTop[bucket]!;
      this.freeBuffers[bucket * BUFFERS_PER_BUCKET + top] = b;
      this.freeTop[bucket] = top + 1;
      this.bufferOf[s] = -1;
    }
  }

  /** The flow's client (originator) as the exposure check sees it. */
  private clientOf(t: FlowTable, s: number): ExposureClient {
    const v = t.ipVersion(s);
    const w0 = t.clientAddress(s, 0);
    const w1 = t.clientAddress(s, 1);
    const w2 = t.clientAddress(s, 2);
    const w3 = t.clientAddress(s, 3);
    if (this.policy !== null) return this.policy.client(v, w0, w1, w2, w3);
    const hosts = this.monitoringHosts;
    return { client: addressClass(v, w0, w1, w2, w3), monitoringHost: hosts === null ? null : inCidrs(hosts, v, w0, w1, w2, w3) };
  }

  classify(t: FlowTable, s: number, withEvidence = true): Classification {
    const c = verdictFor(this.decisions[s] ?? null, this.evidence[s * 2] ?? null, this.evidence[s * 2 + 1] ?? null, withEvidence, this.clientOf(t, s), this.policy);
    this.releaseBuffer(s);
    this.decisions[s] = null;
    this.evidence[s * 2] = this.evidence[s * 2 + 1] = null;
    return c;
  }

  /**
   * Port decisions depend only on the matching rule group and which side matched, so they are
   * shared between flows instead of built per flow.
   */
  private decisionFor(proto: number, serverPort: number, clientPort: number): PortDecision {
    const sg = this.index.lookup(proto, serverPort);
    const key = sg !== 0 ? (proto * 2) * 65536 + sg : (proto * 2 + 1) * 65536 + this.index.lookup(proto, clientPort);
    let d = this.decisionCache.get(key);
    if (d === undefined) {
      d = decidePorts(this.index, proto, serverPort, clientPort);
      this.decisionCache.set(key, d);
    }
    return d;
  }

  peek(t: FlowTable, s: number, withEvidence = true): Classification {
    const decision = this.decisions[s] ?? null;
    return verdictFor(decision, this.evidence[s * 2] ?? null, this.evidence[s * 2 + 1] ?? null, withEvidence, this.clientOf(t, s), this.policy);
  }

  observedProtocol(s: number): string | null {
    return (this.evidence[s * 2] ?? this.evidence[s * 2 + 1])?.protocol ?? null;
  }
}

const refs = new WeakMap<Candidate['rule'], ServiceRef>();
const refLists = new WeakMap<readonly Candidate[], readonly ServiceRef[]>();
const EMPTY_EVIDENCE: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Rules are immutable after loading: one frozen reference object per rule, shared by flows. */
function ref(c: Candidate): ServiceRef {
  let r = refs.get(c.rule);
  if (r === undefined) {
    r = Object.freeze({ id: c.rule.id, product: c.rule.product, component: c.rule.component });
    refs.set(c.rule, r);
  }
  return r;
}

function refList(list: readonly Candidate[]): ServiceRef[] {
  let r = refLists.get(list);
  if (r === undefined) {
    r = Object.freeze(list.map(ref));
    refLists.set(list, r);
  }
  return r as ServiceRef[];
}

function hasTag(ev: ProtocolEvidence | null, tag: ProtocolTag): boolean {
  return ev !== null && ev.tags.includes(tag);
}

/** The evidence record written to outputs: protocol, tags, then the decoded fields of both sides. */
function evidenceRecord(toServer: ProtocolEvidence | null, toClient: ProtocolEvidence | null): Record<string, string> {
  const primary = toServer ?? toClient;
  if (primary === null) return {};
  const tags = new Set<string>([...(toServer?.tags ?? []), ...(toClient?.tags ?? [])]);
  const evidence: Record<string, string> = { protocol: primary.protocol, tags: [...tags].sort().join(',') };
  Object.assign(evidence, toServer?.detail ?? {});
  // The reply's fields keep their own names unless the request already used them (dnsQr: query
  // and dnsQrReply: response, not one overwriting the other).
  for (const [k, v] of Object.entries(toClient?.detail ?? {})) {
    if (toServer && k in toServer.detail) {
      if (toServer.detail[k] !== v) evidence[`${k}Reply`] = v;
    } else {
      evidence[k] = v;
    }
  }
  return evidence;
}

export function verdictFor(
  decision: PortDecision | null,
  toServer: ProtocolEvidence | null,
  toClient: ProtocolEvidence | null,
  withEvidence = true,
  client: ExposureClient | null = null,
  policy: PolicyChecker | null = null,
): Classification {
  const evidence = withEvidence ? evidenceRecord(toServer, toClient) : EMPTY_EVIDENCE;
  const anyTag = (toServer !== null && toServer.tags.length > 0) || (toClient !== null && toClient.tags.length > 0);
  const candidates = decision?.candidates ?? [];
  const basis = decision?.basis ?? 'none';
  if (candidates.length === 0) {
    return { service: null, verdict: 'unknown', ambiguous: false, candidates: [], basis, evidence, exposure: null };
  }
  const tagged = (p: ProtocolTag): boolean => hasTag(toServer, p) || hasTag(toClient, p);
  let verdict: Verdict;
  let chosen: readonly Candidate[] = candidates;
  if (!anyTag) {
    verdict = 'port-only';
  } else {
    const matching = candidates.filter((c) => c.rule.protocols.some(tagged));
    if (matching.length > 0) {
      verdict = 'verified';
      // Evidence resolves ties between candidates that speak different protocols.
      if (matching.length < candidates.length) chosen = matching;
    } else if (tagged('tls')) {
      // TLS hides the protocol: only a document that promises plaintext makes it a mismatch.
      verdict = candidates.every((c) => c.rule.tls === 'none') ? 'mismatch' : 'encrypted';
    } else if (candidates.every((c) => c.rule.protocols.length > 0)) {
      verdict = 'mismatch';
    } else {
      verdict = 'port-only'; // the document names no protocol to contradict
    }
  }
  const service = chosen.length === 1 ? ref(chosen[0]!) : null;
  const exposure =
    client === null ? null : policy !== null ? policy.check(chosen, client as PolicyClient) : checkExposure(allowedExposure(chosen), client);
  return { service, verdict, ambiguous: chosen.length > 1, candidates: refList(chosen), basis, evidence, exposure };
}

/** The exposure classes any of `chosen` documents (an ambiguous flow may be any of them). */
function allowedExposure(chosen: readonly Candidate[]): readonly Exposure[] {
  if (chosen.length === 1) return chosen[0]!.rule.exposure;
  const out = new Set<Exposure>();
  for (const c of chosen) for (const e of c.rule.exposure) out.add(e);
  return [...out];
}
