/**
 * DNS and mDNS recogniser (RFC 1035 §4.1 message format, §4.1.4 compression; RFC 7766 §8 TCP
 * length prefix; RFC 6762 multicast DNS on port 5353).
 *
 * Header sanity first (opcode assigned, Z bit clear, counts plausible: exactly one question in
 * unicast DNS, no answers in a plain query), then the first question name is parsed with
 * compression pointers followed only backwards and at most MAX_POINTER_JUMPS times (so a pointer
 * loop ends), labels of at most 63 bytes and names of at most 255. mDNS announcements carry no
 * question: there the first answer's owner name is read instead.
 */
import { latin1, windowEnd } from './bytes.js';
import { NO_DETAIL, type ProtocolEvidence } from './evidence.js';
import { IpProto } from '../../util/ip-proto.js';

const HEADER_LEN = 12;
export const MDNS_PORT = 5353;
const MAX_LABEL = 63;
const MAX_NAME = 255;
const MAX_POINTER_JUMPS = 16;
/** Record counts above this are random bytes, not a DNS message we believe (a plausibility bound). */
const MAX_RR_COUNT = 4096;
/** mDNS queries may carry several questions (RFC 6762 §5.3). */
const MAX_MDNS_QUESTIONS = 64;

const OPCODE_QUERY = 0;
const OPCODE_NOTIFY = 4;
const OPCODE_UPDATE = 5;
const OPCODE_DSO = 6;
const OPCODE_NAMES = ['QUERY', 'IQUERY', 'STATUS', '', 'NOTIFY', 'UPDATE', 'DSO'];
const FLAG_QR = 0x8000;
const FLAG_Z = 0x0040;
/** Top bit of the class field in mDNS: QU (unicast response wanted) or cache-flush. */
const MDNS_CLASS_TOP_BIT = 0x8000;

const QTYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV',
  35: 'NAPTR', 41: 'OPT', 43: 'DS', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 64: 'SVCB', 65: 'HTTPS', 251: 'IXFR',
  252: 'AXFR', 255: 'ANY',
};
/** IN, CH, HS, NONE, ANY. */
function classOk(c: number): boolean {
  return c === 1 || c === 3 || c === 4 || c === 254 || c === 255;
}

/** What recognizeDns returns without details: the same protocol, tags and completeness, shared. */
const SLIM_DNS: ProtocolEvidence = Object.freeze({ protocol: 'dns', tags: Object.freeze(['dns']), detail: NO_DETAIL }) as ProtocolEvidence;
const SLIM_DNS_PARTIAL: ProtocolEvidence = Object.freeze({ ...SLIM_DNS, incomplete: true });
const SLIM_MDNS: ProtocolEvidence = Object.freeze({ protocol: 'mdns', tags: Object.freeze(['dns', 'mdns']), detail: NO_DETAIL }) as ProtocolEvidence;
const SLIM_MDNS_PARTIAL: ProtocolEvidence = Object.freeze({ ...SLIM_MDNS, incomplete: true });

/**
 * DNS message bytes: over UDP as is, over TCP behind a 2-byte length (RFC 7766). `serverPort` 5353
 * over UDP adds 'mdns'. `detail` false: the same checks and the same protocol, tags and
 * completeness, as shared objects without decoded fields (nothing allocated: a flood of DNS flows
 * without a flow log). Never throws.
 */
