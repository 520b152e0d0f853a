/**
 * The classifier: joins the port decision (which documented rules a flow's ports point at) with
 * payload evidence (which protocol the first bytes speak) into a verdict.
 *
 * Runs once per flow plus a bounded payload inspection: at most INSPECT_PACKETS packets and
 * INSPECT_BYTES bytes per direction. TCP bytes are concatenated per direction in a fixed pool of
 * buffers (so a ClientHello or HTTP/2 HEADERS split over segments is still read); when the pool is
 * exhausted a flow is inspected packet by packet. UDP datagrams are inspected one by one. Payload
 * bytes are never stored in outputs. A buffered TCP direction whose bytes no recogniser can ever
 * accept (recognize/index.ts, tcpNeverRecognised) is not copied or recognised again: its packets
 * only count against the budget, so its buffer goes back to the pool when it would have.
 *
 * The pool is split evenly by host-pair bucket (flow/key.ts): a flow draws from its bucket's share,
 * so whether it gets a buffer depends only on flows of the same bucket. The worker pipeline shards by
 * those buckets, which keeps verdicts identical whatever the number of workers.
 */
import { IpProto, isIcmpProto } from '../util/ip-proto.js';
import type { FlowTable } from '../flow/table.js';
import { PAIR_BUCKETS, pairBucket, pairHash } from '../flow/key.js';
import type { PortIndex, Candidate } from '../rules/compile.js';
import { PROTOCOL_TAGS, type ProtocolTag } from '../rules/protocol-tags.js';
import { decidePorts, type PortDecision } from './port-decision.js';
import { recognizePayload, tcpNeverRecognised, type ProtocolEvidence } from './recognize/index.js';
import { DetailStore } from './detail-store.js';
import { addressClass, checkExposure, inCidrs, type AddressClass, type Cidr, type ExposureClient } from './exposure.js';
import type { PolicyChecker, PolicyClient } from './policy-check.js';
import type { Exposure } from '../rules/types.js';
import type { Classification, FlowClassifier, ServiceRef, Verdict } from './types.js';

export const INSPECT_PACKETS = 4;
export const INSPECT_BYTES = 2048;
/** Flows inspected with concatenation at the same time (2 directions x INSPECT_BYTES each). */
export const INSPECT_POOL = 2048;
const BUFFERS_PER_BUCKET = INSPECT_POOL / PAIR_BUCKETS;

/**
 * Per direction state byte: packets inspected so far (low bits), whether inspection is done, and
 * whether the direction's bytes can never be recognised (TCP with a buffer: tcpNeverRecognised).
 */
const DONE = 0x80;
const NEVER = 0x40;
const PACKETS_MASK = 0x3f;

/**
 * Per slot, one 16-byte record in a single buffer (four slots to a cache line, instead of five
 * arrays touched by every new flow). Offsets in units of the view that indexes them; `d` is the
 * direction (0 to the server, 1 to the client).
 */
const REC_BYTES = 16;
const REC_I32 = 4;
const REC_U16 = 8;
/** int32: the port decision's index. */
const R_DECISION = 0;
/** uint16 + d: tag-set id of the direction's evidence (0: none). */
const R_TAG_SET = 2;
/** byte + d: packets inspected, DONE and NEVER. */
const R_STATE = 8;
/** uint16: reassembly buffer + 1 (0: none). */
const R_BUFFER = 5;
/** uint16 + d: bytes of the direction in its reassembly buffer. */
const R_FILLED = 6;
/** Address classes as small integers (the verdict cache's client key); comparisons, not a keyed load per flow. */
function classIndex(c: AddressClass): number {
  return c === 'public' ? 3 : c === 'private' ? 1 : c === 'loopback' ? 0 : 2;
}
/** Tag-set ids at or above this are not cached with the verdict (a bound on the cache key). */
const CACHED_TAG_SETS = 4096;

const ICMP_EVIDENCE: ProtocolEvidence = Object.freeze({ protocol: 'icmp', tags: Object.freeze(['icmp']), detail: {} }) as ProtocolEvidence;
const NO_CANDIDATES: ServiceRef[] = Object.freeze([]) as unknown as ServiceRef[];

/**
 * Evidence reduced to what verdicts and the coverage report read: the protocol and the set of tags.
 * Each distinct (protocol, tag set) gets an id and one shared slim evidence object (protocol and
 * tags, no detail), so a flow keeps two small integers instead of two objects, and verdicts can be
 * cached per (port decision, tag sets, client class).
 */
