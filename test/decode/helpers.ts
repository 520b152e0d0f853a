/** Shared helpers for the decoder tests. */
import { PacketDecoder } from '../../src/decode/decoder.js';
import { expect } from 'vitest';
import { DecodedPacket, DecodeStatus, TUNNEL_WORDS } from '../../src/decode/types.js';
import type { DecapOptions } from '../../src/decode/decap-options.js';
import { OuterKind, TF_HAS_ID, TF_OUTER_SHIFT, TW_DST, TW_FLAGS, TW_ID, TW_SRC, TW_TYPE, tunnelTypeName } from '../../src/decode/tunnel.js';
import { formatAddress } from '../../src/flow/key.js';
import { ANOMALY_NAMES } from '../../src/util/anomaly.js';
import { addressWords, fromHex } from '../../fixtures/gen/packet-builder.js';

/** Hex with whitespace/newlines between layers (as in the tests' frame literals). */
export function hex(s: string): Uint8Array {
  return fromHex(s);
}

/**
 * All data fields of a DecodedPacket (no methods), except the tunnel stack (a reused array, compared
 * with tunnelEntries()) and ethOffset (where the level's Ethernet header is, for the stack's MACs).
 */
export type Fields = Omit<{ [K in keyof DecodedPacket as DecodedPacket[K] extends () => void ? never : K]: DecodedPacket[K] }, 'tunnels' | 'ethOffset'>;

/** A plain copy of every field, for whole-record equality. */
export function fields(p: DecodedPacket): Fields {
  const { tunnels: _stack, ethOffset: _eth, ...rest } = p;
  return { ...rest } as Fields;
}

/** Every field at its reset value. */
export const EMPTY: Fields = fields(new DecodedPacket());

/** The expected record: every field at its reset value except `o`. */
export function expected(o: Partial<Fields>): Fields {
  return { ...EMPTY, ...o };
}

/** Address words as the decoder holds them: int32 (decode/types.ts). */
function words(text: string): number[] {
  return addressWords(text).map((w) => w | 0);
}

/** Address fields for src/dst (IPv4 dotted or IPv6 text), with ipVersion. */
export function addrs(src: string, dst: string): Partial<Fields> {
  const s = words(src);
  const d = words(dst);
  return {
    ipVersion: src.includes(':') ? 6 : 4,
    src0: s[0], src1: s[1], src2: s[2], src3: s[3],
    dst0: d[0], dst1: d[1], dst2: d[2], dst3: d[3],
  };
}

/** Quoted-packet address fields (ICMP errors). */
export function quotedAddrs(src: string, dst: string): Partial<Fields> {
  const s = words(src);
  const d = words(dst);
  return {
    quotedSrc0: s[0], quotedSrc1: s[1], quotedSrc2: s[2], quotedSrc3: s[3],
    quotedDst0: d[0], quotedDst1: d[1], quotedDst2: d[2], quotedDst3: d[3],
  };
}

export interface DecodeOptions {
  capLen?: number;
  origLen?: number;
  /** Place the frame at this offset in a larger buffer filled with 0xee around it. */
  offset?: number;
}

const shared = new PacketDecoder();

/** Decodes `frame` (whole, unless capLen/origLen say otherwise) and returns a copy of the fields. */
export function decode(frame: Uint8Array, linkType: number, o: DecodeOptions = {}): Fields {
  const capLen = o.capLen ?? frame.length;
  const origLen = o.origLen ?? frame.length;
  const offset = o.offset ?? 0;
  let buf = frame;
  if (offset !== 0) {
    buf = new Uint8Array(offset + frame.length + 64).fill(0xee);
    buf.set(frame, offset);
  }
  return fields(shared.decode(buf, offset, capLen, origLen, linkType));
}

/** A copy of `b` with bytes from `at` replaced by `values`. */
export function patch(b: Uint8Array, at: number, ...values: number[]): Uint8Array {
  const c = Uint8Array.from(b);
  c.set(values, at);
  return c;
}

