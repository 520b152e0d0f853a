/**
 * The engine's fast path, in AssemblyScript (compiled to WebAssembly by scripts/build-wasm.mjs; not
 * compiled by tsc). It takes the common record off the JavaScript packet loop: a packet of a flow
 * the table already holds, in a plain frame (a payload the classifier inspects goes through the
 * payload queue, below). Everything else stays with the engine (src/pipeline/engine.ts):
 *
 * run() walks whole pcap records (or pcapng Enhanced Packet Blocks) from `p` and stops, without
 * changing anything for it, at the first record that is not such a packet: not a plain frame
 * (decode/plain.ts decodePlain, or the same behind a Linux cooked header instead of Ethernet's, or
 * carrying an ICMP or ICMPv6 query instead of TCP or UDP, decoded as decode/icmp.ts does), a
 * new flow, a TCP SYN (it may start a new connection on the 5-tuple), a second of capture time that
 * starts an expiry sweep, the first packet after an active-timeout cut, a record cut by the chunk's
 * end or too long, a payload in a direction the classifier inspects when the payload queue has no
 * room for it. The engine handles that record in full and calls run() again from the next one.
 *
 * A payload in a direction the classifier inspects is copied into the payload queue (configure()),
 * and the record is taken like any other: the engine hands the queued payloads to the classifier,
 * in order, as soon as the run returns (Engine.deliverQueued), before it handles anything else. No
 * flow starts or ends during a run, so the classifier sees the same calls in the same order as
 * without the queue; a payload queued after the classifier has turned its direction off (by an
 * earlier payload of the same run) is dropped there, as FlowTable.process() would not have passed it.
 *
 * For the records it takes, run() does what Engine.handle() and FlowTable.process() do for them, in
 * the same memory the JavaScript side reads (the table's rows, index, LRU links and TCP columns live
 * in this module's memory): the engine's packet, byte and time totals, the flow clock's high-water
 * second, the LRU move, FlowTable.account() and TcpState.update() or data() (history letters, the
 * handshake and its RTT, FIN and RST). The state the two sides share between calls is passed in a
 * block of f64 words (S_* below). src/pipeline/fast-path.ts checks the layout constants against
 * src/flow/ and src/decode/ when it loads the module, and test/pipeline/fast-path.test.ts checks
 * that runs with and without this path give byte-identical output.
 */

// The flow row (src/flow/row-layout.ts), as byte offsets.
const ROW_BYTES: i32 = 128;
const K_A: i32 = 0;
const K_B: i32 = 16;
const K_PORTS: i32 = 32;
const K_PROTO: i32 = 36;
const K_VLAN: i32 = 40;
const K_TUNNEL: i32 = 44;
const F_LAST_ORDINAL: i32 = 48;
const F_PKTS_TO_SERVER: i32 = 56;
const F_PKTS_TO_CLIENT: i32 = 64;
const F_BYTES_TO_SERVER: i32 = 72;
const F_BYTES_TO_CLIENT: i32 = 80;
const F_PAYLOAD_TO_SERVER: i32 = 88;
const F_PAYLOAD_TO_CLIENT: i32 = 96;
const F_LAST_SEC: i32 = 104;
const I_LAST_NSEC: i32 = 112;
const I_FLAGS: i32 = 116;
const B_CLIENT_IS_A: i32 = 120;
const B_INSPECT: i32 = 121;
const H_HISTORY_SEEN: i32 = 122;
const B_HISTORY_LEN: i32 = 124;

// FlowFlag (src/flow/tcp-state.ts).
const CLIENT_SYN: i32 = 1 << 0;
const SERVER_SYNACK: i32 = 1 << 1;
const HANDSHAKE_DONE: i32 = 1 << 2;
const CLIENT_FIN: i32 = 1 << 3;
const SERVER_FIN: i32 = 1 << 4;
const CLIENT_RST: i32 = 1 << 5;
const SERVER_RST: i32 = 1 << 6;
const CLIENT_SENT: i32 = 1 << 7;
const SERVER_SENT: i32 = 1 << 8;
const AWAIT_FIRST: i32 = 1 << 11;
const RTT_KNOWN: i32 = 1 << 12;
// TcpFlag (src/decode/types.ts).
const FIN: i32 = 0x01;
const SYN: i32 = 0x02;
const RST: i32 = 0x04;
const ACK: i32 = 0x10;
// History letters (tcp-state.ts): the server's are H_SERVER further; each is kept once, in the
// order it first happened, 4 bits each in HISTORY_WORDS uint16 words per slot, at most HISTORY_MAX.
const H_SYNACK: i32 = 1;
const H_ACK: i32 = 2;
const H_DATA: i32 = 3;
const H_FIN: i32 = 4;
const H_RST: i32 = 5;
const H_SERVER: i32 = 6;
const HISTORY_MAX: i32 = 12;
const HISTORY_WORDS: i32 = 3;