class TagSets {
  private readonly ids = new Map<number, number>();
  /** Ids of shared (frozen) evidence objects recognisers return without details: no key to compute. */
  private readonly byObject = new Map<ProtocolEvidence, number>();
  /** Slim evidence by id (id 0: none). */
  readonly slim: Array<ProtocolEvidence | null> = [null];
  private readonly tagBit = new Map<string, number>();

  constructor() {
    Object.keys(PROTOCOL_TAGS).forEach((tag, i) => this.tagBit.set(tag, i));
  }

  /** The last shared object asked about: a run of DNS flows asks about the same one every time. */
  private lastShared: ProtocolEvidence | null = null;
  private lastSharedId = 0;

  idOf(ev: ProtocolEvidence): number {
    if (ev === this.lastShared) return this.lastSharedId;
    // Only shared objects are frozen, and only they are looked up by identity: a map lookup of a
    // fresh object would also give it an identity hash, for nothing.
    const shared = Object.isFrozen(ev);
    const known = shared ? this.byObject.get(ev) : undefined;
    if (known !== undefined) {
      this.lastShared = ev;
      this.lastSharedId = known;
      return known;
    }
    let mask = 0;
    for (const t of ev.tags) mask |= 1 << this.tagBit.get(t)!;
    const key = this.tagBit.get(ev.protocol)! * 0x100000 + mask;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.slim.length;
      this.slim.push(Object.freeze({ protocol: ev.protocol, tags: Object.freeze([...ev.tags]) as ProtocolEvidence['tags'], detail: EMPTY_EVIDENCE }));
      this.ids.set(key, id);
    }
    if (shared) this.byObject.set(ev, id);
    return id;
  }
}

export class PortMapClassifier implements FlowClassifier {
  /**
   * Distinct port decisions (shared between flows), and the one of each live flow. Index 0 is no
   * decision: what a flow has after classify() (a record continued after an active-timeout cut is
   * classified again without one, as before this list existed).
   */
  private readonly decisionList: Array<PortDecision | null> = [null];
  private readonly decisionIndex = new Map<number, number>();
  /** Groups of the port index (its lookup() ids are below this). */
  private readonly groupCount: number;
  /** decisionIndex for TCP and UDP: at ((0 TCP | 2 UDP) + side) * groupCount + group, 0 = not yet. */
  private readonly decisionByGroup: Int32Array;
  /** Per slot records (R_* offsets), through three views of one buffer. */
  private readonly recI32: Int32Array;
  private readonly recU16: Uint16Array;
  private readonly recU8: Uint8Array;
  /** Verdicts without evidence details, by decision, then tag sets and client class (policyless runs). */
  private readonly verdictCache: Array<Map<number, Classification>> = [new Map()];
  private readonly tagSets = new TagSets();
  /** The verdict verdictOf() found last, with its decision and cache key. */
  private lastVerdictDecision = -1;
  private lastVerdictKey = -1;
  private lastVerdict: Classification | null = null;
  /**
   * With evidenceDetail: the detail of each direction's evidence (slot*2 + d), as a DetailStore
   * reference (0: none, or no fields); its protocol and tags are the slim evidence of its tag set.
   */
  private readonly evidenceRef: Int32Array | null;
  private readonly details: DetailStore | null;
  private readonly pool: Uint8Array;
  /** Per bucket b: free buffer ids in freeBuffers[b * BUFFERS_PER_BUCKET, + freeTop[b]). */
  private readonly freeBuffers: Int32Array;
  private readonly freeTop: Int32Array;
  private readonly icmpTagSet: number;

  private readonly evidenceDetail: boolean;
  /**
   * Nothing reads a flow's evidence but its verdict (and, for flows on no documented port, the
   * protocol seen): a summary without flow records or live views. A flow without a reassembly
   * buffer (UDP, or TCP when its bucket's share of the pool was taken) then stops being inspected
   * once one direction's final evidence verifies every candidate, as the other direction cannot
   * change that verdict (a DNS flood: the reply is not parsed).
   */
  private readonly verdictsOnly: boolean;
  /** settles() answers by (decision << 16 | tag set), and the last one asked. */
  private readonly settleCache = new Map<number, boolean>();
  private lastSettleKey = -1;
  private lastSettles = false;
  /** --monitoring-hosts; null when not given (monitoring-only ports are then unchecked). */
  private readonly monitoringHosts: readonly Cidr[] | null;
  /** --policy (policy-check.ts); null: the documented exposure alone decides. */
  private readonly policy: PolicyChecker | null;

