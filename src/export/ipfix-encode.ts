/**
 * IPFIX message encoding (RFC 7011) of finished flow records: two templates (IPv4, IPv6) and one
 * data record per direction of a flow that carried packets in that direction (RFC 7011 uniflow
 * records, paired by flowId and marked by biflowDirection). Pure: bytes in, bytes out; the UDP
 * side is export/ipfix.ts. Information elements and their numbers: docs/ipfix.md.
 *
 * Message layout (RFC 7011 section 3): a 16-byte header (version 10, length, export time, sequence
 * number = data records sent before this message, observation domain), then sets: a Template Set
 * (id 2) or Data Sets (id = template id). Every multi-byte field is network byte order.
 */
import { parseAddress } from '../flow/key.js';
import type { ClassifiedFlow } from '../pipeline/results.js';
import { recordServiceKey } from '../pipeline/service-stats.js';
import { ipProtoByName } from '../util/ip-proto.js';
import { parseTimestamp } from '../util/time.js';

export const IPFIX_VERSION = 10;
export const MESSAGE_HEADER_BYTES = 16;
export const SET_HEADER_BYTES = 4;
export const TEMPLATE_SET_ID = 2;
export const TEMPLATE_ID_IPV4 = 256;
export const TEMPLATE_ID_IPV6 = 257;
/** RFC 7011 section 7: a variable-length field is announced with length 65535. */
export const VARIABLE_LENGTH = 0xffff;
/**
 * The enterprise number of portsniff's own elements. portsniff has no IANA Private Enterprise
 * Number of its own; 32473 is the one RFC 5612 reserves for documentation and examples, which is
 * honest about it (docs/ipfix.md): a collector must not take these numbers as registered to anyone.
 */
export const DEFAULT_ENTERPRISE_NUMBER = 32473;
/** Default largest message: fits a 1500-byte Ethernet MTU with IPv6 and UDP headers. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1400;

/** IANA IPFIX information element ids used here (https://www.iana.org/assignments/ipfix). */
export const IE = {
  octetDeltaCount: 1,
  packetDeltaCount: 2,
  protocolIdentifier: 4,
  tcpControlBits: 6,
  sourceTransportPort: 7,
  sourceIPv4Address: 8,
  destinationTransportPort: 11,
  destinationIPv4Address: 12,
  sourceIPv6Address: 27,
  destinationIPv6Address: 28,
  vlanId: 58,
  ipVersion: 60,
  flowEndReason: 136,
  flowId: 148,
  flowStartMilliseconds: 152,
  flowEndMilliseconds: 153,
  biflowDirection: 239,
  dot1qCustomerVlanId: 245,
  layer2OctetDeltaCount: 352,
} as const;

/** portsniff's enterprise-specific elements (under the enterprise number above). */
export const PORTSNIFF_IE = {
  /** string: the service key (rule id, `ambiguous:<id>|<id>`, `unknown`, `unclassified`). */
  serviceKey: 1,
  /** string: the rule's product key (`ambiguous`, `unknown`, `unclassified` otherwise). */
  product: 2,
  /** string: verified | mismatch | encrypted | port-only | unknown | unclassified. */
  verdict: 3,
  /** string: ok | violation | unchecked | none (no rule matched). */
  exposure: 4,
  /** string: the protocol the payload was recognised as (`resp`, `tls`, ...), empty when none. */
  protocol: 5,
  /** unsigned8: 1 when this record continues a flow cut by the active timeout. */
  continued: 6,
} as const;

export interface FieldSpec {
  id: number;
  length: number;
  enterprise?: number;
}

export function templateFields(ipVersion: 4 | 6, enterprise: number): FieldSpec[] {
  const addr = ipVersion === 4 ? 4 : 16;
  return [
    { id: IE.flowStartMilliseconds, length: 8 },
    { id: IE.flowEndMilliseconds, length: 8 },
    { id: ipVersion === 4 ? IE.sourceIPv4Address : IE.sourceIPv6Address, length: addr },
    { id: ipVersion === 4 ? IE.destinationIPv4Address : IE.destinationIPv6Address, length: addr },
    { id: IE.sourceTransportPort, length: 2 },
    { id: IE.destinationTransportPort, length: 2 },
    { id: IE.protocolIdentifier, length: 1 },
    { id: IE.ipVersion, length: 1 },
    { id: IE.tcpControlBits, length: 2 },
    { id: IE.packetDeltaCount, length: 8 },
    { id: IE.octetDeltaCount, length: 8 },
    { id: IE.layer2OctetDeltaCount, length: 8 },
    { id: IE.vlanId, length: 2 },
    { id: IE.dot1qCustomerVlanId, length: 2 },
    { id: IE.biflowDirection, length: 1 },
    { id: IE.flowEndReason, length: 1 },
    { id: IE.flowId, length: 8 },
    { id: PORTSNIFF_IE.continued, length: 1, enterprise },
    { id: PORTSNIFF_IE.serviceKey, length: VARIABLE_LENGTH, enterprise },
    { id: PORTSNIFF_IE.product, length: VARIABLE_LENGTH, enterprise },
    { id: PORTSNIFF_IE.verdict, length: VARIABLE_LENGTH, enterprise },
    { id: PORTSNIFF_IE.exposure, length: VARIABLE_LENGTH, enterprise },
    { id: PORTSNIFF_IE.protocol, length: VARIABLE_LENGTH, enterprise },
  ];
}