/**
 * A Uint8Array stand-in that records every index read, to prove the decoder stays inside
 * [offset, offset + capLen). Reads through a Proxy are slow; use on single frames only.
 */
export function recordingBuffer(b: Uint8Array): { buf: Uint8Array; reads: number[] } {
  const reads: number[] = [];
  const buf = new Proxy(b, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^-?\d+$/.test(key)) reads.push(Number(key));
      const v: unknown = Reflect.get(target, key, receiver === buf ? target : receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { buf, reads };
}

/** Invariants every decode result must satisfy, whatever the bytes. */
export function checkInvariants(p: DecodedPacket, offset: number, capLen: number): void {
  const end = offset + capLen;
  expect(p.status).toBeGreaterThanOrEqual(0);
  expect(p.status).toBeLessThanOrEqual(3);
  expect(p.anomaly).toBeGreaterThanOrEqual(0);
  expect(p.anomaly).toBeLessThan(ANOMALY_NAMES.length);
  expect(p.payloadCaptured).toBeGreaterThanOrEqual(0);
  expect(p.payloadOffset + p.payloadCaptured).toBeLessThanOrEqual(Math.max(end, 0));
  if (p.payloadCaptured > 0) expect(p.payloadOffset).toBeGreaterThanOrEqual(offset);
  if (p.status !== DecodeStatus.Ok) {
    expect(p.anomaly).not.toBe(0);
    expect(p.hasPorts).toBe(false);
    expect(p.payloadCaptured).toBe(0);
  }
  if (p.hasPorts) expect(p.status).toBe(DecodeStatus.Ok);
}

/** One encapsulation entry as tests compare it: type name, id (null when absent), outer "src > dst". */
export interface StackEntry {
  type: string;
  id: number | null;
  outer: string | null;
}

function mac(hi: number, lo: number): string {
  const b = [hi >>> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** The packet's encapsulation stack, outermost first. */
export function stackOf(p: DecodedPacket): StackEntry[] {
  const out: StackEntry[] = [];
  for (let d = 0; d < p.tunnelDepth; d++) {
    const w = Array.from(p.tunnels.subarray(d * TUNNEL_WORDS, (d + 1) * TUNNEL_WORDS));
    const [type, flags, id] = [w[TW_TYPE]!, w[TW_FLAGS]!, w[TW_ID]!];
    const kind = flags >>> TF_OUTER_SHIFT;
    const s = w.slice(TW_SRC, TW_SRC + 4) as [number, number, number, number];
    const t = w.slice(TW_DST, TW_DST + 4) as [number, number, number, number];
    const outer = kind === OuterKind.Mac ? `${mac(s[0], s[1])} > ${mac(t[0], t[1])}`
      : kind === OuterKind.Ipv4 || kind === OuterKind.Ipv6 ? `${formatAddress(kind, ...s)} > ${formatAddress(kind, ...t)}` : null;
    out.push({ type: tunnelTypeName(type), id: (flags & TF_HAS_ID) !== 0 ? id : null, outer });
  }
  return out;
}

export type Level = Fields & { stack: StackEntry[] };

/** Every level of a frame (decode(), then next() until null), each as a copy with its stack. */
export function decodeLevels(frame: Uint8Array, linkType: number, o: DecodeOptions & { decap?: DecapOptions } = {}): Level[] {
  const dec = o.decap ? new PacketDecoder(o.decap) : shared;
  const capLen = o.capLen ?? frame.length;
  const origLen = o.origLen ?? frame.length;
  const out: Level[] = [];
  for (let p: DecodedPacket | null = dec.decode(frame, 0, capLen, origLen, linkType); p !== null; p = dec.next()) {
    checkInvariants(p, 0, capLen);
    out.push({ ...fields(p), stack: stackOf(p) });
  }
  return out;
}