// The state block: f64 words shared with src/pipeline/fast-path.ts.
/** In: ordinal of the record at `p`. Out: ordinal of the record run() stopped at. */
const S_ORDINAL: i32 = 0;
/** In/out: FlowClock's highest second and largest step back. */
const S_MAX_SEC: i32 = 1;
const S_BACKSTEP: i32 = 2;
/** In: the second at which the next sweep is due. */
const S_NEXT_SWEEP: i32 = 3;
/** In/out: the engine's latest capture time. */
const S_LAST_SEC: i32 = 4;
const S_LAST_NSEC: i32 = 5;
/** Out: records taken, and their wire bytes, captured bytes and truncated frames. */
const S_COUNT: i32 = 6;
const S_BYTES: i32 = 7;
const S_CAPTURED: i32 = 8;
const S_TRUNCATED: i32 = 9;
/** In/out: the LRU list's ends. */
const S_LRU_HEAD: i32 = 10;
const S_LRU_TAIL: i32 = 11;
/** In: the flow index's entries in use - 1, and the slot bits of an entry. */
const S_INDEX_MASK: i32 = 12;
const S_SLOT_MASK: i32 = 13;
/** Bits of an index entry's distance from its home, between the slot bits and the tag (flow/flow-index.ts). */
const INDEX_DIST_BITS: i32 = 3;
/** Out: payloads the run queued. */
const S_QUEUED: i32 = 14;
/** Out: other workers' records the run passed (their time only). */
const S_OTHERS: i32 = 15;
/** Out: the link type of the records the run took. */
const S_LINK: i32 = 16;
const STATE_WORDS: i32 = 17;

// The payload queue's entries (src/pipeline/fast-path.ts): i32 words each.
const QUEUE_WORDS: i32 = 4;
const Q_SLOT: i32 = 0;
const Q_TO_SERVER: i32 = 1;
const Q_OFFSET: i32 = 2;
const Q_LENGTH: i32 = 3;

// The owners table (src/pipeline/fast-path.ts): what a record of each bucket value is to this worker.
const OWNER_OTHER: i32 = 0;
const OWNER_MINE: i32 = 1;
const OWNER_DECODE: i32 = 2;

// What run() walks at `p` (src/capture/types.ts RecordFormat): pcap records with microsecond or
// nanosecond timestamps, or pcapng blocks of one little-endian section.
const FORMAT_PCAP_USEC: i32 = 0;
const FORMAT_PCAP_NSEC: i32 = 1;
const FORMAT_PCAPNG: i32 = 2;
// The pcapng interfaces table (src/pipeline/fast-path.ts): what the Enhanced Packet Blocks of each
// interface id of the section are to run(): the engine's (another link type, another timestamp
// unit, a timestamp offset, ids past the table), or Ethernet frames with timestamps in microseconds
// or nanoseconds, which run() takes.
const IFACE_ENGINE: i32 = 0;
const IFACE_USEC: i32 = 1;
const IFACE_NSEC: i32 = 2;
// Linux cooked interfaces (`any`): the same pairs, microseconds first.
const IFACE_SLL_USEC: i32 = 3;
const IFACE_SLL2_USEC: i32 = 5;
const IFACE_KINDS: i32 = 7;
const IFACES: i32 = 256;
/** pcapng (src/capture/pcapng-reader.ts): the Enhanced Packet Block's type, its fixed part, the largest block read. */
const PCAPNG_EPB: u32 = 6;
const PCAPNG_EPB_MIN: u32 = 32;
const PCAPNG_MAX_BLOCK: u32 = 16 * 1024 * 1024;
// The link types run() takes (LINKTYPE_*, src/capture/types.ts): Ethernet, and Linux cooked captures
// v1 and v2 (what `tcpdump -i any` writes; decode/linux-sll.ts, linux-sll2.ts).
const LINK_ETHERNET: i32 = 1;
const LINK_SLL: i32 = 113;
const LINK_SLL2: i32 = 276;

// A worker's chunk index (src/pipeline/chunks.ts): u32 words per record.
const REC_WORDS: i32 = 5;
const REC_OFFSET: i32 = 0;
const REC_CAPLEN: i32 = 1;
const REC_ORIGLEN: i32 = 2;
const REC_NSEC: i32 = 3;
const REC_LINKTYPE: i32 = 4;