  /**
   * Bytes per flow slot this classifier allocates (decision, tag sets, inspection state, buffer
   * reference; with evidence details also the evidence references).
   */
  static bytesPerSlot(evidenceDetail: boolean): number {
    return REC_BYTES + (evidenceDetail ? 8 : 0);
  }

  /** Flow slots it keeps state for: at least the table's (FlowTable.capacity). */
  readonly capacity: number;

  constructor(
    private readonly index: PortIndex,
    capacity: number,
    opts: { evidenceDetail?: boolean; verdictsOnly?: boolean; monitoringHosts?: readonly Cidr[] | null; policy?: PolicyChecker | null } = {},
  ) {
    this.capacity = capacity;
    this.verdictsOnly = opts.verdictsOnly === true;
    this.groupCount = index.groupCount;
    this.decisionByGroup = new Int32Array(4 * this.groupCount);
    this.evidenceDetail = opts.evidenceDetail !== false;
    this.monitoringHosts = opts.monitoringHosts ?? null;
    this.policy = opts.policy ?? null;
    this.recI32 = new Int32Array(capacity * REC_I32);
    this.recU16 = new Uint16Array(this.recI32.buffer);
    this.recU8 = new Uint8Array(this.recI32.buffer);
    this.evidenceRef = this.evidenceDetail ? new Int32Array(capacity * 2) : null;
    this.details = this.evidenceDetail ? new DetailStore() : null;
    this.pool = new Uint8Array(INSPECT_POOL * 2 * INSPECT_BYTES);
    this.freeBuffers = new Int32Array(INSPECT_POOL);
    for (let i = 0; i < INSPECT_POOL; i++) this.freeBuffers[i] = i;
    this.freeTop = new Int32Array(PAIR_BUCKETS).fill(BUFFERS_PER_BUCKET);
    this.icmpTagSet = this.tagSets.idOf(ICMP_EVIDENCE);
  }

  prefetch(s: number): number {
    return this.recI32[s * REC_I32]!;
  }

  flowStarted(t: FlowTable, s: number): void {
    const proto = t.proto(s);
    this.releaseBuffer(s);
    this.recI32[s * REC_I32 + R_DECISION] = this.decisionFor(proto, t.serverPort(s), t.clientPort(s));
    this.setEvidence(s, 0, null, 0);
    this.setEvidence(s, 1, null, 0);
    const st = s * REC_BYTES + R_STATE;
    this.recU8[st] = this.recU8[st + 1] = 0;
    if (isIcmpProto(proto)) {
      // The transport itself is the documented protocol (e.g. Redis Enterprise node connectivity).
      this.setEvidence(s, 0, ICMP_EVIDENCE, this.icmpTagSet);
      this.recU8[st] = this.recU8[st + 1] = DONE;
    }
    const f = s * REC_U16 + R_FILLED;
    this.recU16[f] = this.recU16[f + 1] = 0;
    if (proto === IpProto.TCP || proto === IpProto.UDP) {
      t.setInspect(s, true);
      if (proto === IpProto.TCP) {
        const bucket = pairBucket(pairHash(
          t.addressA(s, 0), t.addressA(s, 1), t.addressA(s, 2), t.addressA(s, 3),
          t.addressB(s, 0), t.addressB(s, 1), t.addressB(s, 2), t.addressB(s, 3), t.vlan(s),
        ));
        const top = this.freeTop[bucket]!;
        if (top > 0) {
          this.recU16[s * REC_U16 + R_BUFFER] = this.freeBuffers[bucket * BUFFERS_PER_BUCKET + top - 1]! + 1;
          this.freeTop[bucket] = top - 1;
        }
      }
    }
  }

