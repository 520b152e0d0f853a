/** The filter bar's language: fields, negation, lists, CIDR; invalid input explains itself, never throws. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EMPTY_FILTER, matchesFilter, parseFilter, type Filter, type FilterSubject } from '../../../src/ui/view-model/filter.js';
import { parseCidr, parseIp, inCidr } from '../../../src/ui/view-model/address.js';

function f(text: string): Filter {
  const p = parseFilter(text);
  if (!p.ok) throw new Error(p.error);
  return p.filter;
}

function error(text: string): string {
  const p = parseFilter(text);
  if (p.ok) throw new Error(`'${text}' parsed`);
  return p.error;
}

const redisFlow: FilterSubject = {
  products: ['redis-enterprise'],
  services: ['redis-enterprise.web-ui', 'management web UI'],
  ports: [[51234, 51234], [8443, 8443]],
  clients: ['10.0.0.5'],
  servers: ['10.1.0.12'],
  sni: ['cluster.example.com'],
  tunnels: [{ type: 'vxlan', id: 1 }, { type: 'geneve', id: 16 }],
  text: ['encrypted', 'S1'],
};

const zeebeFlow: FilterSubject = {
  products: ['zeebe'],
  services: ['zeebe.gateway-grpc', 'gateway'],
  ports: [[40000, 40000], [26500, 26500]],
  clients: ['2001:db8::7'],
  servers: ['fd00::5'],
  sni: [],
  tunnels: [],
  text: ['verified'],
};

const both = (flt: string) => [matchesFilter(f(flt), redisFlow), matchesFilter(f(flt), zeebeFlow)];

describe('parseFilter + matchesFilter', () => {
  it('empty filter matches everything', () => {
    expect(parseFilter('   ')).toEqual({ ok: true, filter: EMPTY_FILTER });
    expect(matchesFilter(EMPTY_FILTER, redisFlow)).toBe(true);
  });

  it('product:, service:, sni: are case-insensitive substrings', () => {
    expect(both('product:redis')).toEqual([true, false]);
    expect(both('product:ZEEBE')).toEqual([false, true]);
    expect(both('service:web-ui')).toEqual([true, false]);
    expect(both('service:gateway')).toEqual([false, true]);
    expect(both('sni:example')).toEqual([true, false]);
  });

  it('port: single ports, ranges, lists', () => {
    expect(both('port:8443')).toEqual([true, false]);
    expect(both('port:26000-27000')).toEqual([false, true]);
    expect(both('port:6379,26500')).toEqual([false, true]);
    expect(both('port:1-65535')).toEqual([true, true]);
  });

  it('src:/dst:/addr: exact, textual prefix, CIDR, IPv6 forms', () => {
    expect(both('src:10.0.0.5')).toEqual([true, false]);
    expect(both('src:10.0.0.50')).toEqual([false, false]);
    expect(both('src:10.0.')).toEqual([true, false]);
    expect(both('dst:10.1.0.12')).toEqual([true, false]);
    expect(both('src:10.1.0.12')).toEqual([false, false]);
    expect(both('addr:10.1.0.12')).toEqual([true, false]);
    expect(both('addr:10.0.0.0/8')).toEqual([true, false]);
    expect(both('addr:fd00::/8')).toEqual([false, true]);
    expect(both('src:2001:db8:0:0:0:0:0:7')).toEqual([false, true]);
    expect(both('client:2001:db8::/32')).toEqual([false, true]);
    expect(both('ip:fd00::5')).toEqual([false, true]);
  });

  it('free text matches anything the row shows', () => {
    expect(both('encrypted')).toEqual([true, false]);
    expect(both('example.com')).toEqual([true, false]);
    expect(both('10.1.0')).toEqual([true, false]);
  });

  it('! and - negate; terms are ANDed', () => {
    expect(both('!product:redis')).toEqual([false, true]);
    expect(both('-product:redis')).toEqual([false, true]);
    expect(both('!encrypted')).toEqual([false, true]);
    expect(both('product:redis port:8443')).toEqual([true, false]);
    expect(both('product:redis !port:8443')).toEqual([false, false]);
    expect(both('-port:26500 -port:8443')).toEqual([false, false]);
  });

  it('invalid input says why', () => {
    expect(error('port:abc')).toBe("port: 'abc' is not a port (0-65535, or LO-HI)");
    expect(error('port:70000')).toContain('is not a port');
    expect(error('port:9000-8000')).toBe("port: range '9000-8000' ends before it starts");
    expect(error('prodcut:redis')).toMatch(/^unknown field 'prodcut:' \(fields: product: service: port: src: dst: addr: sni: tunnel:\)$/);
    expect(error('port:')).toBe("'port:' needs a value");
    expect(error('!')).toBe("'!' needs a term after it");
    expect(error('port:1,,2')).toContain('empty value');
    expect(error('src:zz.1')).toContain('is not an address');
    expect(error('addr:10.0.0.0/33')).toBe("addr: prefix length must be 0-32, got '33'");
    expect(error('addr:10.0.0/8')).toBe("addr: '10.0.0' is not an IPv4 or IPv6 address");
  });

  it('tunnel: a type, type:id, any; negated, it keeps rows outside that tunnel', () => {
    expect(both('tunnel:vxlan')).toEqual([true, false]);
    expect(both('tunnel:vxlan:1')).toEqual([true, false]);
    expect(both('tunnel:vxlan:2')).toEqual([false, false]);
    expect(both('tunnel:geneve:16')).toEqual([true, false]);
    expect(both('tunnel:ip-in-ip,geneve')).toEqual([true, false]);
    expect(both('TUNNEL:VXLAN')).toEqual([true, false]);
    expect(both('tunnel:any')).toEqual([true, false]);
    expect(both('!tunnel:any')).toEqual([false, true]);
    expect(both('-tunnel:vxlan:1')).toEqual([false, true]);
    // A header without an id (IP-in-IP) matches its type only.
    const ipip: FilterSubject = { ...zeebeFlow, tunnels: [{ type: 'ip-in-ip', id: null }] };
    expect(matchesFilter(f('tunnel:ip-in-ip'), ipip)).toBe(true);
    expect(matchesFilter(f('tunnel:ip-in-ip:0'), ipip)).toBe(false);
    expect(error('tunnel:vxlna')).toBe("tunnel: 'vxlna' is not a tunnel type (vxlan, vxlan-gpe, geneve, gre, erspan, ip-in-ip, mpls, pppoe, teredo, gtp-u, any), optionally with :id");
    expect(error('tunnel:vxlan:x')).toContain('is not a tunnel type');
    expect(error('tunnel:any:3')).toBe("tunnel: 'any:3' cannot have an id");
    expect(error('tunnel:gre:4294967296')).toBe("tunnel: 'gre:4294967296' has an id above 4294967295");
  });

  it('an IPv6 address typed as free text is not mistaken for a field', () => {
    expect(parseFilter('fe80::1').ok).toBe(true);
    expect(parseFilter('2001:db8::7').ok).toBe(true);
  });

  it('property: any input parses or explains, and matching never throws', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (text) => {
        const p = parseFilter(text);
        if (p.ok) {
          matchesFilter(p.filter, redisFlow);
          matchesFilter(p.filter, zeebeFlow);
        } else {
          expect(p.error.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.constantFrom('product:', 'port:', 'src:', 'dst:', 'addr:', 'sni:', 'tunnel:', '!', '-', ''), fc.string({ unit: fc.constantFrom(...'0123456789abcdef.:/-,!'.split('')), maxLength: 30 }), (field, value) => {
        const p = parseFilter(field + value);
        if (p.ok) matchesFilter(p.filter, zeebeFlow);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('addresses', () => {
  it('parses IPv4, IPv6 (compressed, embedded IPv4, zone) and rejects junk', () => {
    expect([...parseIp('192.168.1.2')!]).toEqual([192, 168, 1, 2]);
    expect(parseIp('256.1.1.1')).toBeNull();
    expect(parseIp('1.2.3')).toBeNull();
    expect([...parseIp('::1')!]).toEqual([...new Array(15).fill(0), 1]);
    expect([...parseIp('::ffff:1.2.3.4')!].slice(10)).toEqual([255, 255, 1, 2, 3, 4]);
    expect(parseIp('fe80::1%eth0')).not.toBeNull();
    expect(parseIp('1::2::3')).toBeNull();
    expect(parseIp('1:2:3:4:5:6:7:8:9')).toBeNull();
    expect(parseIp('12345::')).toBeNull();
  });

  it('CIDR membership', () => {
    const c = parseCidr('10.128.0.0/9');
    if (typeof c === 'string') throw new Error(c);
    expect(inCidr(parseIp('10.200.1.1')!, c)).toBe(true);
    expect(inCidr(parseIp('10.100.1.1')!, c)).toBe(false);
    expect(inCidr(parseIp('::1')!, c)).toBe(false);
    const all = parseCidr('0.0.0.0/0');
    if (typeof all === 'string') throw new Error(all);
    expect(inCidr(parseIp('8.8.8.8')!, all)).toBe(true);
  });
});
