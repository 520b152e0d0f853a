import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { DecodeStatus, FragmentKind } from '../../src/decode/types.js';
import { IpProto } from '../../src/util/ip-proto.js';
import { Anomaly, ANOMALY_NAMES, type AnomalyName } from '../../src/util/anomaly.js';
import * as B from '../../fixtures/gen/packet-builder.js';
import { CORPUS_DIR, corpusFile, readCaptureFile, TUNNEL_CORPUS_DIR } from './capture-files.js';
import { TEST_FRAMES } from './frames.js';
import { TUNNEL_REJECTIONS } from './tunnel-rejections.js';
import { checkInvariants, decode, decodeLevels, fields, hex, patch, recordingBuffer, type Fields } from './helpers.js';

/** The same record with its buffer offsets moved by `by` (the frame's position in the buffer). */
function shifted(f: Fields, by: number): Fields {
  const c = { ...f };
  if (c.l3Offset !== 0 || c.etherType !== 0) c.l3Offset += by;
  if (c.ipVersion !== 0) c.l4Offset += by;
  if (c.ipVersion !== 0 && c.status === DecodeStatus.Ok) c.payloadOffset += by;
  return c;
}

describe('PacketDecoder', () => {
  it('decodes every test frame at offset 0 without an anomaly (GRE/ESP/ARP aside)', () => {
    for (const t of TEST_FRAMES) {
      const d = decode(t.frame, t.linkType);
      if (t.name === 'arp') expect(d.status, t.name).toBe(DecodeStatus.NotIp);
      else if (t.name === 'esp v6') expect([d.status, d.anomaly]).toEqual([DecodeStatus.Ok, Anomaly.unknown_ip_protocol]);
      else expect([t.name, d.status, d.anomaly]).toEqual([t.name, DecodeStatus.Ok, 0]);
    }
  });

  it('every prefix of every test frame (origLen = full length) is Truncated or a consistent partial decode', () => {
    const dec = new PacketDecoder();
    for (const t of TEST_FRAMES) {
      const full = decode(t.frame, t.linkType);
      for (let cap = 0; cap <= t.frame.length; cap++) {
        const p = dec.decode(t.frame, 0, cap, t.frame.length, t.linkType);
        checkInvariants(p, 0, cap);
        if (cap === t.frame.length) {
          expect(fields(p), t.name).toEqual(full);
          continue;
        }
        expect(p.truncated).toBe(true);
        const ok = p.status === DecodeStatus.Ok || (full.status === DecodeStatus.NotIp && p.status === DecodeStatus.NotIp);
        if (!ok) {
          expect([t.name, cap, p.status]).toEqual([t.name, cap, DecodeStatus.Truncated]);
          continue;
        }
        // An Ok partial decode agrees with the full one on everything that identifies the flow.
        expect([p.ipVersion, p.src3, p.dst0, p.ipProto, p.fragment, p.vlanOuter, p.vlanInner]).toEqual(
          [full.ipVersion, full.src3, full.dst0, full.ipProto, full.fragment, full.vlanOuter, full.vlanInner]);
        if (full.hasPorts && full.status === DecodeStatus.Ok) {
          expect([t.name, p.hasPorts, p.srcPort, p.dstPort, p.tcpFlags]).toEqual([t.name, true, full.srcPort, full.dstPort, full.tcpFlags]);
          expect(p.payloadLength).toBe(full.payloadLength);
        }
      }
    }
  });

  it('decodes a frame inside a larger buffer at any offset identically (offsets shifted)', () => {
    for (const t of TEST_FRAMES) {
      const base = decode(t.frame, t.linkType);
      for (const off of [1, 7, 4096]) {
        const d = decode(t.frame, t.linkType, { offset: off });
        expect(d, `${t.name} @${off}`).toEqual(shifted(base, off));
      }
    }
  });

  it('never reads outside [offset, offset + capLen)', () => {
    const dec = new PacketDecoder();
    for (const t of TEST_FRAMES) {
      const off = 5;
      const big = new Uint8Array(off + t.frame.length + 16).fill(0xff);
      big.set(t.frame, off);
      for (const cap of [t.frame.length, t.frame.length >> 1, 3]) {
        const { buf, reads } = recordingBuffer(big);
        dec.decode(buf, off, cap, t.frame.length, t.linkType);
        const bad = reads.filter((i) => i < off || i >= off + cap);
        expect([t.name, cap, bad]).toEqual([t.name, cap, []]);
      }
    }
  });

  it('clamps capLen to the buffer (a caller bug cannot read past it)', () => {
    const t = TEST_FRAMES[0]!;
    const { buf, reads } = recordingBuffer(t.frame);
    const p = new PacketDecoder().decode(buf, 0, t.frame.length + 100, t.frame.length + 100, t.linkType);
    expect(p.status).toBe(DecodeStatus.Ok);
    expect(reads.every((i) => i < t.frame.length)).toBe(true);
  });

  it('reuses one output record and resets it completely', () => {
    const dec = new PacketDecoder();
    const good = TEST_FRAMES.find((t) => t.name === 'icmp error')!;
    const first = dec.decode(good.frame, 0, good.frame.length, good.frame.length, good.linkType);
    const snapshot = fields(first);
    const again = dec.decode(hex('0806'), 0, 2, 2, 1);
    expect(again).toBe(first);
    expect(again.quotedValid).toBe(false);
    expect(fields(dec.decode(good.frame, 0, good.frame.length, good.frame.length, good.linkType))).toEqual(snapshot);
  });
});

