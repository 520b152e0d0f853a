import { describe, expect, it } from 'vitest';
import { IpProto, ipProtoByName, ipProtoName, isIcmpProto } from '../../src/util/ip-proto.js';

describe('IP protocol numbers', () => {
  it('are the IANA numbers', () => {
    // IANA "Assigned Internet Protocol Numbers".
    expect(IpProto).toEqual({ ICMP: 1, IPIP: 4, TCP: 6, UDP: 17, IPV6: 41, GRE: 47, ICMPV6: 58, SCTP: 132, MPLS_IN_IP: 137 });
  });

  it('names and numbers round-trip; unknown protocols keep their number', () => {
    for (const [name, n] of [['tcp', 6], ['udp', 17], ['sctp', 132], ['icmp', 1], ['icmpv6', 58]] as const) {
      expect(ipProtoName(n)).toBe(name);
      expect(ipProtoByName(name)).toBe(n);
    }
    expect(ipProtoName(47)).toBe('ip-proto-47');
    expect(ipProtoByName('ip-proto-47')).toBe(47);
    expect(ipProtoByName('gre')).toBeNull();
    expect(ipProtoByName('ip-proto-256')).toBeNull();
    expect(ipProtoByName('ip-proto-')).toBeNull();
  });

  it('ICMP and ICMPv6 are the portless transports', () => {
    expect([1, 6, 17, 58, 132].filter(isIcmpProto)).toEqual([1, 58]);
  });
});
