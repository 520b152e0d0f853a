/**
 * The packet loop of bench/ceiling.ts (see there): a pcap file through a minimal decode and flow
 * table, in one function over typed arrays. Kept in its own module so that the runner can bundle it
 * alone into plain JavaScript for a child `node` process.
 */
import { closeSync, openSync, read, readSync } from 'node:fs';

/** Slots of the flow table by default (the engine's default --max-flows). */
export const CEILING_CAPACITY = 262_144;
const KEY_WORDS = 12;
const CHUNK = 2 * 1024 * 1024;
/** Room in front of a chunk for the record cut at the end of the previous one. */
const HEADROOM = 256 * 1024;

function readAt(fd: number, buf: Uint8Array, offset: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, offset, CHUNK, null, (err, n) => (err ? reject(err) : resolve(n))));
}

// TCP flags, flow flags and history letters, with the engine's values (decode/types.ts, flow/tcp-state.ts).
const FIN = 1;
const SYN = 2;
const RST = 4;
const ACK = 16;
const CLIENT_SYN = 1;
const SERVER_SYNACK = 2;
const HANDSHAKE_DONE = 4;
const CLIENT_FIN = 8;
const SERVER_FIN = 16;
const CLIENT_RST = 32;
const SERVER_RST = 64;
const CLIENT_SENT = 128;
const SERVER_SENT = 256;
const H_SYN = 0;
const H_SYNACK = 1;
const H_ACK = 2;
const H_DATA = 3;
const H_FIN = 4;
const H_RST = 5;
const H_SERVER = 6;
const HISTORY_MAX = 12;

/** TcpState.addLetter: each letter once, in the order first seen, four 4-bit letters to a word. */
function addLetter(rowI: Int32Array, hist: Uint16Array, s: number, letter: number): void {
  const bit = 1 << letter;
  const h = s * 4 + 2;
  const seen = rowI[h]!;
  if ((seen & bit) !== 0) return;
  rowI[h] = seen | bit;
  const len = rowI[s * 4 + 3]!;
  if (len < HISTORY_MAX) {
    const w = s * 3 + (len >> 2);
    const shift = (len & 3) * 4;
    hist[w] = shift === 0 ? letter : hist[w]! | (letter << shift);
    rowI[s * 4 + 3] = len + 1;
  }
}

/** The flow table: typed arrays, and the scalars the walk keeps between chunks in `state`. */
interface Table {
  capacity: number;
  index: Int32Array;
  keys: Int32Array;
  hashes: Int32Array;
  counts: Float64Array;
  flags: Uint8Array;
  /** With `features`: the engine's per-packet work too (see walk()); else empty. */
  features: boolean;
  rowF: Float64Array;
  rowI: Int32Array;
  hist: Uint16Array;
  /** The flow clock: highest second, largest step back, next sweep second, sweeps. */
  clock: Float64Array;
  prev: Int32Array;
  next: Int32Array;
  /** head, tail, used, created, evicted, packets, other. */
  state: Int32Array;
}

function newTable(capacity: number, features: boolean): Table {
  const n = features ? capacity : 0;
  const state = new Int32Array(7);
  state[0] = -1;
  state[1] = -1;
  return {
    capacity,
    index: new Int32Array(capacity * 2),
    keys: new Int32Array(capacity * KEY_WORDS),
    hashes: new Int32Array(capacity),
    counts: new Float64Array(capacity * 5),
    flags: new Uint8Array(capacity),
    features,
    rowF: new Float64Array(n * 8),
    rowI: new Int32Array(n * 4),
    hist: new Uint16Array(n * 3),
    clock: new Float64Array([-Infinity, 0, -Infinity, 0]),
    prev: new Int32Array(capacity),
    next: new Int32Array(capacity),
    state,
  };
}

/**
 * Walks the whole records in buf[p, filled) through decode and the flow table; returns where the
 * first incomplete record starts. A plain function with its state in locals: V8 keeps them in
 * registers, which it did not across the awaits of an async loop (0.72 -> 0.90 s on the 5M file).
 */
