import { describe, expect, it } from 'vitest';
import { DecodeStatus, FragmentKind, MAX_IPV6_EXT_HEADERS } from '../../src/decode/types.js';
import { Anomaly } from '../../src/util/anomaly.js';
import { ipv6Udp } from '../../fixtures/gen/packet-builder.js';
import { corpusFile, readCaptureFile } from './capture-files.js';
import { addrs, decode, expected, hex, patch } from './helpers.js';

const ETHERNET = 1;
const LINKTYPE_IPV6 = 229;

// IP6 (hlim 64, next-header Options (0) payload length: 54) 2001:db8::1 > 2001:db8::2: HBH (padn)
// RT6 (len=0, type=0 [Deprecated], segleft=0, rsv=0x0) frag (0x00000007:0|30) DSTOPT (padn)
// AH(length=1(12-bytes),spi=0x00000000,seq=0x0,icv=0x): 12345 > 54321: UDP, length 2
const EXT_CHAIN = hex(`
  02000000000202000000000186dd
  600000000036004020010db800000000000000000000000120010db8000000000000000000000002
  2b00010400000000
  2c00000000000000
  3c00000000000007
  3300010400000000
  110100000000000000000000
  3039d431000a308f
  6f6b`);

const V6 = addrs('2001:db8::1', '2001:db8::2');