let rowsP: usize = 0;
let indexP: usize = 0;
let linksP: usize = 0;
/** TcpState's columns: history words, the SYN's second or the RTT (f64), the SYN's nanoseconds (u32). */
let historyP: usize = 0;
let synP: usize = 0;
let synNsecP: usize = 0;
/** 65,536 bytes: non-zero for the UDP ports the run opens as tunnels; 0 when decapsulation is off. */
let tunnelPortsP: usize = 0;
let stateP: usize = 0;
/** The payload queue: its bytes, and its entries (QUEUE_WORDS i32 each); 0 bytes: no queue. */
let queueP: usize = 0;
let queueBytes: i32 = 0;
let queueIndexP: usize = 0;
let queueEntries: i32 = 0;
/** 256 bytes: OWNER_* by bucket value (a worker of N >= 2). */
let ownersP: usize = 0;
/** IFACES bytes: IFACE_* by interface id of the pcapng section being read. */
let ifacesP: usize = 0;

/**
 * Where the table's rows, index and LRU links, the tunnel port table (0: none) and the state block
 * are. The memory is the caller's (imported, sized once: growing it would detach every view of it,
 * and one detached buffer makes V8 check every typed array access in the process from then on).
 */
export function configure(
  rows: usize, index: usize, links: usize, history: usize, syn: usize, synNsec: usize, tunnelPorts: usize, state: usize,
  queue: usize, queueSize: i32, queueIndex: usize, queueCount: i32, owners: usize, ifaces: usize,
): void {
  ownersP = owners;
  ifacesP = ifaces;
  queueP = queue;
  queueBytes = queueSize;
  queueIndexP = queueIndex;
  queueEntries = queueCount;
  rowsP = rows;
  indexP = index;
  linksP = links;
  historyP = history;
  synP = syn;
  synNsecP = synNsec;
  tunnelPortsP = tunnelPorts;
  stateP = state;
}

/** The layout constants, for the loader's check against row-layout.ts (i: 0, 1, ...; -1 past the end). */
export function layout(i: i32): i32 {
  switch (i) {
    case 0: return ROW_BYTES;
    case 1: return K_A;
    case 2: return K_B;
    case 3: return K_PORTS;
    case 4: return K_PROTO;
    case 5: return K_VLAN;
    case 6: return K_TUNNEL;
    case 7: return F_LAST_ORDINAL;
    case 8: return F_PKTS_TO_SERVER;
    case 9: return F_PKTS_TO_CLIENT;
    case 10: return F_BYTES_TO_SERVER;
    case 11: return F_BYTES_TO_CLIENT;
    case 12: return F_PAYLOAD_TO_SERVER;
    case 13: return F_PAYLOAD_TO_CLIENT;
    case 14: return F_LAST_SEC;
    case 15: return I_LAST_NSEC;
    case 16: return I_FLAGS;
    case 17: return B_CLIENT_IS_A;
    case 18: return B_INSPECT;
    case 19: return H_HISTORY_SEEN;
    case 20: return SERVER_SYNACK;
    case 21: return HANDSHAKE_DONE;
    case 22: return CLIENT_SENT;
    case 23: return SERVER_SENT;
    case 24: return AWAIT_FIRST;
    case 25: return FIN;
    case 26: return SYN;
    case 27: return RST;
    case 28: return ACK;
    case 29: return S_ORDINAL;
    case 30: return S_MAX_SEC;
    case 31: return S_BACKSTEP;
    case 32: return S_NEXT_SWEEP;
    case 33: return S_LAST_SEC;
    case 34: return S_LAST_NSEC;
    case 35: return S_COUNT;
    case 36: return S_BYTES;
    case 37: return S_CAPTURED;
    case 38: return S_TRUNCATED;
    case 39: return S_LRU_HEAD;
    case 40: return S_LRU_TAIL;
    case 41: return S_INDEX_MASK;
    case 42: return S_SLOT_MASK;
    case 43: return STATE_WORDS;
    case 44: return B_HISTORY_LEN;
    case 45: return CLIENT_SYN;
    case 46: return CLIENT_FIN;
    case 47: return SERVER_FIN;
    case 48: return CLIENT_RST;
    case 49: return SERVER_RST;
    case 50: return RTT_KNOWN;
    case 51: return HISTORY_MAX;
    case 52: return HISTORY_WORDS;
    case 53: return REC_WORDS;
    case 54: return REC_OFFSET;
    case 55: return REC_CAPLEN;
    case 56: return REC_ORIGLEN;
    case 57: return REC_NSEC;
    case 58: return REC_LINKTYPE;
    case 59: return S_QUEUED;
    case 60: return QUEUE_WORDS;
    case 61: return Q_SLOT;
    case 62: return Q_TO_SERVER;
    case 63: return Q_OFFSET;
    case 64: return Q_LENGTH;
    case 65: return OWNER_OTHER;
    case 66: return OWNER_MINE;
    case 67: return OWNER_DECODE;
    case 68: return S_OTHERS;
    case 69: return INDEX_DIST_BITS;
    case 70: return FORMAT_PCAP_USEC;
    case 71: return FORMAT_PCAP_NSEC;
    case 72: return FORMAT_PCAPNG;
    case 73: return IFACE_ENGINE;
    case 74: return IFACE_USEC;
    case 75: return IFACE_NSEC;
    case 76: return IFACES;
    case 77: return <i32>PCAPNG_MAX_BLOCK;
    case 78: return LINK_ETHERNET;
    case 79: return LINK_SLL;
    case 80: return LINK_SLL2;
    case 81: return IFACE_SLL_USEC;
    case 82: return IFACE_SLL2_USEC;
    case 83: return IFACE_KINDS;
    case 84: return S_LINK;
  }
  return -1;
}