// ---------------------------------------------------------------------------------------------
// One rejection per check branch: every anomaly code the decoder sources name.

const eth4 = B.ipv4Udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, payload: 'abcd' });
const raw4 = eth4.subarray(14);
const raw6 = B.ipv6Udp({ src: '::1', dst: '::2', sport: 1, dport: 2, payload: 'abcd', link: 'raw' });
const tcp4 = B.ipv4Tcp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, link: 'raw' });
const wlan = B.ipv4Udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, link: 'ieee80211' });
const pktapHdr = B.ipv4Udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, link: 'pktap' });

interface Rejection {
  anomaly: AnomalyName;
  status: number;
  frame: Uint8Array;
  linkType: number;
  /** Captured bytes (default all); origLen is always the frame length. */
  capLen?: number;
}

const { Ok, Truncated, Malformed, NotIp } = DecodeStatus;

const REJECTIONS: Rejection[] = [
  { anomaly: 'unsupported_link_type', status: NotIp, frame: eth4, linkType: 9 },
  { anomaly: 'truncated_link_header', status: Truncated, frame: raw4, linkType: 101, capLen: 0 },
  { anomaly: 'truncated_ethernet_header', status: Truncated, frame: eth4, linkType: 1, capLen: 13 },
  { anomaly: 'truncated_vlan_header', status: Malformed, frame: hex('020000000002020000000001 8100 000a 08'), linkType: 1 },
  { anomaly: 'vlan_depth_exceeded', status: NotIp, frame: B.ipv4Udp({ src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 2, vlan: [1, 2, 3] }), linkType: 1 },
  { anomaly: 'truncated_sll_header', status: Malformed, frame: hex('0000000100060200000000010000'), linkType: 113 },
  { anomaly: 'truncated_sll2_header', status: Malformed, frame: hex('0800000000000002000100060200000000010000'.slice(0, 30)), linkType: 276 },
  { anomaly: 'truncated_null_header', status: Malformed, frame: hex('020000'), linkType: 0 },
  { anomaly: 'unknown_null_family', status: NotIp, frame: hex('07000000 00'), linkType: 0 },
  { anomaly: 'truncated_radiotap_header', status: Malformed, frame: hex('00002000 00000000 0000'), linkType: 127 },
  { anomaly: 'radiotap_bad_header', status: Malformed, frame: hex('01000800 00000000'), linkType: 127 },
  { anomaly: 'truncated_ieee80211_header', status: Malformed, frame: wlan.subarray(0, 23), linkType: 105 },
  { anomaly: 'ieee80211_non_data_frame', status: NotIp, frame: patch(wlan, 0, 0x80), linkType: 105 },
  { anomaly: 'ieee80211_protected_frame', status: NotIp, frame: patch(wlan, 1, 0x41), linkType: 105 },
  { anomaly: 'truncated_pktap_header', status: Truncated, frame: pktapHdr, linkType: 258, capLen: 100 },
  { anomaly: 'pktap_bad_header', status: Malformed, frame: patch(pktapHdr, 0, 8), linkType: 258 },
  { anomaly: 'non_ip_ethertype', status: NotIp, frame: patch(eth4, 12, 0x08, 0x06), linkType: 1 },
  { anomaly: 'raw_ip_bad_version', status: Malformed, frame: patch(raw4, 0, 0x35), linkType: 101 },
  { anomaly: 'truncated_ipv4_header', status: Truncated, frame: raw4, linkType: 228, capLen: 19 },
  { anomaly: 'ipv4_bad_version', status: Malformed, frame: patch(raw4, 0, 0x65), linkType: 228 },
  { anomaly: 'ipv4_ihl_too_small', status: Malformed, frame: patch(raw4, 0, 0x44), linkType: 228 },
  { anomaly: 'ipv4_ihl_gt_total_len', status: Malformed, frame: patch(raw4, 0, 0x47, 0, 0, 24), linkType: 228 },
  { anomaly: 'ipv4_total_len_too_small', status: Malformed, frame: patch(raw4, 2, 0, 16), linkType: 228 },
  { anomaly: 'ipv4_total_len_gt_captured', status: Ok, frame: patch(raw4, 2, 0, 200), linkType: 228 },
  { anomaly: 'truncated_ipv6_header', status: Truncated, frame: raw6, linkType: 229, capLen: 39 },
  { anomaly: 'ipv6_bad_version', status: Malformed, frame: patch(raw6, 0, 0x40), linkType: 229 },
  { anomaly: 'ipv6_payload_len_gt_captured', status: Ok, frame: patch(raw6, 4, 1, 0), linkType: 229 },
  { anomaly: 'truncated_ipv6_ext_header', status: Malformed, frame: patch(raw6, 6, 0), linkType: 229 },
  {
    anomaly: 'ipv6_ext_header_chain_too_long', status: Malformed, linkType: 229,
    frame: B.ipv6Udp({ src: '::1', dst: '::2', sport: 1, dport: 2, link: 'raw', ext: new Array(200).fill({ type: 60 }) }),
  },
  { anomaly: 'ip_fragment_too_small_for_ports', status: Malformed, frame: patch(raw4.subarray(0, 22), 2, 0, 22, 0, 1, 0x20, 0), linkType: 228 },
  { anomaly: 'truncated_tcp_header', status: Truncated, frame: tcp4, linkType: 228, capLen: 39 },
  { anomaly: 'tcp_data_offset_too_small', status: Malformed, frame: patch(tcp4, 32, 0x40), linkType: 228 },
  { anomaly: 'tcp_data_offset_gt_segment', status: Malformed, frame: patch(tcp4, 32, 0x60), linkType: 228 },
  { anomaly: 'truncated_udp_header', status: Malformed, frame: patch(raw4.subarray(0, 27), 2, 0, 27), linkType: 228 },
  { anomaly: 'udp_length_too_small', status: Malformed, frame: patch(raw4, 24, 0, 7), linkType: 228 },
  { anomaly: 'udp_length_gt_ip_payload', status: Ok, frame: patch(raw4, 24, 0, 13), linkType: 228 },
  { anomaly: 'truncated_sctp_header', status: Truncated, frame: B.ipv4Sctp({ src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 2, link: 'raw' }), linkType: 228, capLen: 31 },
  { anomaly: 'truncated_icmp_header', status: Truncated, frame: B.ipv4IcmpEcho({ src: '1.1.1.1', dst: '2.2.2.2', ident: 1, link: 'raw' }), linkType: 228, capLen: 27 },
  { anomaly: 'truncated_icmpv6_header', status: Truncated, frame: B.ipv6IcmpEcho({ src: '::1', dst: '::2', ident: 1, link: 'raw' }), linkType: 229, capLen: 47 },
  { anomaly: 'unknown_ip_protocol', status: Ok, frame: patch(raw4, 9, 50), linkType: 228 },
  ...TUNNEL_REJECTIONS,
];