/** RFC 5102 flowEndReason values. */
export const FLOW_END_REASON: Record<string, number> = {
  'idle-timeout': 1,
  'active-timeout': 2,
  'port-reuse': 3, // "end of Flow detected": a new SYN on the same 5-tuple ended it
  'end-of-capture': 4, // "forced end"
  evicted: 5, // "lack of resources"
};

export function protocolNumber(transport: string): number {
  return ipProtoByName(transport) ?? 0;
}

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

/**
 * TCP control bits of one direction, from the Zeek-style history (uppercase: client, lowercase:
 * server). Only what the history proves: S = SYN, H = SYN+ACK, A = ACK, F = FIN, R = RST. PSH,
 * URG, ECE, CWR and the ACK bit of data segments are not tracked per flow.
 */
export function tcpBitsFromHistory(history: string, client: boolean): number {
  let bits = 0;
  for (let i = 0; i < history.length; i++) {
    let c = history.charCodeAt(i);
    // Histories are ASCII; anything else takes the general case-mapping below.
    if (c > 127) return tcpBitsOfAnyText(history, client);
    const isClient = c >= 65 && c <= 90;
    if (isClient !== client) continue;
    if (c >= 97 && c <= 122) c -= 32;
    switch (c) {
      case 83: bits |= TCP_SYN; break; // S
      case 72: bits |= TCP_SYN | TCP_ACK; break; // H
      case 65: bits |= TCP_ACK; break; // A
      case 70: bits |= TCP_FIN; break; // F
      case 82: bits |= TCP_RST; break; // R
    }
  }
  return bits;
}

function tcpBitsOfAnyText(history: string, client: boolean): number {
  let bits = 0;
  for (const ch of history) {
    const isClient = ch >= 'A' && ch <= 'Z';
    if (isClient !== client) continue;
    switch (ch.toUpperCase()) {
      case 'S': bits |= TCP_SYN; break;
      case 'H': bits |= TCP_SYN | TCP_ACK; break;
      case 'A': bits |= TCP_ACK; break;
      case 'F': bits |= TCP_FIN; break;
      case 'R': bits |= TCP_RST; break;
    }
  }
  return bits;
}

function msOf(text: string): number | bigint {
  const fast = isoMs(text);
  if (fast !== -1) return fast;
  const t = parseTimestamp(text);
  if (t === null || !Number.isFinite(t.sec) || t.sec < 0) return 0n;
  return BigInt(Math.floor(t.sec)) * 1000n + BigInt(Math.floor(t.nsec / 1e6));
}

// The last second seen by isoMs: records of one second share it (Date.parse once per second).
// A NUL at first: no timestamp starts with it.
let isoSecondText = '\u0000';
let isoSecondMs = -1;

/**
 * Milliseconds of an ISO timestamp as the records write it (`2024-05-01T12:00:00.000405000Z`),
 * what parseTimestamp then msOf give, without a regular expression; -1 when it is not one whose
 * second is known to parse (then the general path decides).
 */
function isoMs(text: string): number {
  const n = text.length;
  if (n < 20 || text.charCodeAt(n - 1) !== 90 /* Z */) return -1;
  if (!text.startsWith(isoSecondText)) {
    const second = text.slice(0, 19);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(second)) return -1;
    const ms = Date.parse(`${second}Z`);
    if (!Number.isFinite(ms) || ms < 0) return -1;
    isoSecondText = second;
    isoSecondMs = ms;
  }
  if (n === 20) return isoSecondMs;
  // '.' and 1 to 9 digits before the Z: the first three are the milliseconds.
  if (text.charCodeAt(19) !== 46 || n > 30 || n < 22) return -1;
  let frac = 0;
  for (let i = 20; i < n - 1; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    if (i < 23) frac = frac * 10 + d;
  }
  for (let i = n - 1; i < 23; i++) frac *= 10;
  return isoSecondMs + frac;
}

