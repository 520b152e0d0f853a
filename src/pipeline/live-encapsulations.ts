/**
 * Encapsulation counts of live flows for snapshots (live-view.ts): which tunnels carry each
 * service's live flows, per type and id, counted like encapsulations.ts counts ended flows (a flow
 * once for every distinct encapsulation of its stack).
 *
 * A flow's stack is fixed when it starts, but its entries sit in the tunnel store's regions, in
 * allocation order, not slot order: reading them for every live flow at every snapshot is a cache
 * miss or more per flow. So a stack is resolved once, when the live view (re)computes the flow's
 * classification, to a code for its set of distinct encapsulations; a snapshot then adds the flow
 * to its group's counters by that code (one typed-array read, no allocation). Created with the
 * first tunnelled flow, so captures without tunnels pay nothing.
 */
import { tunnelTypeName } from '../decode/tunnel.js';
import type { FlowTable } from '../flow/table.js';
import type { EncapsulationCount } from './results.js';

/** Counters per stack code: flows, packets, bytes. */
const FIELDS = 3;

export class LiveEncapsulations {
  /** Stack code of each slot's flow, -1 when it is not tunnelled. */
  private readonly code: Int32Array;
  /** Per stack code: the indexes (into `entries`) of its distinct encapsulations. */
  private readonly stacks: number[][] = [];
  /** Stack code by its entries ("3,7") for nested stacks, and by its one entry for single ones. */
  private readonly stackCode = new Map<string, number>();
  private readonly singleCode = new Map<number, number>();
  /** Distinct (type, id) pairs seen. */
  private readonly entries: Array<{ type: string; id: number | null }> = [];
  private readonly entryIndex = new Map<number, number>();
  /** Per group index: FIELDS counters per stack code (grown as codes appear). */
  private readonly counts: number[][] = [];

  constructor(capacity: number) {
    this.code = new Int32Array(capacity).fill(-1);
  }

  /** Records the stack of the flow now in `s` (a new flow, or one whose classification is recomputed). */
  resolve(t: FlowTable, s: number): void {
    const tunnels = t.tunnels;
    const depth = tunnels.depth(s);
    if (depth === 0) {
      this.code[s] = -1;
      return;
    }
    // One encapsulation (the common case): no key string, no array.
    if (depth === 1) {
      const e = this.entry(tunnels.typeAt(s, 0), tunnels.idAt(s, 0));
      let code = this.singleCode.get(e);
      if (code === undefined) {
        code = this.stacks.length;
        this.stacks.push([e]);
        this.singleCode.set(e, code);
      }
      this.code[s] = code;
      return;
    }
    const ids: number[] = [];
    for (let d = 0; d < depth; d++) {
      const e = this.entry(tunnels.typeAt(s, d), tunnels.idAt(s, d));
      if (!ids.includes(e)) ids.push(e);
    }
    const key = ids.join(',');
    let code = this.stackCode.get(key);
    if (code === undefined) {
      code = this.stacks.length;
      this.stacks.push(ids);
      this.stackCode.set(key, code);
    }
    this.code[s] = code;
  }

  /** The index of the (type, raw id) pair in `entries` (raw -1: no id), added when new. */
  private entry(type: number, raw: number): number {
    // Exact as a number: type < 2^8, raw + 1 < 2^33.
    const key = type * 8_589_934_592 + raw + 1;
    let e = this.entryIndex.get(key);
    if (e === undefined) {
      e = this.entries.length;
      this.entries.push({ type: tunnelTypeName(type), id: raw < 0 ? null : raw });
      this.entryIndex.set(key, e);
    }
    return e;
  }

  /** Zero counters for the next snapshot. */
  reset(): void {
    for (const c of this.counts) if (c !== undefined) c.fill(0);
  }

  /** Adds the live flow in `s` to group `group` (nothing when it is not tunnelled). */
  add(group: number, s: number, packets: number, bytes: number): void {
    const code = this.code[s]!;
    if (code < 0) return;
    let c = this.counts[group];
    if (c === undefined) this.counts[group] = c = [];
    const i = code * FIELDS;
    while (c.length < i + FIELDS) c.push(0);
    c[i]!++;
    c[i + 1]! += packets;
    c[i + 2]! += bytes;
  }

  /** The group's counts per encapsulation since reset() (empty when none of its flows was tunnelled). */
  countsOf(group: number): EncapsulationCount[] {
    const c = this.counts[group];
    if (c === undefined) return [];
    const out = new Map<number, EncapsulationCount>();
    for (let code = 0; code * FIELDS < c.length; code++) {
      const i = code * FIELDS;
      if (c[i] === 0) continue;
      for (const e of this.stacks[code]!) {
        let x = out.get(e);
        if (x === undefined) out.set(e, (x = { ...this.entries[e]!, flows: 0, packets: 0, bytes: 0 }));
        x.flows += c[i]!;
        x.packets += c[i + 1]!;
        x.bytes += c[i + 2]!;
      }
    }
    return [...out.values()];
  }
}
