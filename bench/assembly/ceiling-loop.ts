/**
 * bench/ceiling-loop.ts's walk() in AssemblyScript, compiled to WebAssembly by bench/ceiling.ts when
 * the `assemblyscript` package is installed (it is not a dependency: `npm i --no-save
 * assemblyscript@0.28`). The same decode, hash, table, eviction and counters, over linear memory;
 * the host (bench/ceiling-wasm-host.ts) reads the file into the two buffers init() returns.
 */
const KEY_WORDS: i32 = 12;
let CAPACITY: i32 = 0;
let mask: i32 = 0;
let indexP: usize = 0;
let keysP: usize = 0;
let hashesP: usize = 0;
let countsP: usize = 0;
let flagsP: usize = 0;
let prevP: usize = 0;
let nextP: usize = 0;
let bufP: usize = 0;
// With `features` (init()): the engine's per-packet work too, as bench/ceiling-loop.ts does it.
let features: bool = false;
let rowFP: usize = 0;
let rowIP: usize = 0;
let histP: usize = 0;
let maxSec: f64 = -Infinity;
let backstep: f64 = 0;
let nextSweep: f64 = -Infinity;
let sweeps: f64 = 0;
let head: i32 = -1;
let tail: i32 = -1;
let used: i32 = 0;
let created: i32 = 0;
let evicted: i32 = 0;
let packets: i32 = 0;
let other: i32 = 0;

function take(bytes: i32): usize {
  const p = heap.alloc(<usize>bytes + 64);
  const a = (p + 63) & ~(<usize>63);
  memory.fill(a, 0, <usize>bytes);
  return a;
}

/**
 * Sets up a table of `capacity` slots and two byte buffers of `bufBytes`; returns the first
 * buffer's address (the second follows it). `withFeatures`: see bench/ceiling-loop.ts.
 */
export function init(capacity: i32, bufBytes: i32, withFeatures: bool): usize {
  features = withFeatures;
  CAPACITY = capacity;
  mask = capacity * 2 - 1;
  indexP = take(capacity * 2 * 4);
  keysP = take(capacity * KEY_WORDS * 4);
  hashesP = take(capacity * 4);
  countsP = take(capacity * 5 * 8);
  flagsP = take(capacity);
  prevP = take(capacity * 4);
  nextP = take(capacity * 4);
  const n = withFeatures ? capacity : 0;
  rowFP = take(n * 8 * 8);
  rowIP = take(n * 4 * 4);
  histP = take(n * 3 * 2);
  bufP = take(bufBytes * 2);
  return bufP;
}

export function result(i: i32): f64 {
  if (i == 0) return <f64>packets;
  if (i == 1) return <f64>created;
  if (i == 2) return <f64>evicted;
  if (i == 3) return <f64>other;
  let sum: f64 = 0;
  for (let s = 0; s < used; s++) sum += load<f64>(countsP + (<usize>s * 5 << 3)) + load<f64>(countsP + ((<usize>s * 5 + 1) << 3)) + <f64>load<u8>(flagsP + <usize>s);
  if (features) {
    for (let s = 0; s < used; s++) {
      sum += load<f64>(rowFP + ((<usize>s * 8 + 5) << 3)) + load<f64>(rowFP + ((<usize>s * 8 + 6) << 3));
      sum += <f64>load<i32>(rowIP + (<usize>s * 4 << 2)) + <f64>load<i32>(rowIP + ((<usize>s * 4 + 3) << 2));
      sum += <f64>load<u16>(histP + (<usize>s * 3 << 1)) + <f64>load<u16>(histP + ((<usize>s * 3 + 1) << 1));
    }
    sum += backstep + sweeps;
  }
  return sum;
}

@inline function addLetter(s: i32, letter: i32): void {
  const bit = 1 << letter;
  const h = rowIP + ((<usize>s * 4 + 2) << 2);
  const seen = load<i32>(h);
  if ((seen & bit) != 0) return;
  store<i32>(h, seen | bit);
  const la = rowIP + ((<usize>s * 4 + 3) << 2);
  const len = load<i32>(la);
  if (len < 12) {
    const w = histP + ((<usize>s * 3 + <usize>(len >> 2)) << 1);
    const shift = (len & 3) * 4;
    store<u16>(w, <u16>(shift == 0 ? letter : <i32>load<u16>(w) | (letter << shift)));
    store<i32>(la, len + 1);
  }
}

