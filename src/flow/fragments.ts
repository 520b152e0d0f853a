/**
 * Attributes non-first IP fragments to the flow of their first fragment, keyed by
 * (src, dst, protocol, fragment id, VLAN, tunnel context). Later fragments carry no ports, so without this table
 * they would be lost to the flow.
 *
 * Bounded by design: a direct-mapped table of FRAGMENT_SLOTS entries; a colliding datagram replaces
 * the older one (its remaining fragments then count as `ip_fragment_without_first`). Each entry
 * remembers the flow's serial so a slot reused by another flow is never credited by mistake.
 *
 * The slots are split by host-pair bucket (flow/key.ts pairBucket): a datagram can only collide
 * with datagrams of host pairs in the same bucket. The worker pipeline shards by the same buckets,
 * so every worker sees exactly the collisions the single-threaded engine sees.
 */
import { PAIR_BUCKETS, pairBucket, pairHash } from './key.js';

export const FRAGMENT_SLOTS = 4096;
const SLOTS_PER_BUCKET = FRAGMENT_SLOTS / PAIR_BUCKETS;
const KEY_WORDS = 12;

export class FragmentTable {
  /** Key words as the decoder has them (int32). */
  private readonly k = new Int32Array(FRAGMENT_SLOTS * KEY_WORDS);
  private readonly flowSlot = new Int32Array(FRAGMENT_SLOTS).fill(-1);
  private readonly flowSerial = new Float64Array(FRAGMENT_SLOTS);
  private readonly toServer = new Uint8Array(FRAGMENT_SLOTS);

  private static hash(
    s0: number, s1: number, s2: number, s3: number,
    d0: number, d1: number, d2: number, d3: number, proto: number, id: number, vlan: number,
  ): number {
    let h = Math.imul(id ^ (proto << 24), 0x9e3779b1);
    h = Math.imul(h ^ s3 ^ d3, 0x85ebca6b);
    h = Math.imul(h ^ s0 ^ s1 ^ s2 ^ d0 ^ d1 ^ d2, 0xc2b2ae35);
    const inBucket = (h ^ (h >>> 16)) & (SLOTS_PER_BUCKET - 1);
    return pairBucket(pairHash(s0, s1, s2, s3, d0, d1, d2, d3, vlan)) * SLOTS_PER_BUCKET + inBucket;
  }

  remember(
    s0: number, s1: number, s2: number, s3: number,
    d0: number, d1: number, d2: number, d3: number, proto: number, id: number, vlan: number, tunnel: number,
    slot: number, serial: number, toServer: boolean,
  ): void {
    const i = FragmentTable.hash(s0, s1, s2, s3, d0, d1, d2, d3, proto, id, vlan);
    const b = i * KEY_WORDS;
    const k = this.k;
    k[b] = s0; k[b + 1] = s1; k[b + 2] = s2; k[b + 3] = s3;
    k[b + 4] = d0; k[b + 5] = d1; k[b + 6] = d2; k[b + 7] = d3;
    k[b + 8] = proto; k[b + 9] = id; k[b + 10] = vlan; k[b + 11] = tunnel;
    this.flowSlot[i] = slot;
    this.flowSerial[i] = serial;
    this.toServer[i] = toServer ? 1 : 0;
  }

  /**
   * Returns the entry index for a later fragment, or -1. The caller checks that the flow slot still
   * holds the same serial.
   */
  find(
    s0: number, s1: number, s2: number, s3: number,
    d0: number, d1: number, d2: number, d3: number, proto: number, id: number, vlan: number, tunnel: number,
  ): number {
    const i = FragmentTable.hash(s0, s1, s2, s3, d0, d1, d2, d3, proto, id, vlan);
    if (this.flowSlot[i]! < 0) return -1;
    const b = i * KEY_WORDS;
    const k = this.k;
    if (k[b] !== (s0 | 0) || k[b + 1] !== (s1 | 0) || k[b + 2] !== (s2 | 0) || k[b + 3] !== (s3 | 0)) return -1;
    if (k[b + 4] !== (d0 | 0) || k[b + 5] !== (d1 | 0) || k[b + 6] !== (d2 | 0) || k[b + 7] !== (d3 | 0)) return -1;
    if (k[b + 8] !== proto || k[b + 9] !== (id | 0) || k[b + 10] !== (vlan | 0) || k[b + 11] !== (tunnel | 0)) return -1;
    return i;
  }

  slotOf(entry: number): number {
    return this.flowSlot[entry]!;
  }
  serialOf(entry: number): number {
    return this.flowSerial[entry]!;
  }
  isToServer(entry: number): boolean {
    return this.toServer[entry] === 1;
  }
}