@inline function be16(a: usize): i32 {
  return (<i32>load<u8>(a) << 8) | <i32>load<u8>(a + 1);
}

@inline function be32(a: usize): i32 {
  return bswap<i32>(load<i32>(a));
}

/** TcpState.addLetter: the letter once per flow, in order, up to HISTORY_MAX. */
@inline function addLetter(row: usize, slot: i32, letter: i32): void {
  const bit = 1 << letter;
  const seen = <i32>load<u16>(row, H_HISTORY_SEEN);
  if ((seen & bit) != 0) return;
  store<u16>(row, <u16>(seen | bit), H_HISTORY_SEEN);
  const len = <i32>load<u8>(row, B_HISTORY_LEN);
  if (len < HISTORY_MAX) {
    // The first letter of a word overwrites what an earlier flow of the slot left there.
    const w = historyP + ((<usize>slot * HISTORY_WORDS + <usize>(len >> 2)) << 1);
    const shift = (len & 3) * 4;
    store<u16>(w, <u16>(shift == 0 ? letter : <i32>load<u16>(w) | (letter << shift)));
    store<u8>(row, <u8>(len + 1), B_HISTORY_LEN);
  }
}

@inline function st(i: i32): f64 {
  return load<f64>(stateP + (<usize>i << 3));
}

@inline function setSt(i: i32, v: f64): void {
  store<f64>(stateP + (<usize>i << 3), v);
}

/** decode/icmp.ts icmpQueryKind() != None: the message types of a query pair that carry an identifier. */
function isIcmpQuery(v6: bool, type: i32): bool {
  if (v6) return type == 128 || type == 129;
  return type == 0 || type == 8 || (type >= 13 && type <= 18);
}

/**
 * Takes records until the first one it leaves to the engine, and returns where that one is.
 *
 * With `rec` 0: the records are in buf[p, end), and the result is a byte offset. `format`
 * FORMAT_PCAP_*: little-endian pcap records of link type `link` (LINK_*: the caller checks it), none
 * longer than `maxCapLen`. FORMAT_PCAPNG: the blocks of a little-endian pcapng section; run()
 * takes Enhanced Packet Blocks that pcapng-reader.ts would deliver as they are (whole, well formed)
 * of the interfaces the interfaces table marks, and stops at any other block.
 * Otherwise they are records p, p + 1, ... below `end` of a worker's chunk index (src/pipeline/
 * chunks.ts: RECORD_WORDS u32 words each at `rec`, seconds as f64 at `sec`, offsets into `buf`, all
 * checked by the reading thread), and the result is a record index. With `bucket` (one of N >= 2
 * workers: each record's host-pair bucket, a byte each) the owners table (configure()) says what
 * the record is to this worker: its own (taken as above), another worker's (only its time counts:
 * Engine.noteTime and FlowTable.clock, as src/pipeline/worker.ts does for it), or one every worker
 * must decode (the run stops).
 */