  payload(t: FlowTable, s: number, toServer: boolean, buf: Uint8Array, offset: number, length: number): void {
    const d = toServer ? 0 : 1;
    const stAt = s * REC_BYTES + R_STATE;
    const st = this.recU8[stAt + d]!;
    if ((st & DONE) !== 0) return;
    const proto = t.proto(s);
    const serverPort = t.serverPort(s);
    const n = (st & PACKETS_MASK) + 1;
    let never = st & NEVER;
    let done = n >= INSPECT_PACKETS;
    let ev: ProtocolEvidence | null = null;
    const b = this.recU16[s * REC_U16 + R_BUFFER]! - 1;
    let copyFirst = -1;
    if (proto === IpProto.TCP && b >= 0) {
      const base = (b * 2 + d) * INSPECT_BYTES;
      const fAt = s * REC_U16 + R_FILLED + d;
      const have = this.recU16[fAt]!;
      const take = Math.min(length, INSPECT_BYTES - have);
      if (never !== 0) {
        // Nothing appended to these bytes can be recognised: the packet only counts against the
        // budget, so inspection ends (and the buffer goes back to the pool) when it would have.
        this.recU16[fAt] = have + take;
      } else if (have === 0) {
        // The direction's first bytes are recognised where they are, and copied into the buffer
        // only if inspection goes on (below): most flows say what they speak in their first segment.
        ev = recognizePayload(buf, offset, take, d, proto, serverPort, this.evidenceDetail);
        if (ev === null && tcpNeverRecognised(buf, offset, take, d)) {
          never = NEVER;
          this.recU16[fAt] = take;
        } else {
          copyFirst = take;
        }
      } else {
        this.copyToPool(base + have, buf, offset, take);
        this.recU16[fAt] = have + take;
        ev = recognizePayload(this.pool, base, have + take, d, proto, serverPort, this.evidenceDetail);
        if (ev === null && tcpNeverRecognised(this.pool, base, have + take, d)) never = NEVER;
      }
      if (have + take >= INSPECT_BYTES) done = true;
    } else {
      ev = recognizePayload(buf, offset, Math.min(length, INSPECT_BYTES), d, proto, serverPort, this.evidenceDetail);
    }
    if (ev !== null) {
      const tagSet = this.tagSets.idOf(ev);
      // Per live flow, detail objects are most of the classifier's memory: keep them only when a
      // flow log will print them.
      this.setEvidence(s, d, this.evidenceDetail ? ev : null, tagSet);
      // Incomplete evidence may improve with more bytes: keep inspecting within the bounds.
      if (ev.incomplete !== true) {
        done = true;
        // Not for a buffered TCP flow: when its inspection ends decides when its buffer goes back to
        // the pool, which other flows' evidence depends on (and a direction ends early only when
        // its own evidence is complete, so it must still be recognised).
        if (this.verdictsOnly && b < 0 && this.settles(this.recI32[s * REC_I32 + R_DECISION]!, tagSet)) {
          // Nothing the other direction shows can change the verdict (a UDP query and its reply, a
          // TCP flow without a reassembly buffer): its inspection ends now.
          const other = stAt + 1 - d;
          this.recU8[other] = this.recU8[other]! | DONE;
          t.stopInspecting(s, !toServer);
        }
      }
    }
    this.recU8[stAt + d] = (done ? n | DONE : n) | never;
    // The direction's later packets need not come here (nor leave the fast path) any more.
    if (done) t.stopInspecting(s, toServer);
    if (copyFirst >= 0 && !done) {
      this.copyToPool((b * 2 + d) * INSPECT_BYTES, buf, offset, copyFirst);
      this.recU16[s * REC_U16 + R_FILLED + d] = copyFirst;
    }
    if ((this.recU8[stAt]! & this.recU8[stAt + 1]! & DONE) !== 0) {
      t.setInspect(s, false);
      this.releaseBuffer(s);
    }
  }

  /**
   * True when the tags of `tagSet` name a protocol of every candidate of decision `di`: the verdict
   * is then 'verified' with all candidates, whatever the other direction shows (verdictFor: more
   * tags only add matching candidates). False without candidates: the protocol seen is reported.
   */
  private settles(di: number, tagSet: number): boolean {
    const key = di * 65536 + tagSet;
    if (key === this.lastSettleKey) return this.lastSettles;
    let v = this.settleCache.get(key);
    if (v === undefined) {
      const candidates = this.decisionList[di]?.candidates ?? [];
      const tags = this.tagSets.slim[tagSet]?.tags ?? [];
      v = candidates.length > 0 && candidates.every((c) => c.rule.protocols.some((p) => tags.includes(p)));
      this.settleCache.set(key, v);
    }
    this.lastSettleKey = key;
    this.lastSettles = v;
    return v;
  }