function walk(t: Table, buf: Uint8Array, p: number, filled: number): number {
  const CAPACITY = t.capacity;
  const index = t.index;
  const mask = CAPACITY * 2 - 1;
  const keys = t.keys;
  const hashes = t.hashes;
  const counts = t.counts;
  const flags = t.flags;
  const features = t.features;
  const rowF = t.rowF;
  const rowI = t.rowI;
  const hist = t.hist;
  const clk = t.clock;
  const prev = t.prev;
  const next = t.next;
  const st = t.state;
  let head = st[0]!;
  let tail = st[1]!;
  let used = st[2]!;
  let created = st[3]!;
  let evicted = st[4]!;
  let packets = st[5]!;
  let other = st[6]!;
  while (filled - p >= 16) {
    const sec = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24);
    const capLen = buf[p + 8]! | (buf[p + 9]! << 8) | (buf[p + 10]! << 16) | (buf[p + 11]! << 24);
    const origLen = buf[p + 12]! | (buf[p + 13]! << 8) | (buf[p + 14]! << 16) | (buf[p + 15]! << 24);
    if (capLen < 0 || filled - p < 16 + capLen) break; // cut by the chunk's end (or too large: the caller fails)
    const f = p + 16;
    p = f + capLen;
    packets++;
    // Decode.
    if (capLen < 14) { other++; continue; }
    let type = (buf[f + 12]! << 8) | buf[f + 13]!;
    let l3 = f + 14;
    let vlan = 0;
    if (type === 0x8100 || type === 0x88a8) {
      vlan = 0x1000000 | ((((buf[l3]! << 8) | buf[l3 + 1]!) & 0xfff) << 12);
      type = (buf[l3 + 2]! << 8) | buf[l3 + 3]!;
      l3 += 4;
      if (type === 0x8100) {
        vlan = (vlan + 0x1000000) | (((buf[l3]! << 8) | buf[l3 + 1]!) & 0xfff);
        type = (buf[l3 + 2]! << 8) | buf[l3 + 3]!;
        l3 += 4;
      }
    }
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    let proto: number;
    let l4: number;
    const end = f + capLen;
    if (type === 0x0800 && end - l3 >= 20) {
      proto = buf[l3 + 9]!;
      l4 = l3 + ((buf[l3]! & 15) << 2);
      a3 = (buf[l3 + 12]! << 24) | (buf[l3 + 13]! << 16) | (buf[l3 + 14]! << 8) | buf[l3 + 15]!;
      b3 = (buf[l3 + 16]! << 24) | (buf[l3 + 17]! << 16) | (buf[l3 + 18]! << 8) | buf[l3 + 19]!;
    } else if (type === 0x86dd && end - l3 >= 40) {
      proto = buf[l3 + 6]!;
      l4 = l3 + 40;
      a0 = (buf[l3 + 8]! << 24) | (buf[l3 + 9]! << 16) | (buf[l3 + 10]! << 8) | buf[l3 + 11]!;
      a1 = (buf[l3 + 12]! << 24) | (buf[l3 + 13]! << 16) | (buf[l3 + 14]! << 8) | buf[l3 + 15]!;
      a2 = (buf[l3 + 16]! << 24) | (buf[l3 + 17]! << 16) | (buf[l3 + 18]! << 8) | buf[l3 + 19]!;
      a3 = (buf[l3 + 20]! << 24) | (buf[l3 + 21]! << 16) | (buf[l3 + 22]! << 8) | buf[l3 + 23]!;
      b0 = (buf[l3 + 24]! << 24) | (buf[l3 + 25]! << 16) | (buf[l3 + 26]! << 8) | buf[l3 + 27]!;
      b1 = (buf[l3 + 28]! << 24) | (buf[l3 + 29]! << 16) | (buf[l3 + 30]! << 8) | buf[l3 + 31]!;
      b2 = (buf[l3 + 32]! << 24) | (buf[l3 + 33]! << 16) | (buf[l3 + 34]! << 8) | buf[l3 + 35]!;
      b3 = (buf[l3 + 36]! << 24) | (buf[l3 + 37]! << 16) | (buf[l3 + 38]! << 8) | buf[l3 + 39]!;
    } else {
      other++;
      continue;
    }
    let sp = 0;
    let dp = 0;
    let tcpFlags = 0;
    if ((proto === 6 || proto === 17) && end - l4 >= 4) {
      sp = (buf[l4]! << 8) | buf[l4 + 1]!;
      dp = (buf[l4 + 2]! << 8) | buf[l4 + 3]!;
      if (proto === 6 && end - l4 >= 14) tcpFlags = buf[l4 + 13]!;
    }
    // Canonical order: the lower endpoint first (unsigned word order, then port).
    let swap = false;
    if (a0 !== b0) swap = (a0 ^ -0x80000000) > (b0 ^ -0x80000000);
    else if (a1 !== b1) swap = (a1 ^ -0x80000000) > (b1 ^ -0x80000000);
    else if (a2 !== b2) swap = (a2 ^ -0x80000000) > (b2 ^ -0x80000000);
    else if (a3 !== b3) swap = (a3 ^ -0x80000000) > (b3 ^ -0x80000000);
    else swap = sp > dp;
    if (swap) {
      let t = a0; a0 = b0; b0 = t;
      t = a1; a1 = b1; b1 = t;
      t = a2; a2 = b2; b2 = t;
      t = a3; a3 = b3; b3 = t;
      t = sp; sp = dp; dp = t;
    }
    const ports = (sp << 16) | dp;
    // The engine's canonicalKeyHash (flow/key.ts) written out: the loop is one function.
    let h = Math.imul(a3 ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b3 ^ 0x7f4a7c15, 0xc2b2ae35);
    h ^= Math.imul(ports ^ (proto << 8), 0x27d4eb2f);
    if ((a0 | a1 | a2 | b0 | b1 | b2) !== 0) {
      h ^= Math.imul(a0 ^ Math.imul(a1, 0x165667b1) ^ Math.imul(a2, 0xd3a2646c), 0x9e3779b1);
      h ^= Math.imul(b0 ^ Math.imul(b1, 0xfd7046c5) ^ Math.imul(b2, 0xb55a4f09), 0x85ebca77);
    }
    if (vlan !== 0) h ^= Math.imul(vlan, 0x1b873593);
    h ^= h >>> 16;
    h = Math.imul(h, 0x7feb352d);
    h ^= h >>> 15;
    // Find.
    let i = h & mask;
    let slot = -1;
    for (;;) {
      const e = index[i]!;
      if (e === 0) break;
      const k = (e - 1) * KEY_WORDS;
      if (hashes[e - 1] === h && keys[k + 8] === ports && keys[k + 3] === a3 && keys[k + 7] === b3 && keys[k + 9] === proto &&
        keys[k + 10] === vlan && keys[k] === a0 && keys[k + 1] === a1 && keys[k + 2] === a2 && keys[k + 4] === b0 &&
        keys[k + 5] === b1 && keys[k + 6] === b2) {
        slot = e - 1;
        break;
      }
      i = (i + 1) & mask;
    }
    if (slot < 0) {
      if (used === CAPACITY) {
        // Evict the least recently seen flow: unlink it, then delete its index entry (backward shift).
        slot = head;
        head = next[slot]!;
        prev[head] = -1;
        evicted++;
        let j = hashes[slot]! & mask;
        while (index[j] !== slot + 1) j = (j + 1) & mask;
        for (;;) {
          index[j] = 0;
          let n = j;
          let moved = false;
          for (;;) {
            n = (n + 1) & mask;
            const e = index[n]!;
            if (e === 0) break;
            const home = hashes[e - 1]! & mask;
            // e may fill the hole unless its home lies cyclically in (j, n].
            if (j <= n ? home <= j || home > n : home <= j && home > n) {
              index[j] = e;
              j = n;
              moved = true;
              break;
            }
          }
          if (!moved) break;
        }
      } else {
        slot = used++;
      }
      // Insert (i may be stale after an eviction: probe again).
      let j = h & mask;
      while (index[j] !== 0) j = (j + 1) & mask;
      index[j] = slot + 1;
      hashes[slot] = h;
      const k = slot * KEY_WORDS;
      keys[k] = a0; keys[k + 1] = a1; keys[k + 2] = a2; keys[k + 3] = a3;
      keys[k + 4] = b0; keys[k + 5] = b1; keys[k + 6] = b2; keys[k + 7] = b3;
      keys[k + 8] = ports; keys[k + 9] = proto; keys[k + 10] = vlan;
      const c = slot * 5;
      counts[c] = 0; counts[c + 1] = 0; counts[c + 2] = 0; counts[c + 3] = 0;
      if (features) {
        const rf = slot * 8;
        rowF[rf] = 0; rowF[rf + 1] = 0; rowF[rf + 2] = 0; rowF[rf + 3] = 0; rowF[rf + 4] = 0; rowF[rf + 5] = 0; rowF[rf + 6] = 0;
        rowF[rf + 7] = sec;
        const ri = slot * 4;
        rowI[ri] = 0; rowI[ri + 1] = -1; rowI[ri + 2] = 0; rowI[ri + 3] = 0;
      }
      flags[slot] = 0;
      created++;
      prev[slot] = tail;
      next[slot] = -1;
      if (tail >= 0) next[tail] = slot;
      else head = slot;
      tail = slot;
    } else if (slot !== tail) {
      const pv = prev[slot]!;
      const nx = next[slot]!;
      if (pv >= 0) next[pv] = nx;
      else head = nx;
      prev[nx] = pv;
      prev[slot] = tail;
      next[slot] = -1;
      next[tail] = slot;
      tail = slot;
    }
    const c = slot * 5 + (swap ? 1 : 0);
    counts[c]!++;
    counts[c + 2]! += origLen;
    counts[slot * 5 + 4] = sec;
    flags[slot]! |= tcpFlags;
    if (features) {
      // The rest of what the engine does per packet of a flow, as it does it: the flow clock
      // (FlowClock.advance), the accounting (FlowTable.account: last position, packets, bytes and
      // payload bytes per direction, who sent, the last time to the nanosecond) and the TCP state
      // and history letters (TcpState.update). Direction: the canonical order stands in for roles.
      const ipEnd0 = type === 0x0800 ? l3 + ((buf[l3 + 2]! << 8) | buf[l3 + 3]!) : l4 + ((buf[l3 + 4]! << 8) | buf[l3 + 5]!);
      const ipEnd = ipEnd0 > end ? end : ipEnd0;
      const payStart = proto === 6 && end - l4 >= 14 ? l4 + ((buf[l4 + 12]! >> 4) << 2) : l4 + 8;
      const payLen = ipEnd > payStart ? ipEnd - payStart : 0;
      const nsec = (buf[f - 12]! | (buf[f - 11]! << 8) | (buf[f - 10]! << 16) | (buf[f - 9]! << 24)) * 1000;
      if (sec > clk[0]!) clk[0] = sec;
      else if (clk[0]! - sec > clk[1]!) clk[1] = clk[0]! - sec;
      if (sec >= clk[2]!) {
        clk[2] = sec + 1;
        clk[3]!++;
      }
      const d = swap ? 1 : 0;
      const rf = slot * 8;
      rowF[rf] = packets;
      rowF[rf + 1 + d]!++;
      rowF[rf + 3 + d]! += origLen;
      rowF[rf + 5 + d]! += payLen;
      const ri = slot * 4;
      let fl = rowI[ri]! | (d === 1 ? SERVER_SENT : CLIENT_SENT);
      const lastSec = rowF[rf + 7]!;
      if (sec > lastSec || (sec === lastSec && nsec > rowI[ri + 1]!)) {
        rowF[rf + 7] = sec;
        rowI[ri + 1] = nsec;
      }
      const dd = d === 1 ? H_SERVER : 0;
      if (proto === 6) {
        if ((tcpFlags & SYN) !== 0) {
          if ((tcpFlags & ACK) === 0) {
            addLetter(rowI, hist, slot, dd + H_SYN);
            if (d === 0) fl |= CLIENT_SYN;
          } else {
            addLetter(rowI, hist, slot, dd + H_SYNACK);
            if (d === 1) fl |= SERVER_SYNACK;
          }
        } else if ((tcpFlags & ACK) !== 0) {
          if (d === 0 && (fl & (SERVER_SYNACK | HANDSHAKE_DONE)) === SERVER_SYNACK) fl |= HANDSHAKE_DONE;
          if (payLen === 0 && (tcpFlags & (FIN | RST)) === 0) addLetter(rowI, hist, slot, dd + H_ACK);
        }
        if (payLen > 0) addLetter(rowI, hist, slot, dd + H_DATA);
        if ((tcpFlags & FIN) !== 0) {
          addLetter(rowI, hist, slot, dd + H_FIN);
          fl |= d === 1 ? SERVER_FIN : CLIENT_FIN;
        }
        if ((tcpFlags & RST) !== 0) {
          addLetter(rowI, hist, slot, dd + H_RST);
          fl |= d === 1 ? SERVER_RST : CLIENT_RST;
        }
      } else {
        addLetter(rowI, hist, slot, dd + H_DATA);
      }
      rowI[ri] = fl;
    }
  }
  st[0] = head;
  st[1] = tail;
  st[2] = used;
  st[3] = created;
  st[4] = evicted;
  st[5] = packets;
  st[6] = other;
  return p;
}

