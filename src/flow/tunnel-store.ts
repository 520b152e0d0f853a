/**
 * The encapsulation stack of each live flow that was found inside a tunnel, as its first packet had
 * it (decode/tunnel.ts entry layout), for the flow record's `tunnel` list and the per-service
 * encapsulation counts. Written once per flow, when it starts; never per packet.
 *
 * Flows outside tunnels take no space: a slot is mapped to a region only while it holds a tunnelled
 * flow (a Map, not a column per slot: most flows are not tunnelled, and a run without tunnels never
 * looks it up), regions are recycled through a free list, and the region array grows (doubling,
 * like the flow index) with the number of live tunnelled flows instead of being sized for
 * --max-flows.
 */
import { MAX_TUNNEL_DEPTH, TUNNEL_WORDS, type DecodedPacket } from '../decode/types.js';
import { TF_HAS_ID, TF_OUTER_SHIFT, TW_DST, TW_FLAGS, TW_ID, TW_SRC, TW_TYPE, OuterKind, tunnelTypeName } from '../decode/tunnel.js';
import { formatAddress } from './key.js';

/** Region: the depth (and FIRST_FROM_CLIENT), then MAX_TUNNEL_DEPTH entries. */
const REGION_WORDS = 1 + MAX_TUNNEL_DEPTH * TUNNEL_WORDS;
/** Region word 0 bit: the recorded (first) packet was sent by the client. */
const FIRST_FROM_CLIENT = 0x100;
const DEPTH_MASK = 0xff;
const INITIAL_REGIONS = 64;

/** One encapsulation of a flow record (docs/output-schema.md `tunnel`). */
export interface TunnelInfo {
  /** vxlan, vxlan-gpe, geneve, gre, erspan, ip-in-ip, mpls, pppoe, teredo, gtp-u. */
  type: string;
  /** VNI (VXLAN, VXLAN-GPE, Geneve), GRE key (PPTP: call id), ERSPAN session, bottom MPLS label, PPPoE session, GTP-U TEID; null when the header has none. */
  id: number | null;
  /** The tunnel's endpoints (IP addresses; MAC addresses for MPLS and PPPoE on Ethernet), src on the client's side; null when unknown. */
  outer: { src: string; dst: string } | null;
}

function formatMac(hi: number, lo: number): string {
  const b = [hi >>> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export class TunnelStore {
  /** Bytes per slot up front: none (regions and the map grow with the tunnelled flows). */
  static readonly BYTES_PER_SLOT = 0;
  /** Region of each slot that holds a tunnelled flow. */
  private readonly regionOf = new Map<number, number>();
  private words = new Uint32Array(INITIAL_REGIONS * REGION_WORDS);
  private freeRegions = new Int32Array(INITIAL_REGIONS);
  private freeTop = 0;
  private regions = 0;
  /** Live tunnelled flows (0: clear() has nothing to do, and the table does not call it). */
  live = 0;

  /** Records the stack of `p` (tunnelDepth > 0), the first packet of the flow in `slot`. */
  set(slot: number, p: DecodedPacket, fromClient: boolean): void {
    let r = this.regionOf.get(slot);
    if (r === undefined) {
      r = this.allocate();
      this.regionOf.set(slot, r);
      this.live++;
    }
    const b = r * REGION_WORDS;
    const n = p.tunnelDepth * TUNNEL_WORDS;
    this.words[b] = p.tunnelDepth | (fromClient ? FIRST_FROM_CLIENT : 0);
    this.words.set(p.tunnels.subarray(0, n), b + 1);
  }

  /** The slot's flow ended: its region is free again. */
  clear(slot: number): void {
    const r = this.regionOf.get(slot);
    if (r === undefined) return;
    this.regionOf.delete(slot);
    this.freeRegions[this.freeTop++] = r;
    this.live--;
  }

  /** Encapsulations of the slot's flow (0: not tunnelled). */
  depth(slot: number): number {
    if (this.live === 0) return 0;
    const r = this.regionOf.get(slot);
    return r === undefined ? 0 : this.words[r * REGION_WORDS]! & DEPTH_MASK;
  }

  /** Type (TunnelType) of encapsulation `d` (0 = outermost, below depth()). */
  typeAt(slot: number, d: number): number {
    return this.words[this.entryBase(slot, d) + TW_TYPE]!;
  }

  /** Id of encapsulation `d`, or -1 when its header has none. */
  idAt(slot: number, d: number): number {
    const b = this.entryBase(slot, d);
    return (this.words[b + TW_FLAGS]! & TF_HAS_ID) !== 0 ? this.words[b + TW_ID]! : -1;
  }

  /**
   * The stack as record objects, outermost first. When the first packet (whose outer addresses were
   * recorded) came from the server, each entry's src and dst swap, so that `src` is the tunnel
   * endpoint on the client's side.
   */
  describe(slot: number): TunnelInfo[] {
    const out: TunnelInfo[] = [];
    if (this.depth(slot) === 0) return out;
    const w = this.words;
    const clientIsSrc = (w[this.regionOf.get(slot)! * REGION_WORDS]! & FIRST_FROM_CLIENT) !== 0;
    for (let d = 0; d < this.depth(slot); d++) {
      const b = this.entryBase(slot, d);
      const flags = w[b + TW_FLAGS]!;
      const kind = flags >>> TF_OUTER_SHIFT;
      let outer: TunnelInfo['outer'] = null;
      if (kind === OuterKind.Ipv4 || kind === OuterKind.Ipv6) {
        const s = formatAddress(kind, w[b + TW_SRC]!, w[b + TW_SRC + 1]!, w[b + TW_SRC + 2]!, w[b + TW_SRC + 3]!);
        const t = formatAddress(kind, w[b + TW_DST]!, w[b + TW_DST + 1]!, w[b + TW_DST + 2]!, w[b + TW_DST + 3]!);
        outer = clientIsSrc ? { src: s, dst: t } : { src: t, dst: s };
      } else if (kind === OuterKind.Mac) {
        const s = formatMac(w[b + TW_SRC]!, w[b + TW_SRC + 1]!);
        const t = formatMac(w[b + TW_DST]!, w[b + TW_DST + 1]!);
        outer = clientIsSrc ? { src: s, dst: t } : { src: t, dst: s };
      }
      out.push({ type: tunnelTypeName(w[b + TW_TYPE]!), id: (flags & TF_HAS_ID) !== 0 ? w[b + TW_ID]! : null, outer });
    }
    return out;
  }

  private entryBase(slot: number, d: number): number {
    return this.regionOf.get(slot)! * REGION_WORDS + 1 + d * TUNNEL_WORDS;
  }

  private allocate(): number {
    if (this.freeTop > 0) return this.freeRegions[--this.freeTop]!;
    const r = this.regions++;
    if ((r + 1) * REGION_WORDS > this.words.length) {
      // Doubling: amortised, and only while the number of live tunnelled flows reaches a new high.
      const words = new Uint32Array(this.words.length * 2);
      words.set(this.words);
      this.words = words;
      const free = new Int32Array(this.freeRegions.length * 2);
      free.set(this.freeRegions);
      this.freeRegions = free;
    }
    return r;
  }
}