export function run(buf: usize, p: i32, end: i32, format: i32, maxCapLen: u32, rec: usize, sec: usize, bucket: usize, link: i32): i32 {
  let ordinal = st(S_ORDINAL);
  let maxSec = st(S_MAX_SEC);
  let backstep = st(S_BACKSTEP);
  const nextSweep = st(S_NEXT_SWEEP);
  let lastSec = st(S_LAST_SEC);
  let lastNsec = st(S_LAST_NSEC);
  let head = <i32>st(S_LRU_HEAD);
  let tail = <i32>st(S_LRU_TAIL);
  const mask = <i32>st(S_INDEX_MASK);
  const slotMask = <i32>st(S_SLOT_MASK);
  const tagMask = ~(((slotMask + 1) << INDEX_DIST_BITS) - 1);
  let count: i32 = 0;
  let bytes: f64 = 0;
  let captured: f64 = 0;
  let truncated: i32 = 0;
  let queued: i32 = 0;
  let queueAt: i32 = 0;
  let others: i32 = 0;
  // pcapng: the link type of the run's first record; a record of another stops the run.
  let runLink: i32 = format == FORMAT_PCAPNG ? 0 : link;
  const owners = ownersP;
  const rows = rowsP;
  const index = indexP;
  const links = linksP;
  const tunnelPorts = tunnelPortsP;
  const indexed = rec != 0;

  for (;;) {
    let f: usize;
    let capLen: u32;
    let origLen: u32;
    let nsec: u32;
    let tsSec: f64;
    let next: i32;
    let l2 = link;
    if (indexed) {
      if (p >= end) break;
      const r = rec + <usize>p * (REC_WORDS << 2);
      if (bucket != 0) {
        const owner = <i32>load<u8>(owners + <usize>load<u8>(bucket + <usize>p));
        if (owner != OWNER_MINE) {
          if (owner != OWNER_OTHER) break;
          // Another worker's record: its time advances this worker's clock (a sweep second is
          // the engine's), and the engine's latest capture time.
          const otherSec = load<f64>(sec + (<usize>p << 3));
          if (otherSec >= nextSweep) break;
          const otherNsec = <f64>load<u32>(r, REC_NSEC << 2);
          if (otherSec > lastSec || (otherSec == lastSec && otherNsec > lastNsec)) {
            lastSec = otherSec;
            lastNsec = otherNsec;
          }
          if (otherSec > maxSec) maxSec = otherSec;
          else if (maxSec - otherSec > backstep) backstep = maxSec - otherSec;
          others++;
          ordinal += 1;
          p += 1;
          continue;
        }
      }
      if (load<u32>(r, REC_LINKTYPE << 2) != 1) break;
      f = buf + <usize>load<u32>(r, REC_OFFSET << 2);
      capLen = load<u32>(r, REC_CAPLEN << 2);
      origLen = load<u32>(r, REC_ORIGLEN << 2);
      nsec = load<u32>(r, REC_NSEC << 2);
      tsSec = load<f64>(sec + (<usize>p << 3));
      next = p + 1;
    } else if (format == FORMAT_PCAPNG) {
      // An Enhanced Packet Block (pcapng-reader.ts feed()): type, total length, interface id,
      // timestamp (high, low), captured and original length, the frame, options, total length again.
      if (end - p < <i32>PCAPNG_EPB_MIN) break;
      const r = buf + <usize>p;
      if (load<u32>(r) != PCAPNG_EPB) break;
      const declared = load<u32>(r, 4);
      if (declared < PCAPNG_EPB_MIN || declared > PCAPNG_MAX_BLOCK) break;
      // The reader rounds a length that is not a multiple of 4 up to one (as Wireshark does).
      const len = (declared + 3) & ~3;
      if (<u32>(end - p) < len) break;
      const trailing = <u64>load<u32>(r + <usize>len - 4);
      if (((trailing + 3) & ~(<u64>3)) != <u64>len) break;
      const ifId = load<u32>(r, 8);
      if (ifId >= <u32>IFACES) break;
      const kind = <i32>load<u8>(ifacesP + <usize>ifId);
      if (kind == IFACE_ENGINE || kind >= IFACE_KINDS) break;
      l2 = kind < IFACE_SLL_USEC ? LINK_ETHERNET : kind < IFACE_SLL2_USEC ? LINK_SLL : LINK_SLL2;
      if (runLink == 0) runLink = l2;
      else if (l2 != runLink) break;
      capLen = load<u32>(r, 20);
      origLen = load<u32>(r, 24);
      if (capLen > len - PCAPNG_EPB_MIN) break;
      // The 64-bit count of units (util/timestamp.ts TimestampConverter: exact whole seconds and
      // nanoseconds, the same as its direct mode for these two units).
      const t = (<u64>load<u32>(r, 12) << 32) | <u64>load<u32>(r, 16);
      if ((kind & 1) == 1) {
        // IFACE_USEC, IFACE_SLL_USEC, IFACE_SLL2_USEC
        tsSec = <f64>(t / 1_000_000);
        nsec = <u32>(t % 1_000_000) * 1000;
      } else {
        tsSec = <f64>(t / 1_000_000_000);
        nsec = <u32>(t % 1_000_000_000);
      }
      f = r + 28;
      next = p + <i32>len;
    } else {
      if (end - p < 16) break;
      const r = buf + <usize>p;
      capLen = load<u32>(r, 8);
      origLen = load<u32>(r, 12);
      if (capLen > maxCapLen || <u32>(end - p - 16) < capLen) break;
      const frac = load<u32>(r, 4);
      if (format == FORMAT_PCAP_NSEC) {
        if (frac >= 1_000_000_000) break;
        nsec = frac;
      } else {
        if (frac >= 1_000_000) break;
        nsec = frac * 1000;
      }
      tsSec = <f64>load<u32>(r);
      f = r + 16;
      next = p + 16 + <i32>capLen;
    }
    // A new second of capture time may start a sweep: the engine's.
    if (tsSec >= nextSweep) break;

    // decodePlain (src/decode/plain.ts): Ethernet, up to two VLAN tags, IPv4 or IPv6, TCP or UDP.
    const fend = f + <usize>capLen;
    let type: i32;
    let l3: usize;
    if (l2 == LINK_ETHERNET) {
      if (capLen < 14) break;
      type = be16(f + 12);
      l3 = f + 14;
    } else {
      // A Linux cooked header (the general decoder's decodeLinuxSll/Sll2): its protocol field is the
      // EtherType. A VLAN tag libpcap put back in after it is the engine's.
      const header: u32 = l2 == LINK_SLL ? 16 : 20;
      if (capLen < header) break;
      type = be16(l2 == LINK_SLL ? f + 14 : f);
      if (type == 0x8100 || type == 0x88a8 || type == 0x9100) break;
      l3 = f + <usize>header;
    }
    let vlanCount: i32 = 0;
    let vlanOuter: i32 = 0;
    let vlanInner: i32 = 0;
    if (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
      if (fend - l3 < 4) break;
      vlanOuter = be16(l3) & 0x0fff;
      type = be16(l3 + 2);
      l3 += 4;
      vlanCount = 1;
      if (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
        if (fend - l3 < 4) break;
        vlanInner = be16(l3) & 0x0fff;
        type = be16(l3 + 2);
        l3 += 4;
        vlanCount = 2;
        if (type == 0x8100 || type == 0x88a8 || type == 0x9100) break;
      }
    }
    const avail = <i32>(fend - l3);
    let s0: i32 = 0, s1: i32 = 0, s2: i32 = 0, s3: i32 = 0;
    let d0: i32 = 0, d1: i32 = 0, d2: i32 = 0, d3: i32 = 0;
    let l4: usize = 0;
    let ipEnd: usize = 0;
    let proto: i32 = 0;
    if (type == 0x0800) {
      if (avail < 20) break;
      const vihl = <i32>load<u8>(l3);
      const hlen = (vihl & 0x0f) << 2;
      if (vihl >> 4 != 4 || hlen < 20) break;
      const total = be16(l3 + 2);
      if (total < hlen || total > avail) break;
      if ((be16(l3 + 6) & 0x3fff) != 0) break;
      proto = <i32>load<u8>(l3, 9);
      if (proto != 6 && proto != 17 && proto != 1) break;
      l4 = l3 + <usize>hlen;
      ipEnd = l3 + <usize>total;
      s3 = be32(l3 + 12);
      d3 = be32(l3 + 16);
    } else if (type == 0x86dd) {
      if (avail < 40 || (<i32>load<u8>(l3) >> 4) != 6) break;
      proto = <i32>load<u8>(l3, 6);
      if (proto != 6 && proto != 17 && proto != 58) break;
      const plen = be16(l3 + 4);
      if (plen == 0 || 40 + plen > avail) break;
      l4 = l3 + 40;
      ipEnd = l4 + <usize>plen;
      s0 = be32(l3 + 8);
      s1 = be32(l3 + 12);
      s2 = be32(l3 + 16);
      s3 = be32(l3 + 20);
      d0 = be32(l3 + 24);
      d1 = be32(l3 + 28);
      d2 = be32(l3 + 32);
      d3 = be32(l3 + 36);
    } else {
      break;
    }
    const seg = <i32>(ipEnd - l4);
    let tcpFlags: i32 = 0;
    let payloadLength: i32 = 0;
    let payload: usize = l4 + 8;
    if (proto == 6) {
      if (seg < 20) break;
      const hlen = (<i32>load<u8>(l4, 12) >> 4) << 2;
      if (hlen < 20 || hlen > seg) break;
      tcpFlags = <i32>load<u8>(l4, 13);
      payloadLength = seg - hlen;
      payload = l4 + <usize>hlen;
    } else if (proto == 17) {
      if (seg < 8) break;
      const length = be16(l4 + 4);
      if (length < 8 || length > seg) break;
      if (tunnelPorts != 0 && (<i32>load<u8>(tunnelPorts + <usize>be16(l4)) | <i32>load<u8>(tunnelPorts + <usize>be16(l4 + 2))) != 0) break;
      payloadLength = length - 8;
    } else {
      // ICMP (over IPv4) or ICMPv6 (over IPv6): only a query message (echo, timestamp, ...), which
      // decode/icmp.ts keys by its identifier; errors (with their quote) and the rest are the engine's.
      if (seg < 8 || !isIcmpQuery(proto == 58, <i32>load<u8>(l4))) break;
      payloadLength = seg - 8;
    }
    // An ICMP query's identifier is both of its "ports" (decode/icmp.ts).
    const sPort = proto == 6 || proto == 17 ? be16(l4) : be16(l4 + 4);
    const dPort = proto == 6 || proto == 17 ? be16(l4 + 2) : sPort;
    // A SYN is the engine's: it may start a new connection on the 5-tuple (port reuse).
    if ((tcpFlags & (SYN | ACK)) == SYN) break;

    // The flow key (src/flow/key.ts): canonical order, then canonicalKeyHash.
    const vlan = (vlanCount << 24) | (vlanOuter << 12) | vlanInner;
    let srcIsA = false;
    if (s0 != d0) srcIsA = <u32>s0 < <u32>d0;
    else if (s1 != d1) srcIsA = <u32>s1 < <u32>d1;
    else if (s2 != d2) srcIsA = <u32>s2 < <u32>d2;
    else if (s3 != d3) srcIsA = <u32>s3 < <u32>d3;
    else srcIsA = sPort <= dPort;
    let a0 = s0, a1 = s1, a2 = s2, a3 = s3, b0 = d0, b1 = d1, b2 = d2, b3 = d3;
    let ports = (sPort << 16) | dPort;
    if (!srcIsA) {
      a0 = d0; a1 = d1; a2 = d2; a3 = d3;
      b0 = s0; b1 = s1; b2 = s2; b3 = s3;
      ports = (dPort << 16) | sPort;
    }
    let h = (a3 ^ 0x9e3779b9) * 0x85ebca6b ^ (b3 ^ 0x7f4a7c15) * 0xc2b2ae35;
    h ^= (ports ^ (proto << 8)) * 0x27d4eb2f;
    if ((a0 | a1 | a2 | b0 | b1 | b2) != 0) {
      h ^= (a0 ^ a1 * 0x165667b1 ^ a2 * 0xd3a2646c) * 0x9e3779b1;
      h ^= (b0 ^ b1 * 0xfd7046c5 ^ b2 * 0xb55a4f09) * 0x85ebca77;
    }
    if (vlan != 0) h ^= vlan * 0x1b873593;
    h ^= <i32>(<u32>h >> 16);
    h *= 0x7feb352d;
    h ^= <i32>(<u32>h >> 15);
    h *= 0x846ca68b;
    h ^= <i32>(<u32>h >> 16);

    // FlowIndex.find: linear probing; the tag bits (above the slot and the distance), then the key in the row.
    const tag = h & tagMask;
    let i = h & mask;
    let slot: i32 = -1;
    for (;;) {
      const e = load<i32>(index + (<usize>i << 2));
      if (e == 0) break;
      if ((e & tagMask) == tag) {
        const k = rows + <usize>((e & slotMask) - 1) * ROW_BYTES;
        if (
          load<i32>(k, K_PORTS) == ports && load<i32>(k, K_A + 12) == a3 && load<i32>(k, K_B + 12) == b3 &&
          load<i32>(k, K_PROTO) == proto && load<i32>(k, K_VLAN) == vlan && load<i32>(k, K_TUNNEL) == 0 &&
          load<i32>(k, K_A) == a0 && load<i32>(k, K_A + 4) == a1 && load<i32>(k, K_A + 8) == a2 &&
          load<i32>(k, K_B) == b0 && load<i32>(k, K_B + 4) == b1 && load<i32>(k, K_B + 8) == b2
        ) {
          slot = (e & slotMask) - 1;
          break;
        }
      }
      i = (i + 1) & mask;
    }
    if (slot < 0) break;

    const row = rows + <usize>slot * ROW_BYTES;
    const toServer = srcIsA == (load<u8>(row, B_CLIENT_IS_A) == 1);
    let fl = load<i32>(row, I_FLAGS);
    // The first packet after an active-timeout cut sets the record's first time. (The cut also
    // clears the history letters, so the letter checks below stop that packet too; this check
    // keeps the condition true on its own.)
    if ((fl & AWAIT_FIRST) != 0) break;
    // The payload goes to the classifier while it inspects this direction of the flow (bit 1
    // towards the server, bit 2 towards the client: flow/table.ts): through the queue, or the
    // engine when the queue has no room left.
    const inspected = payloadLength > 0 && (<i32>load<u8>(row, B_INSPECT) & (toServer ? 1 : 2)) != 0;
    if (inspected && (queued >= queueEntries || payloadLength > queueBytes - queueAt)) break;

    // Taken: the queued payload, Engine.handle's totals, FlowClock.advance, the LRU move, FlowTable.account.
    if (inspected) {
      memory.copy(queueP + <usize>queueAt, payload, <usize>payloadLength);
      const q = queueIndexP + ((<usize>queued * QUEUE_WORDS) << 2);
      store<i32>(q, slot, Q_SLOT << 2);
      store<i32>(q, toServer ? 1 : 0, Q_TO_SERVER << 2);
      store<i32>(q, queueAt, Q_OFFSET << 2);
      store<i32>(q, payloadLength, Q_LENGTH << 2);
      queueAt += payloadLength;
      queued++;
    }
    count++;
    bytes += <f64>origLen;
    captured += <f64>capLen;
    if (capLen < origLen) truncated++;
    const tsNsec = <f64>nsec;
    if (tsSec > lastSec || (tsSec == lastSec && tsNsec > lastNsec)) {
      lastSec = tsSec;
      lastNsec = tsNsec;
    }
    if (tsSec > maxSec) maxSec = tsSec;
    else if (maxSec - tsSec > backstep) backstep = maxSec - tsSec;
    if (slot != tail) {
      const pv = load<i32>(links + (<usize>slot << 3));
      const nx = load<i32>(links + (<usize>slot << 3), 4);
      if (pv >= 0) store<i32>(links + (<usize>pv << 3), nx, 4);
      else head = nx;
      store<i32>(links + (<usize>nx << 3), pv);
      store<i32>(links + (<usize>slot << 3), tail);
      store<i32>(links + (<usize>slot << 3), -1, 4);
      store<i32>(links + (<usize>tail << 3), slot, 4);
      tail = slot;
    }
    store<f64>(row, ordinal, F_LAST_ORDINAL);
    if (toServer) {
      store<f64>(row, load<f64>(row, F_PKTS_TO_SERVER) + 1, F_PKTS_TO_SERVER);
      store<f64>(row, load<f64>(row, F_BYTES_TO_SERVER) + <f64>origLen, F_BYTES_TO_SERVER);
      store<f64>(row, load<f64>(row, F_PAYLOAD_TO_SERVER) + <f64>payloadLength, F_PAYLOAD_TO_SERVER);
      fl |= CLIENT_SENT;
    } else {
      store<f64>(row, load<f64>(row, F_PKTS_TO_CLIENT) + 1, F_PKTS_TO_CLIENT);
      store<f64>(row, load<f64>(row, F_BYTES_TO_CLIENT) + <f64>origLen, F_BYTES_TO_CLIENT);
      store<f64>(row, load<f64>(row, F_PAYLOAD_TO_CLIENT) + <f64>payloadLength, F_PAYLOAD_TO_CLIENT);
      fl |= SERVER_SENT;
    }
    // TcpState.update (TCP) or data (any other transport), after the accounting as in FlowTable.process.
    const d = toServer ? 0 : H_SERVER;
    if (proto == 6) {
      if ((tcpFlags & SYN) != 0) {
        // A SYN-ACK (a plain SYN went to the engine).
        addLetter(row, slot, d + H_SYNACK);
        if (!toServer) fl |= SERVER_SYNACK;
      } else if ((tcpFlags & ACK) != 0) {
        if (toServer && (fl & (SERVER_SYNACK | HANDSHAKE_DONE)) == SERVER_SYNACK) {
          fl |= HANDSHAKE_DONE;
          if ((fl & CLIENT_SYN) != 0) {
            // The handshake RTT, in the column that held the SYN's second.
            const synAt = synP + (<usize>slot << 3);
            store<f64>(synAt, (tsSec - load<f64>(synAt)) * 1e9 + (tsNsec - <f64>load<u32>(synNsecP + (<usize>slot << 2))));
            fl |= RTT_KNOWN;
          }
        }
        if (payloadLength == 0 && (tcpFlags & (FIN | RST)) == 0) addLetter(row, slot, d + H_ACK);
      }
      if (payloadLength > 0) addLetter(row, slot, d + H_DATA);
      if ((tcpFlags & FIN) != 0) {
        addLetter(row, slot, d + H_FIN);
        fl |= toServer ? CLIENT_FIN : SERVER_FIN;
      }
      if ((tcpFlags & RST) != 0) {
        addLetter(row, slot, d + H_RST);
        fl |= toServer ? CLIENT_RST : SERVER_RST;
      }
    } else {
      addLetter(row, slot, d + H_DATA);
    }
    store<i32>(row, fl, I_FLAGS);
    const rowSec = load<f64>(row, F_LAST_SEC);
    if (tsSec > rowSec || (tsSec == rowSec && nsec > load<u32>(row, I_LAST_NSEC))) {
      store<f64>(row, tsSec, F_LAST_SEC);
      store<u32>(row, nsec, I_LAST_NSEC);
    }
    ordinal += 1;
    p = next;
  }

  setSt(S_ORDINAL, ordinal);
  setSt(S_MAX_SEC, maxSec);
  setSt(S_BACKSTEP, backstep);
  setSt(S_LAST_SEC, lastSec);
  setSt(S_LAST_NSEC, lastNsec);
  setSt(S_COUNT, <f64>count);
  setSt(S_BYTES, bytes);
  setSt(S_CAPTURED, captured);
  setSt(S_TRUNCATED, <f64>truncated);
  setSt(S_LRU_HEAD, <f64>head);
  setSt(S_LRU_TAIL, <f64>tail);
  setSt(S_QUEUED, <f64>queued);
  setSt(S_OTHERS, <f64>others);
  setSt(S_LINK, <f64>runLink);
  return p;
}