export function recognizeDns(
  buf: Uint8Array,
  offset: number,
  length: number,
  transport: number,
  serverPort: number,
  detail = true,
): ProtocolEvidence | null {
  const end0 = windowEnd(buf, offset, length);
  if (end0 < 0) return null;
  let m = offset;
  let end = end0;
  if (transport === IpProto.TCP) {
    if (end - offset < 2) return null;
    const msgLen = (buf[offset]! << 8) | buf[offset + 1]!;
    if (msgLen < HEADER_LEN + 5) return null; // dnsOverTcpNeverMatches relies on this bound
    m = offset + 2;
    end = Math.min(end, m + msgLen);
  }
  if (end - m < HEADER_LEN) return null;
  const mdns = transport !== IpProto.TCP && serverPort === MDNS_PORT;
  if (!headerPlausible(buf, m, mdns)) return null;
  const { qr, opcode, rcode, qd, an } = hdr;
  let name: string | null = null;
  let type = 0;
  if (qd > 0 || an > 0) {
    // The first question, or for an mDNS announcement the first answer's owner name.
    name = walkName(buf, m, m + HEADER_LEN, end, detail);
    if (name === null) return null;
    const p = NAME_END;
    if (p + 4 > end) return null;
    type = (buf[p]! << 8) | buf[p + 1]!;
    const cls = (buf[p + 2]! << 8) | buf[p + 3]!;
    if (type === 0) return null;
    if (!classOk(mdns ? cls & ~MDNS_CLASS_TOP_BIT : cls)) return null;
  }
  // An answer without a question, or a NOTIFY/UPDATE, names less than a query does: a later
  // message of this direction may say more.
  const partial = (name !== null && qd === 0) || opcode === OPCODE_NOTIFY || opcode === OPCODE_UPDATE;
  if (!detail) return mdns ? (partial ? SLIM_MDNS_PARTIAL : SLIM_MDNS) : partial ? SLIM_DNS_PARTIAL : SLIM_DNS;
  const fields: Record<string, string> = { dnsQr: qr ? 'response' : 'query' };
  if (opcode !== OPCODE_QUERY) fields['dnsOpcode'] = OPCODE_NAMES[opcode]!;
  if (qr) fields['dnsRcode'] = String(rcode);
  if (name !== null) {
    fields['dnsQname'] = name;
    fields['dnsQtype'] = QTYPE_NAMES[type] ?? String(type);
    if (qd === 0) fields['note'] = 'no question: name of the first answer';
  }
  if (opcode === OPCODE_NOTIFY || opcode === OPCODE_UPDATE) fields['note'] = `opcode ${OPCODE_NAMES[opcode]!}`;
  // The frozen tag lists are shared: a flow keeps its evidence until it ends.
  const ev: ProtocolEvidence = mdns ? { protocol: 'mdns', tags: SLIM_MDNS.tags, detail: fields } : { protocol: 'dns', tags: SLIM_DNS.tags, detail: fields };
  if (partial) ev.incomplete = true;
  return ev;
}

/** Offset just after the name readName() parsed last (in the original, not the jumped-to, bytes). */
let NAME_END = 0;

/**
 * Reads the domain name at `p` of the message starting at `msg`. Returns it in presentation form
 * ("www.example.com", "." for the root; '.', '\\', space and non-printable bytes as \DDD)
 * or null when malformed or cut by `end`.
 */
export function readName(buf: Uint8Array, msg: number, p: number, end: number): string | null {
  return walkName(buf, msg, p, end, true);
}

/** The header fields headerPlausible() read last; reused (recognisers are not re-entrant). */
const hdr = { qr: false, opcode: 0, rcode: 0, qd: 0, an: 0 };

/**
 * The header sanity checks of the message whose header starts at `m` (12 bytes there); leaves the
 * fields the evidence reads in `hdr`.
 */