describe('IPv6', () => {
  it('walks Hop-by-Hop, Routing, atomic Fragment, Destination Options and AH to UDP', () => {
    expect(decode(EXT_CHAIN, ETHERNET)).toEqual(expected({
      ...V6,
      etherType: 0x86dd, l3Offset: 14, ipLength: 94, ipProto: 17, l4Offset: 98,
      hasPorts: true, srcPort: 12345, dstPort: 54321,
      payloadOffset: 106, payloadCaptured: 2, payloadLength: 2,
    }));
  });

  it('decodes the transport header of a first fragment', () => {
    // IP6 (hlim 64, next-header Fragment (44) payload length: 32) 2001:db8::1 > 2001:db8::2:
    // frag (0xdeadbeef:0|24) 40000 > 53: UDP, length 40
    const f = hex(`
      02000000000202000000000186dd
      6000000000202c4020010db800000000000000000000000120010db8000000000000000000000002
      11000001deadbeef
      9c40003500308a26
      79797979797979797979797979797979`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      ...V6,
      etherType: 0x86dd, l3Offset: 14, ipLength: 72, ipProto: 17, l4Offset: 62,
      fragment: FragmentKind.First, fragId: 0xdeadbeef | 0,
      hasPorts: true, srcPort: 40000, dstPort: 53,
      payloadOffset: 70, payloadCaptured: 16, payloadLength: 16, // the fragment's own data
    }));
  });

  it('stops at the Fragment header of a later fragment', () => {
    // IP6 (hlim 64, next-header Fragment (44) payload length: 32) 2001:db8::1 > 2001:db8::2: frag (0xdeadbeef:24|24)
    const f = hex(`
      02000000000202000000000186dd
      6000000000202c4020010db800000000000000000000000120010db8000000000000000000000002
      11000018deadbeef
      797979797979797979797979797979797979797979797979`);
    expect(decode(f, ETHERNET)).toEqual(expected({
      ...V6,
      etherType: 0x86dd, l3Offset: 14, ipLength: 72, ipProto: 17, l4Offset: 62,
      fragment: FragmentKind.Later, fragId: 0xdeadbeef | 0, fragOffset: 24,
      payloadOffset: 62, payloadCaptured: 24, payloadLength: 24,
    }));
  });

  it('ESP and No Next Header end the chain: Ok without ports, unknown_ip_protocol', () => {
    // IP6 2001:db8::1 > 2001:db8::2: ESP(spi=0x00001000,seq=0x1), length 16
    const esp = hex(`
      600000000010324020010db800000000000000000000000120010db8000000000000000000000002
      0000100000000001 0000000000000000`);
    expect(decode(esp, LINKTYPE_IPV6)).toEqual(expected({
      ...V6, anomaly: Anomaly.unknown_ip_protocol,
      etherType: 0x86dd, ipLength: 56, ipProto: 50, l4Offset: 40,
      payloadOffset: 40, payloadCaptured: 16, payloadLength: 16,
    }));
    // IP6 2001:db8::1 > 2001:db8::2: no next header
    const none = hex('6000000000003b4020010db800000000000000000000000120010db8000000000000000000000002');
    expect(decode(none, LINKTYPE_IPV6)).toEqual(expected({
      ...V6, anomaly: Anomaly.unknown_ip_protocol,
      etherType: 0x86dd, ipLength: 40, ipProto: 59, l4Offset: 40, payloadOffset: 40,
    }));
  });

  it(`accepts ${MAX_IPV6_EXT_HEADERS} extension headers and rejects one more`, () => {
    const udp = { src: '2001:db8::1', dst: '2001:db8::2', sport: 1, dport: 2 };
    const ok = decode(ipv6Udp({ ...udp, ext: new Array(MAX_IPV6_EXT_HEADERS).fill({ type: 60 }) }), ETHERNET);
    expect([ok.status, ok.anomaly, ok.srcPort, ok.l4Offset]).toEqual([DecodeStatus.Ok, 0, 1, 54 + 8 * MAX_IPV6_EXT_HEADERS]);
    const tooLong = ipv6Udp({ ...udp, ext: new Array(MAX_IPV6_EXT_HEADERS + 1).fill({ type: 60 }) });
    expect(decode(tooLong, ETHERNET)).toEqual(expected({
      status: DecodeStatus.Malformed, anomaly: Anomaly.ipv6_ext_header_chain_too_long, etherType: 0x86dd, l3Offset: 14,
    }));
  });

  it('an extension header cut by the capture is Truncated; one beyond the payload length is Malformed', () => {
    expect(decode(EXT_CHAIN.subarray(0, 14 + 40 + 8 + 1), ETHERNET, { origLen: EXT_CHAIN.length })).toEqual(expected({
      status: DecodeStatus.Truncated, anomaly: Anomaly.truncated_ipv6_ext_header, truncated: true,
      etherType: 0x86dd, l3Offset: 14,
    }));
    // payload length 10: Hop-by-Hop fits, the Routing header (8 bytes at 8) does not
    expect(decode(patch(EXT_CHAIN, 18, 0, 10), ETHERNET)).toEqual(expected({
      status: DecodeStatus.Malformed, anomaly: Anomaly.truncated_ipv6_ext_header, etherType: 0x86dd, l3Offset: 14,
    }));
    // payload length 9: not even the Routing header's first two bytes
    expect(decode(patch(EXT_CHAIN, 18, 0, 9), ETHERNET).anomaly).toBe(Anomaly.truncated_ipv6_ext_header);
  });

  it('rejects a cut fixed header and a wrong version', () => {
    expect(decode(EXT_CHAIN.subarray(0, 50), ETHERNET, { origLen: 108 })).toEqual(expected({
      status: DecodeStatus.Truncated, anomaly: Anomaly.truncated_ipv6_header, truncated: true, etherType: 0x86dd, l3Offset: 14,
    }));
    expect(decode(patch(EXT_CHAIN, 14, 0x40), ETHERNET)).toEqual(expected({
      status: DecodeStatus.Malformed, anomaly: Anomaly.ipv6_bad_version, etherType: 0x86dd, l3Offset: 14,
    }));
  });

  it('payload length beyond a complete frame: ipv6_payload_len_gt_captured, decoding goes on (as tshark)', () => {
    const d = decode(patch(EXT_CHAIN, 18, 0, 200), ETHERNET);
    expect([d.status, d.anomaly, d.ipLength, d.srcPort, d.payloadCaptured]).toEqual([
      DecodeStatus.Ok, Anomaly.ipv6_payload_len_gt_captured, 240, 12345, 2,
    ]);
  });

  it('payload length 0 with extension headers (jumbogram / offload) fills the frame', () => {
    const d = decode(patch(EXT_CHAIN, 18, 0, 0), ETHERNET);
    expect([d.status, d.anomaly, d.ipLength, d.srcPort, d.payloadLength]).toEqual([DecodeStatus.Ok, 0, 94, 12345, 2]);
  });
});

const EXT_FILE = 'libpcap__ipv6_ext_headers.pcap';
const extPath = corpusFile(EXT_FILE);

describe.skipIf(extPath === null)(`corpus ${EXT_FILE}`, () => {
  it('decodes the 100-header chain (HBH + 33 x [Routing, atomic Fragment, DestOpts]) to UDP 12345 -> 54321 like tshark', () => {
    const frames = readCaptureFile(extPath!);
    expect(frames).toHaveLength(1);
    const fr = frames[0]!;
    const d = decode(fr.data.subarray(fr.offset, fr.offset + fr.capLen), fr.linkType);
    expect(d).toEqual(expected({
      ...V6,
      etherType: 0x86dd, l3Offset: 14, ipLength: 40 + 818, ipProto: 17, l4Offset: 14 + 40 + 100 * 8,
      hasPorts: true, srcPort: 12345, dstPort: 54321,
      payloadOffset: 862, payloadCaptured: 10, payloadLength: 10,
    }));
  });
});