describe('rejections: one per check branch', () => {
  it.each(REJECTIONS.map((r) => [r.anomaly, r] as const))('%s', (_name, r) => {
    // The first level with an anomaly (a tunnel's own packet, or one inside it), else the last.
    const levels = decodeLevels(r.frame, r.linkType, { capLen: r.capLen ?? r.frame.length, origLen: r.frame.length });
    const p = levels.find((l) => l.anomaly !== 0) ?? levels.at(-1)!;
    expect([p.status, ANOMALY_NAMES[p.anomaly]]).toEqual([r.status, r.anomaly]);
    if (r.status !== Ok) expect(p.hasPorts).toBe(false);
  });

  it('covers every anomaly code named in src/decode', () => {
    const dir = new URL('../../src/decode/', import.meta.url);
    const used = new Set<string>();
    for (const file of readdirSync(dir)) {
      for (const m of readFileSync(new URL(file, dir), 'utf8').matchAll(/Anomaly\.([a-z0-9_]+)/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(30);
    const tested = new Set(REJECTIONS.map((r) => r.anomaly));
    expect([...used].filter((u) => !tested.has(u as AnomalyName)).sort()).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The shared corpora: decode every frame, every level, and compare the TCP/UDP/SCTP 5-tuples with
// tshark's conversation tables (IP reassembly off: first fragments count, later ones do not; a
// tunnelled frame counts in every conversation it contains, as in tshark).

interface RefRow { proto: string; a: string; a_port: number; b: string; b_port: number; frames: number }
interface Ref {
  conv: { flows_5tuple: RefRow[] };
  conv_nodefrag: { same_as_conv: boolean; flows_5tuple?: RefRow[] };
}

const corpusPresent = corpusFile('README.md') !== null;
const PROTO_NAMES: Record<number, string> = { [IpProto.TCP]: 'tcp', [IpProto.UDP]: 'udp', [IpProto.SCTP]: 'sctp' };

/** Address words as the unsigned big-endian words they are (the decoder keeps them as int32). */
function endpoint(words: readonly number[], port: number): string {
  return `${words.map((w) => w >>> 0).join('.')}:${port}`;
}

function corpusCase(dir: string, file: string): void {
  const ref = JSON.parse(readFileSync(dir + file + '.ref.json', 'utf8')) as Ref;
  const dec = new PacketDecoder();
  const got = new Map<string, number>();
  for (const fr of readCaptureFile(dir + file)) {
    for (let p: ReturnType<PacketDecoder['next']> = dec.decode(fr.data, fr.offset, fr.capLen, fr.origLen, fr.linkType); p !== null; p = dec.next()) {
      checkInvariants(p, fr.offset, fr.capLen);
      const proto = PROTO_NAMES[p.ipProto];
      if (proto === undefined || !p.hasPorts || p.fragment === FragmentKind.Later) continue;
      const ends = [endpoint([p.src0, p.src1, p.src2, p.src3], p.srcPort), endpoint([p.dst0, p.dst1, p.dst2, p.dst3], p.dstPort)].sort();
      const key = `${proto} ${ends.join(' ')}`;
      got.set(key, (got.get(key) ?? 0) + 1);
    }
  }
  const rows = ref.conv_nodefrag.same_as_conv ? ref.conv.flows_5tuple : ref.conv_nodefrag.flows_5tuple ?? [];
  const want = new Map<string, number>();
  for (const r of rows) {
    const ends = [endpoint(B.addressWords(r.a), r.a_port), endpoint(B.addressWords(r.b), r.b_port)].sort();
    want.set(`${r.proto} ${ends.join(' ')}`, r.frames);
  }
  expect(Object.fromEntries([...got].sort())).toEqual(Object.fromEntries([...want].sort()));
}

function captures(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => !/\.(json|md|txt|js)$/.test(n)).sort() : [];
}

describe.skipIf(!corpusPresent)('corpus: flows agree with tshark', () => {
  it.each(captures(CORPUS_DIR))('%s', (file) => corpusCase(CORPUS_DIR, file));
});

describe.skipIf(!existsSync(TUNNEL_CORPUS_DIR))('tunnel corpus: inner and outer flows agree with tshark', () => {
  it.each(captures(TUNNEL_CORPUS_DIR))('%s', (file) => corpusCase(TUNNEL_CORPUS_DIR, file));
});