/**
 * Reads `path` with a table of `capacity` slots (a power of two) and returns [packets, flows
 * created, flows evicted, records not IPv4/IPv6, checksum of the live slots' counters].
 * `readAhead`: read the next 2 MiB chunk with fs.read (on a libuv thread, so on another core) while
 * this one is walked, as the engine does (capture/file.ts); else readSync on this thread.
 * `features`: also do the rest of the engine's per-packet work on a flow (walk()); the checksum then
 * covers its results too.
 */
export async function ceilingLoop(path: string, capacity = CEILING_CAPACITY, readAhead = false, features = false): Promise<number[]> {
  const t = newTable(capacity, features);
  const fd = openSync(path, 'r');
  let buf = new Uint8Array(HEADROOM + CHUNK);
  let spare = new Uint8Array(HEADROOM + CHUNK);
  let filled = HEADROOM + readSync(fd, buf, HEADROOM, CHUNK, null);
  let p = HEADROOM;
  const magic = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
  if (filled - p < 24 || (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d)) {
    closeSync(fd);
    throw new Error(`${path}: only little-endian pcap files`);
  }
  p += 24;
  let ahead = readAhead ? readAt(fd, spare, HEADROOM) : null;
  for (;;) {
    p = walk(t, buf, p, filled);
    // The next chunk, with the record cut at the end of this one in front of it.
    const cut = filled - p;
    const n = ahead !== null ? await ahead : readSync(fd, spare, HEADROOM, CHUNK, null);
    if (cut > HEADROOM) {
      closeSync(fd);
      throw new Error(`${path}: a record larger than ${HEADROOM} bytes`);
    }
    if (n === 0) break;
    spare.set(buf.subarray(p, filled), HEADROOM - cut);
    const full = buf;
    buf = spare;
    spare = full;
    p = HEADROOM - cut;
    filled = HEADROOM + n;
    if (ahead !== null) ahead = readAt(fd, spare, HEADROOM);
  }
  closeSync(fd);
  const [, , used, created, evicted, packets, other] = t.state;
  let sum = 0;
  for (let s = 0; s < used!; s++) sum += t.counts[s * 5]! + t.counts[s * 5 + 1]! + t.flags[s]!;
  if (features) {
    for (let s = 0; s < used!; s++) sum += t.rowF[s * 8 + 5]! + t.rowF[s * 8 + 6]! + t.rowI[s * 4]! + t.rowI[s * 4 + 3]! + t.hist[s * 3]! + t.hist[s * 3 + 1]!;
    sum += t.clock[1]! + t.clock[3]!;
  }
  return [packets!, created!, evicted!, other!, sum];
}