  private copyToPool(at: number, buf: Uint8Array, offset: number, n: number): void {
    const pool = this.pool;
    // Small segments byte by byte: no subarray view per packet.
    if (n <= 64) for (let i = 0; i < n; i++) pool[at + i] = buf[offset + i]!;
    else pool.set(buf.subarray(offset, offset + n), at);
  }

  /** Sets direction `d`'s evidence (tag-set id 0: none; `ev`'s detail only kept with evidence details). */
  private setEvidence(s: number, d: number, ev: ProtocolEvidence | null, tagSet: number): void {
    this.recU16[s * REC_U16 + R_TAG_SET + d] = tagSet;
    const refs = this.evidenceRef;
    if (refs === null) return;
    const e = s * 2 + d;
    const details = this.details!;
    details.release(refs[e]!);
    refs[e] = tagSet === 0 || ev === null ? 0 : details.put(ev.detail);
  }

  /** Direction `d`'s evidence: with evidence details rebuilt from the store, else the slim one. */
  private evidenceAt(s: number, d: number): ProtocolEvidence | null {
    const slim = this.tagSets.slim[this.recU16[s * REC_U16 + R_TAG_SET + d]!] ?? null;
    const refs = this.evidenceRef;
    if (refs === null || slim === null) return slim;
    return { protocol: slim.protocol, tags: slim.tags, detail: this.details!.get(refs[s * 2 + d]!) };
  }