@inline function be32(a: usize): i32 {
  return bswap<i32>(load<i32>(a));
}

/** Walks the whole records in [buf + p, buf + filled) (`buf` an address init() returned); returns where the first incomplete record starts. */
export function walk(buf: usize, p: i32, filled: i32): i32 {
  while (filled - p >= 16) {
    const r = buf + <usize>p;
    const sec = load<i32>(r);
    const capLen = load<i32>(r, 8);
    const origLen = load<i32>(r, 12);
    if (capLen < 0 || filled - p < 16 + capLen) break;
    const f = p + 16;
    p = f + capLen;
    packets++;
    if (capLen < 14) { other++; continue; }
    const fb = buf + <usize>f;
    let type = (<i32>load<u8>(fb, 12) << 8) | <i32>load<u8>(fb, 13);
    let l3 = fb + 14;
    let vlan: i32 = 0;
    if (type == 0x8100 || type == 0x88a8) {
      vlan = 0x1000000 | ((((<i32>load<u8>(l3) << 8) | <i32>load<u8>(l3, 1)) & 0xfff) << 12);
      type = (<i32>load<u8>(l3, 2) << 8) | <i32>load<u8>(l3, 3);
      l3 += 4;
      if (type == 0x8100) {
        vlan = (vlan + 0x1000000) | (((<i32>load<u8>(l3) << 8) | <i32>load<u8>(l3, 1)) & 0xfff);
        type = (<i32>load<u8>(l3, 2) << 8) | <i32>load<u8>(l3, 3);
        l3 += 4;
      }
    }
    let a0: i32 = 0, a1: i32 = 0, a2: i32 = 0, a3: i32 = 0, b0: i32 = 0, b1: i32 = 0, b2: i32 = 0, b3: i32 = 0;
    let proto: i32;
    let l4: usize;
    const end = fb + <usize>capLen;
    if (type == 0x0800 && end - l3 >= 20) {
      proto = load<u8>(l3, 9);
      l4 = l3 + ((<usize>load<u8>(l3) & 15) << 2);
      a3 = be32(l3 + 12);
      b3 = be32(l3 + 16);
    } else if (type == 0x86dd && end - l3 >= 40) {
      proto = load<u8>(l3, 6);
      l4 = l3 + 40;
      a0 = be32(l3 + 8); a1 = be32(l3 + 12); a2 = be32(l3 + 16); a3 = be32(l3 + 20);
      b0 = be32(l3 + 24); b1 = be32(l3 + 28); b2 = be32(l3 + 32); b3 = be32(l3 + 36);
    } else {
      other++;
      continue;
    }
    let sp: i32 = 0, dp: i32 = 0, tcpFlags: i32 = 0;
    if ((proto == 6 || proto == 17) && end >= l4 + 4) {
      sp = (<i32>load<u8>(l4) << 8) | <i32>load<u8>(l4, 1);
      dp = (<i32>load<u8>(l4, 2) << 8) | <i32>load<u8>(l4, 3);
      if (proto == 6 && end >= l4 + 14) tcpFlags = load<u8>(l4, 13);
    }
    let swap: bool;
    if (a0 != b0) swap = <u32>a0 > <u32>b0;
    else if (a1 != b1) swap = <u32>a1 > <u32>b1;
    else if (a2 != b2) swap = <u32>a2 > <u32>b2;
    else if (a3 != b3) swap = <u32>a3 > <u32>b3;
    else swap = sp > dp;
    if (swap) {
      let t = a0; a0 = b0; b0 = t;
      t = a1; a1 = b1; b1 = t;
      t = a2; a2 = b2; b2 = t;
      t = a3; a3 = b3; b3 = t;
      t = sp; sp = dp; dp = t;
    }
    const ports = (sp << 16) | dp;
    let h = ((a3 ^ 0x9e3779b9) * 0x85ebca6b) ^ ((b3 ^ 0x7f4a7c15) * 0xc2b2ae35);
    h ^= (ports ^ (proto << 8)) * 0x27d4eb2f;
    if ((a0 | a1 | a2 | b0 | b1 | b2) != 0) {
      h ^= (a0 ^ (a1 * 0x165667b1) ^ (a2 * 0xd3a2646c)) * 0x9e3779b1;
      h ^= (b0 ^ (b1 * 0xfd7046c5) ^ (b2 * 0xb55a4f09)) * 0x85ebca77;
    }
    if (vlan != 0) h ^= vlan * 0x1b873593;
    h ^= h >>> 16;
    h = h * 0x7feb352d;
    h ^= h >>> 15;
    let i = h & mask;
    let slot: i32 = -1;
    for (;;) {
      const e = load<i32>(indexP + (<usize>i << 2));
      if (e == 0) break;
      const k = keysP + (<usize>(e - 1) * KEY_WORDS << 2);
      if (load<i32>(hashesP + (<usize>(e - 1) << 2)) == h && load<i32>(k, 32) == ports && load<i32>(k, 12) == a3 && load<i32>(k, 28) == b3 &&
        load<i32>(k, 36) == proto && load<i32>(k, 40) == vlan && load<i32>(k) == a0 && load<i32>(k, 4) == a1 && load<i32>(k, 8) == a2 &&
        load<i32>(k, 16) == b0 && load<i32>(k, 20) == b1 && load<i32>(k, 24) == b2) {
        slot = e - 1;
        break;
      }
      i = (i + 1) & mask;
    }
    if (slot < 0) {
      if (used == CAPACITY) {
        slot = head;
        head = load<i32>(nextP + (<usize>slot << 2));
        store<i32>(prevP + (<usize>head << 2), -1);
        evicted++;
        let j = load<i32>(hashesP + (<usize>slot << 2)) & mask;
        while (load<i32>(indexP + (<usize>j << 2)) != slot + 1) j = (j + 1) & mask;
        for (;;) {
          store<i32>(indexP + (<usize>j << 2), 0);
          let n = j;
          let moved = false;
          for (;;) {
            n = (n + 1) & mask;
            const e = load<i32>(indexP + (<usize>n << 2));
            if (e == 0) break;
            const home = load<i32>(hashesP + (<usize>(e - 1) << 2)) & mask;
            if (j <= n ? home <= j || home > n : home <= j && home > n) {
              store<i32>(indexP + (<usize>j << 2), e);
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
      let j = h & mask;
      while (load<i32>(indexP + (<usize>j << 2)) != 0) j = (j + 1) & mask;
      store<i32>(indexP + (<usize>j << 2), slot + 1);
      store<i32>(hashesP + (<usize>slot << 2), h);
      const k = keysP + (<usize>slot * KEY_WORDS << 2);
      store<i32>(k, a0); store<i32>(k, a1, 4); store<i32>(k, a2, 8); store<i32>(k, a3, 12);
      store<i32>(k, b0, 16); store<i32>(k, b1, 20); store<i32>(k, b2, 24); store<i32>(k, b3, 28);
      store<i32>(k, ports, 32); store<i32>(k, proto, 36); store<i32>(k, vlan, 40);
      const c = countsP + (<usize>slot * 5 << 3);
      store<f64>(c, 0); store<f64>(c, 0, 8); store<f64>(c, 0, 16); store<f64>(c, 0, 24);
      if (features) {
        const rf0 = rowFP + (<usize>slot * 8 << 3);
        memory.fill(rf0, 0, 56);
        store<f64>(rf0, <f64>sec, 56);
        const ri0 = rowIP + (<usize>slot * 4 << 2);
        store<i32>(ri0, 0); store<i32>(ri0, -1, 4); store<i32>(ri0, 0, 8); store<i32>(ri0, 0, 12);
      }
      store<u8>(flagsP + <usize>slot, 0);
      created++;
      store<i32>(prevP + (<usize>slot << 2), tail);
      store<i32>(nextP + (<usize>slot << 2), -1);
      if (tail >= 0) store<i32>(nextP + (<usize>tail << 2), slot);
      else head = slot;
      tail = slot;
    } else if (slot != tail) {
      const pv = load<i32>(prevP + (<usize>slot << 2));
      const nx = load<i32>(nextP + (<usize>slot << 2));
      if (pv >= 0) store<i32>(nextP + (<usize>pv << 2), nx);
      else head = nx;
      store<i32>(prevP + (<usize>nx << 2), pv);
      store<i32>(prevP + (<usize>slot << 2), tail);
      store<i32>(nextP + (<usize>slot << 2), -1);
      store<i32>(nextP + (<usize>tail << 2), slot);
      tail = slot;
    }
    const c = countsP + ((<usize>slot * 5 + (swap ? 1 : 0)) << 3);
    store<f64>(c, load<f64>(c) + 1);
    store<f64>(c, load<f64>(c, 16) + <f64><u32>origLen, 16);
    store<f64>(countsP + ((<usize>slot * 5 + 4) << 3), <f64>sec);
    const fp = flagsP + <usize>slot;
    store<u8>(fp, load<u8>(fp) | <u8>tcpFlags);
    if (features) {
      let ipEnd: usize = type == 0x0800 ? l3 + ((<usize>load<u8>(l3, 2) << 8) | <usize>load<u8>(l3, 3)) : l4 + ((<usize>load<u8>(l3, 4) << 8) | <usize>load<u8>(l3, 5));
      if (ipEnd > end) ipEnd = end;
      const payStart: usize = proto == 6 && end >= l4 + 14 ? l4 + ((<usize>load<u8>(l4, 12) >> 4) << 2) : l4 + 8;
      const payLen: i32 = ipEnd > payStart ? <i32>(ipEnd - payStart) : 0;
      const nsec: i32 = load<i32>(r, 4) * 1000;
      const fsec = <f64>sec;
      if (fsec > maxSec) maxSec = fsec;
      else if (maxSec - fsec > backstep) backstep = maxSec - fsec;
      if (fsec >= nextSweep) {
        nextSweep = fsec + 1;
        sweeps++;
      }
      const d: i32 = swap ? 1 : 0;
      const rf = rowFP + (<usize>slot * 8 << 3);
      store<f64>(rf, <f64>packets);
      const ps = rf + ((1 + <usize>d) << 3);
      store<f64>(ps, load<f64>(ps) + 1);
      const bs = rf + ((3 + <usize>d) << 3);
      store<f64>(bs, load<f64>(bs) + <f64>origLen);
      const ys = rf + ((5 + <usize>d) << 3);
      store<f64>(ys, load<f64>(ys) + <f64>payLen);
      const ri = rowIP + (<usize>slot * 4 << 2);
      let fl = load<i32>(ri) | (d == 1 ? 256 : 128);
      const lastSec = load<f64>(rf, 56);
      if (fsec > lastSec || (fsec == lastSec && nsec > load<i32>(ri, 4))) {
        store<f64>(rf, fsec, 56);
        store<i32>(ri, nsec, 4);
      }
      const dd = d == 1 ? 6 : 0;
      if (proto == 6) {
        if ((tcpFlags & 2) != 0) {
          if ((tcpFlags & 16) == 0) {
            addLetter(slot, dd);
            if (d == 0) fl |= 1;
          } else {
            addLetter(slot, dd + 1);
            if (d == 1) fl |= 2;
          }
        } else if ((tcpFlags & 16) != 0) {
          if (d == 0 && (fl & 6) == 2) fl |= 4;
          if (payLen == 0 && (tcpFlags & 5) == 0) addLetter(slot, dd + 2);
        }
        if (payLen > 0) addLetter(slot, dd + 3);
        if ((tcpFlags & 1) != 0) {
          addLetter(slot, dd + 4);
          fl |= d == 1 ? 16 : 8;
        }
        if ((tcpFlags & 4) != 0) {
          addLetter(slot, dd + 5);
          fl |= d == 1 ? 64 : 32;
        }
      } else {
        addLetter(slot, dd + 3);
      }
      store<i32>(ri, fl);
    }
  }
  return p;
}