function headerPlausible(buf: Uint8Array, m: number, mdns: boolean): boolean {
  const flags = (buf[m + 2]! << 8) | buf[m + 3]!;
  const qr = (hdr.qr = (flags & FLAG_QR) !== 0);
  const opcode = (hdr.opcode = (flags >> 11) & 0xf);
  const rcode = (hdr.rcode = flags & 0xf);
  const qd = (hdr.qd = (buf[m + 4]! << 8) | buf[m + 5]!);
  const an = (hdr.an = (buf[m + 6]! << 8) | buf[m + 7]!);
  const ns = (buf[m + 8]! << 8) | buf[m + 9]!;
  const ar = (buf[m + 10]! << 8) | buf[m + 11]!;
  if (flags & FLAG_Z) return false;
  if (opcode > OPCODE_DSO || OPCODE_NAMES[opcode] === '') return false;
  if (mdns && opcode !== OPCODE_QUERY) return false; // RFC 6762 §18.3
  if (!qr && rcode !== 0) return false;
  if (qr && rcode > 10) return false;
  if (an > MAX_RR_COUNT || ns > MAX_RR_COUNT || ar > MAX_RR_COUNT) return false;
  if (mdns) return qd <= MAX_MDNS_QUESTIONS && (qd !== 0 || an !== 0);
  if (opcode === OPCODE_DSO) return qd === 0;
  // A plain query asks one question and answers none (UPDATE and NOTIFY reuse these sections).
  return qd === 1 && (qr || opcode !== OPCODE_QUERY || (an === 0 && ns === 0 && ar <= 2));
}

/**
 * True when no bytes appended to `buf[offset, end)`, the first bytes of a TCP stream, could make it
 * DNS over TCP to recognizeDns: its length prefix or header, already there, is refused. False
 * when that cannot be told yet.
 */
export function dnsOverTcpNeverMatches(buf: Uint8Array, offset: number, end: number): boolean {
  if (end - offset < 2) return false;
  if (((buf[offset]! << 8) | buf[offset + 1]!) < HEADER_LEN + 5) return true;
  return end - offset >= 2 + HEADER_LEN && !headerPlausible(buf, offset + 2, false);
}

/**
 * readName()'s walk; with `build` false the same checks without building the name (returns "."
 * for any well-formed name).
 */
function walkName(buf: Uint8Array, msg: number, p: number, end: number, build: boolean): string | null {
  let n = 0; // chars of the name in NAME_CHARS
  let total = 0;
  let jumps = 0;
  let after = -1; // where the name ends in the original bytes, once a pointer was followed
  let lowest = p; // pointers must go strictly before every position visited so far
  for (;;) {
    if (p >= end) return null;
    const len = buf[p]!;
    if (len === 0) {
      NAME_END = after >= 0 ? after : p + 1;
      return n === 0 ? '.' : latin1(NAME_CHARS, 0, n);
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (p + 1 >= end) return null;
      const target = msg + (((len & 0x3f) << 8) | buf[p + 1]!);
      if (++jumps > MAX_POINTER_JUMPS || target >= lowest || target < msg + HEADER_LEN) return null;
      if (after < 0) after = p + 2;
      p = target;
      lowest = target;
      continue;
    }
    if (kind !== 0) return null; // 0x40 / 0x80: extended and reserved label types (RFC 6891 §5)
    if (len > MAX_LABEL) return null;
    total += len + 1;
    if (total > MAX_NAME || p + 1 + len > end) return null;
    if (build) {
      if (n !== 0) NAME_CHARS[n++] = 0x2e;
      for (let i = p + 1; i <= p + len; i++) n = putLabelChar(buf[i]!, n);
    }
    p += 1 + len;
  }
}

/**
 * The name being read, as chars (one string made at the end: appending char by char would make a
 * rope of one node per char, kept alive with the flow's evidence). A name has at most MAX_NAME
 * bytes, each at most 4 chars (\DDD).
 */
const NAME_CHARS = new Uint8Array(MAX_NAME * 4);

/** Appends label byte `b` at NAME_CHARS[n]: itself, or \DDD for '.', '\\', space and non-printables. */
function putLabelChar(b: number, n: number): number {
  if (b > 0x20 && b < 0x7f && b !== 0x2e && b !== 0x5c) {
    NAME_CHARS[n] = b;
    return n + 1;
  }
  NAME_CHARS[n] = 0x5c;
  NAME_CHARS[n + 1] = 0x30 + ((b / 100) | 0);
  NAME_CHARS[n + 2] = 0x30 + (((b / 10) | 0) % 10);
  NAME_CHARS[n + 3] = 0x30 + (b % 10);
  return n + 4;
}