  private releaseBuffer(s: number): void {
    const at = s * REC_U16 + R_BUFFER;
    const b = this.recU16[at]! - 1;
    if (b >= 0) {
      // Buffer ids are handed out per bucket: id / BUFFERS_PER_BUCKET is the bucket it belongs to.
      const bucket = (b / BUFFERS_PER_BUCKET) | 0;
      const top = this.freeTop[bucket]!;
      this.freeBuffers[bucket * BUFFERS_PER_BUCKET + top] = b;
      this.freeTop[bucket] = top + 1;
      this.recU16[at] = 0;
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
    const c = this.verdictOf(t, s, withEvidence);
    this.releaseBuffer(s);
    this.recI32[s * REC_I32 + R_DECISION] = 0;
    this.setEvidence(s, 0, null, 0);
    this.setEvidence(s, 1, null, 0);
    return c;
  }

  peek(t: FlowTable, s: number, withEvidence = true): Classification {
    return this.verdictOf(t, s, withEvidence);
  }

  /**
   * The flow's verdict. Without --policy the part that does not depend on evidence details is the
   * same for every flow with the same port decision, tag sets and client class: computed once,
   * shared (frozen), and joined with the flow's own evidence record when one is wanted.
   */
  private verdictOf(t: FlowTable, s: number, withEvidence: boolean): Classification {
    const di = this.recI32[s * REC_I32 + R_DECISION]!;
    const decision = this.decisionList[di] ?? null;
    const ts = this.recU16[s * REC_U16 + R_TAG_SET]!;
    const tc = this.recU16[s * REC_U16 + R_TAG_SET + 1]!;
    if (this.policy !== null || ts >= CACHED_TAG_SETS || tc >= CACHED_TAG_SETS) {
      return verdictFor(decision, this.evidenceAt(s, 0), this.evidenceAt(s, 1), withEvidence, this.clientOf(t, s), this.policy);
    }
    const v = t.ipVersion(s);
    const w0 = t.clientAddress(s, 0);
    const w1 = t.clientAddress(s, 1);
    const w2 = t.clientAddress(s, 2);
    const w3 = t.clientAddress(s, 3);
    const addr = addressClass(v, w0, w1, w2, w3);
    const hosts = this.monitoringHosts;
    const monitoringHost = hosts === null ? null : inCidrs(hosts, v, w0, w1, w2, w3);
    const clientKey = classIndex(addr) * 3 + (monitoringHost === null ? 0 : monitoringHost ? 1 : 2);
    const key = (ts * CACHED_TAG_SETS + tc) * 16 + clientKey;
    let c: Classification | undefined;
    if (di === this.lastVerdictDecision && key === this.lastVerdictKey) {
      // Runs of flows of one kind (a DNS flood) end with the same verdict: skip the map.
      c = this.lastVerdict!;
    } else {
      const cache = this.verdictCache[di]!;
      c = cache.get(key);
      if (c === undefined) {
        const client: ExposureClient = { client: addr, monitoringHost };
        c = freezeClassification(verdictFor(decision, this.tagSets.slim[ts]!, this.tagSets.slim[tc]!, false, client, null));
        cache.set(key, c);
      }
      this.lastVerdictDecision = di;
      this.lastVerdictKey = key;
      this.lastVerdict = c;
    }
    if (!withEvidence) return c;
    return { ...c, evidence: evidenceRecord(this.evidenceAt(s, 0), this.evidenceAt(s, 1)) };
  }

  /**
   * Port decisions depend only on the matching rule group and which side matched, so they are
   * shared between flows instead of built per flow. Returns the decision's index.
   */
  private decisionFor(proto: number, serverPort: number, clientPort: number): number {
    const sg = this.index.lookup(proto, serverPort);
    const side = sg !== 0 ? 0 : 1;
    const g = sg !== 0 ? sg : this.index.lookup(proto, clientPort);
    // TCP and UDP (nearly every flow): an array read instead of a map lookup.
    const fast = proto === IpProto.TCP ? 0 : proto === IpProto.UDP ? 2 : -1;
    const at = fast < 0 ? -1 : (fast + side) * this.groupCount + g;
    if (at >= 0) {
      const known = this.decisionByGroup[at]!;
      if (known !== 0) return known;
    }
    const key = (proto * 2 + side) * 65536 + g;
    let d = this.decisionIndex.get(key);
    if (at >= 0 && d !== undefined) this.decisionByGroup[at] = d;
    if (d === undefined) {
      d = this.decisionList.length;
      this.decisionList.push(decidePorts(this.index, proto, serverPort, clientPort));
      this.verdictCache.push(new Map());
      this.decisionIndex.set(key, d);
      if (at >= 0) this.decisionByGroup[at] = d;
    }
    return d;
  }

  observedProtocol(s: number): string | null {
    const slim = this.tagSets.slim;
    const at = s * REC_U16 + R_TAG_SET;
    return (slim[this.recU16[at]!] ?? slim[this.recU16[at + 1]!])?.protocol ?? null;
  }
}

/** A cached verdict is shared by many flows: frozen, so that nothing can change one flow through another. */
function freezeClassification(c: Classification): Classification {
  if (c.exposure !== null) {
    Object.freeze(c.exposure.allowed);
    Object.freeze(c.exposure);
  }
  if (c.candidates.length === 0) c.candidates = NO_CANDIDATES;
  return Object.freeze(c);
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

/**
 * The evidence record written to outputs: protocol, tags, then the decoded fields of both sides.
 * Built once per flow record, so without intermediate sets, arrays or sorts.
 */
function evidenceRecord(toServer: ProtocolEvidence | null, toClient: ProtocolEvidence | null): Record<string, string> {
  const primary = toServer ?? toClient;
  if (primary === null) return {};
  const evidence: Record<string, string> = { protocol: primary.protocol, tags: tagsText(toServer?.tags ?? NO_TAGS, toClient?.tags ?? NO_TAGS) };
  if (toServer !== null) {
    const d = toServer.detail;
    for (const k in d) evidence[k] = d[k]!;
  }
  if (toClient !== null) {
    const d = toClient.detail;
    // The reply's fields keep their own names unless the request already used them (dnsQr: query
    // and dnsQrReply: response, not one overwriting the other).
    const asked = toServer?.detail ?? null;
    for (const k in d) {
      const v = d[k]!;
      if (asked !== null && k in asked) {
        if (asked[k] !== v) evidence[`${k}Reply`] = v;
      } else {
        evidence[k] = v;
      }
    }
  }
  return evidence;
}

const NO_TAGS: readonly string[] = Object.freeze([]);

/** Both sides' tags, each once, sorted, comma-separated (the common one- and two-tag cases directly). */
function tagsText(a: readonly string[], b: readonly string[]): string {
  if (b.length === 0 || (b.length === 1 && a.length === 1 && a[0] === b[0])) {
    if (a.length === 1) return a[0]!;
    if (a.length === 0 && b.length === 1) return b[0]!;
  } else if (a.length === 0 && b.length === 1) {
    return b[0]!;
  } else if (a.length === 1 && b.length === 1) {
    return a[0]! < b[0]! ? `${a[0]!},${b[0]!}` : `${b[0]!},${a[0]!}`;
  }
  return [...new Set<string>([...a, ...b])].sort().join(',');
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