/**
 * UTF-8 of the strings records carry (service keys, products, verdicts, exposure, protocols: a
 * few dozen distinct ones), kept instead of encoded again for every record.
 */
const utf8Cache = new Map<string, Uint8Array>();
const UTF8_CACHE_MAX = 1024;

function utf8Of(s: string): Uint8Array {
  let b = utf8Cache.get(s);
  if (b === undefined) {
    if (utf8Cache.size >= UTF8_CACHE_MAX) utf8Cache.clear();
    b = Buffer.from(s, 'utf8');
    utf8Cache.set(s, b);
  }
  return b;
}

/** Growable big-endian byte writer (a message is at most a few KiB). */
export class ByteWriter {
  buf = new Uint8Array(2048);
  view = new DataView(this.buf.buffer);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v & 0xff;
  }
  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.length, v & 0xffff);
    this.length += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, v >>> 0);
    this.length += 4;
  }
  u64(v: bigint | number): void {
    this.ensure(8);
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
      // Two 32-bit halves: no BigInt for the counts and times of every record.
      const n = Math.floor(v);
      this.view.setUint32(this.length, Math.floor(n / 0x100000000));
      this.view.setUint32(this.length + 4, n >>> 0);
    } else {
      this.view.setBigUint64(this.length, BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt(Math.max(0, Math.floor(v)))));
    }
    this.length += 8;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  /** RFC 7011 section 7: a length octet, or 255 then two length octets for 255 bytes and more. */
  varString(s: string): void {
    const b = utf8Of(s);
    const n = Math.min(b.length, 0xffff);
    if (n < 255) this.u8(n);
    else {
      this.u8(255);
      this.u16(n);
    }
    this.bytes(n === b.length ? b : b.subarray(0, n));
  }
  /** Starts over (the buffer is kept). */
  reset(): void {
    this.length = 0;
  }
  setU16(at: number, v: number): void {
    this.view.setUint16(at, v);
  }
  take(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** A Template Set holding both templates. */
export function encodeTemplateSet(w: ByteWriter, enterprise: number): void {
  const start = w.length;
  w.u16(TEMPLATE_SET_ID);
  w.u16(0); // set length, patched below
  for (const [id, v] of [[TEMPLATE_ID_IPV4, 4], [TEMPLATE_ID_IPV6, 6]] as const) {
    const fields = templateFields(v, enterprise);
    w.u16(id);
    w.u16(fields.length);
    for (const f of fields) {
      // Enterprise bit (the top bit of the element id) and the enterprise number follow.
      w.u16(f.enterprise === undefined ? f.id : 0x8000 | f.id);
      w.u16(f.length);
      if (f.enterprise !== undefined) w.u32(f.enterprise);
    }
  }
  w.setU16(start + 2, w.length - start);
}

/** One direction of a flow as a record. */
export interface DirectionRecord {
  ipVersion: 4 | 6;
  bytes: Uint8Array;
}

/** A writer per direction, reused by encodeFlowRecordViews. */
const directionWriters = [new ByteWriter(), new ByteWriter()];

/** The records of one finished flow: one per direction that carried packets (0, 1 or 2). */
export function encodeFlowRecords(f: ClassifiedFlow): DirectionRecord[] {
  return encodeFlowRecordViews(f).map((r) => ({ ipVersion: r.ipVersion, bytes: r.bytes.slice() }));
}

/**
 * encodeFlowRecords' records as views of writers reused by the next call (the exporter copies
 * them into its message at once): no allocation per record.
 */
export function encodeFlowRecordViews(f: ClassifiedFlow): DirectionRecord[] {
  const client = parseAddress(f.client.ip);
  const server = parseAddress(f.server.ip);
  if (client === null || server === null) return [];
  // A relayed connection (portsniff proxy) has no packet or octet counts for an IPFIX record.
  if (f.packets === null || f.bytes === null) return [];
  const ipVersion: 4 | 6 = client[0] === 4 ? 4 : 6;
  const start = msOf(f.first);
  const end = msOf(f.last);
  const proto = protocolNumber(f.transport);
  const endReason = FLOW_END_REASON[f.end] ?? 4;
  const service = recordServiceKey(f);
  const product = f.service?.product ?? (f.verdict === undefined ? 'unclassified' : f.ambiguous ? 'ambiguous' : 'unknown');
  const verdict = f.verdict ?? 'unclassified';
  const exposure = f.exposure?.status ?? 'none';
  const protocol = f.evidence?.['protocol'] ?? '';
  const out: DirectionRecord[] = [];
  for (let d = 0; d < 2; d++) {
    const fromClient = d === 0;
    const packets = fromClient ? f.packets.toServer : f.packets.toClient;
    if (packets === 0) continue;
    const w = directionWriters[d]!;
    w.reset();
    w.u64(start);
    w.u64(end);
    address(w, ipVersion, fromClient ? client : server);
    address(w, ipVersion, fromClient ? server : client);
    w.u16(fromClient ? f.client.port : f.server.port);
    w.u16(fromClient ? f.server.port : f.client.port);
    w.u8(proto);
    w.u8(ipVersion);
    w.u16(f.transport === 'tcp' ? tcpBitsFromHistory(f.history ?? '', fromClient) : 0);
    w.u64(packets);
    // Frame bytes: the same numbers as --flows (docs/ipfix.md says why in octetDeltaCount too).
    const bytes = fromClient ? f.bytes.toServer : f.bytes.toClient;
    w.u64(bytes);
    w.u64(bytes);
    w.u16(f.vlan?.[0] ?? 0);
    w.u16(f.vlan?.[1] ?? 0);
    w.u8(fromClient ? 1 : 2); // biflowDirection: initiator / reverseInitiator
    w.u8(endReason);
    w.u64(f.id);
    w.u8(f.continued ? 1 : 0);
    w.varString(service);
    w.varString(product);
    w.varString(verdict);
    w.varString(exposure);
    w.varString(protocol);
    out.push({ ipVersion, bytes: w.buf.subarray(0, w.length) });
  }
  return out;
}

function address(w: ByteWriter, v: 4 | 6, a: [number, number, number, number, number]): void {
  if (v === 4) w.u32(a[4]);
  else for (let i = 1; i <= 4; i++) w.u32(a[i]!);
}


/**
 * Builds messages from records, never larger than `maxBytes` (a record larger than that alone goes
 * out alone). Records of the same template share a Data Set.
 */
export class MessageBuilder {
  private readonly w = new ByteWriter();
  private records = 0;
  private setStart = -1;
  private setTemplate = -1;

  constructor(
    private readonly domain: number,
    private readonly maxBytes: number,
  ) {}

  get empty(): boolean {
    return this.w.length === 0;
  }

  /** Bytes the message would have if finished now. */
  get size(): number {
    return this.w.length;
  }

  /** Data records in the message being built. */
  get recordCount(): number {
    return this.records;
  }

  private begin(): void {
    if (this.w.length > 0) return;
    this.w.u16(IPFIX_VERSION);
    this.w.u16(0); // length, patched in finish()
    this.w.u32(0); // export time, patched in finish()
    this.w.u32(0); // sequence number, patched in finish()
    this.w.u32(this.domain);
  }

  /** Whether `extra` more bytes (plus a set header when a new set starts) still fit. */
  fits(extra: number, templateId: number | null): boolean {
    const header = this.w.length === 0 ? MESSAGE_HEADER_BYTES : 0;
    const set = templateId === null || templateId !== this.setTemplate ? SET_HEADER_BYTES : 0;
    return this.w.length + header + set + extra <= this.maxBytes;
  }

  addTemplates(enterprise: number): void {
    this.begin();
    this.closeSet();
    encodeTemplateSet(this.w, enterprise);
  }

  addRecord(r: DirectionRecord): void {
    this.begin();
    const templateId = r.ipVersion === 4 ? TEMPLATE_ID_IPV4 : TEMPLATE_ID_IPV6;
    if (this.setTemplate !== templateId) {
      this.closeSet();
      this.setStart = this.w.length;
      this.setTemplate = templateId;
      this.w.u16(templateId);
      this.w.u16(0);
    }
    this.w.bytes(r.bytes);
    this.records++;
  }

  private closeSet(): void {
    if (this.setStart >= 0) this.w.setU16(this.setStart + 2, this.w.length - this.setStart);
    this.setStart = -1;
    this.setTemplate = -1;
  }

  /** The finished message; `sequence`: data records sent in earlier messages (mod 2^32). */
  finish(exportTimeSec: number, sequence: number): { bytes: Uint8Array; records: number } {
    this.closeSet();
    this.w.setU16(2, this.w.length);
    this.w.view.setUint32(4, exportTimeSec >>> 0);
    this.w.view.setUint32(8, sequence >>> 0);
    const out = { bytes: this.w.take(), records: this.records };
    this.w.reset();
    this.records = 0;
    return out;
  }
}
