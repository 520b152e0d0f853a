import { describe, expect, it } from 'vitest';
import { checkMappings, DEFAULT_LISTEN_HOST, formatHostPort, isLoopback, parseListenUpstream, parseMapping } from '../../src/proxy/mapping.js';
import { UsageError } from '../../src/errors.js';

const one = (text: string) => {
  const m = parseMapping(text, `--map ${text}`);
  expect(m).toHaveLength(1);
  return m[0]!;
};

describe('parseMapping', () => {
  it('PORT=HOST:PORT listens on 127.0.0.1 (any other bind is explicit)', () => {
    expect(one('16379=db.internal:12000')).toEqual({
      transport: 'tcp',
      listenHost: DEFAULT_LISTEN_HOST,
      listenPort: 16379,
      upstreamHost: 'db.internal',
      upstreamPort: 12000,
      proxyProtocolIn: false,
      proxyProtocolOut: null,
      origin: '--map 16379=db.internal:12000',
    });
    expect(DEFAULT_LISTEN_HOST).toBe('127.0.0.1');
  });

  it('listen addresses: IPv4, [IPv6], localhost, all interfaces', () => {
    expect(one('0.0.0.0:9977=gloo:9977').listenHost).toBe('0.0.0.0');
    expect(one('[::1]:9977=gloo:9977').listenHost).toBe('::1');
    expect(one('[::]:9977=[fd00::5]:9977')).toMatchObject({ listenHost: '::', upstreamHost: 'fd00::5' });
    expect(one('localhost:9977=gloo:9977').listenHost).toBe('127.0.0.1');
  });

  it('transport prefix', () => {
    expect(one('udp:5300=10.0.0.2:53')).toMatchObject({ transport: 'udp', listenPort: 5300, upstreamPort: 53 });
    expect(one('TCP:127.0.0.2:5300=h:53')).toMatchObject({ transport: 'tcp', listenHost: '127.0.0.2' });
  });

  it('ranges map one to one', () => {
    const m = parseMapping('16000-16010=db:12000-12010', 'x');
    expect(m).toHaveLength(11);
    expect(m.map((x) => [x.listenPort, x.upstreamPort])).toEqual(Array.from({ length: 11 }, (_, i) => [16000 + i, 12000 + i]));
  });

  it('listen port 0 means any free port', () => {
    expect(one('0=127.0.0.1:6379').listenPort).toBe(0);
  });

  it('settings are applied to every port; PROXY protocol is TCP only', () => {
    const m = parseMapping('16000-16001=db:12000-12001', 'x', { proxyProtocolIn: true, proxyProtocolOut: 'v2' });
    expect(m.every((x) => x.proxyProtocolIn && x.proxyProtocolOut === 'v2')).toBe(true);
    expect(() => parseMapping('udp:53=h:53', 'x', { proxyProtocolIn: true })).toThrow(/PROXY protocol is for TCP/);
  });

  it.each([
    ['16000', /exactly one '='/],
    ['1=2=3', /exactly one '='/],
    ['16000=12000', /needs a host/],
    ['16000-16010=db:12000-12005', /16000-16010 has 11 ports but 12000-12005 has 6: ranges map one to one/],
    ['16010-16000=db:1-11', /ends before it starts/],
    ['70000=db:1', /above 65535/],
    ['16000=db:0', /upstream port 0/],
    ['0-5=db:1-6', /port 0 .* cannot be part of a range/],
    ['db:16000=db:1', /'db' is not an IP address/],
    ['::1:16000=db:1', /brackets/],
    ['16000=::1:6379', /brackets/],
    ['16000=[db]:1', /not an IPv6 address/],
    ['16000=db:abc', /'abc' is not a port/],
    ['16000=d b:1', /not a host name/],
    ['1-2000=db:1-2000', /more than 1024 listeners/],
  ])('%s is a usage error naming the problem', (text, re) => {
    try {
      parseMapping(text, `--map ${text}`);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message.startsWith(`--map ${text}: `)).toBe(true);
    }
  });

  it('--listen/--upstream is the one-mapping form', () => {
    expect(parseListenUpstream('26500', 'zeebe:26500')[0]).toMatchObject({ listenHost: '127.0.0.1', listenPort: 26500, upstreamHost: 'zeebe', origin: '--listen 26500 --upstream zeebe:26500' });
  });
});

describe('checkMappings', () => {
  it('rejects the same listener twice, names both', () => {
    const a = parseMapping('16000=a:1', '--map 16000=a:1');
    const b = parseMapping('127.0.0.1:16000=b:2', '--map 127.0.0.1:16000=b:2');
    expect(() => checkMappings([...a, ...b])).toThrow('--map 127.0.0.1:16000=b:2: tcp 127.0.0.1:16000 is already mapped by --map 16000=a:1');
    // Different transport or address: fine. Port 0 never clashes.
    checkMappings([...a, ...parseMapping('udp:16000=a:1', 'u'), ...parseMapping('127.0.0.2:16000=a:1', 'v')]);
    checkMappings([...parseMapping('0=a:1', 'p'), ...parseMapping('0=a:2', 'q')]);
  });

  it('needs at least one mapping', () => {
    expect(() => checkMappings([])).toThrow(/give at least one mapping/);
  });
});

describe('helpers', () => {
  it('formatHostPort and isLoopback', () => {
    expect(formatHostPort('::1', 5)).toBe('[::1]:5');
    expect(formatHostPort('db', 5)).toBe('db:5');
    expect([isLoopback('127.0.0.1'), isLoopback('127.1.2.3'), isLoopback('::1'), isLoopback('0.0.0.0'), isLoopback('10.0.0.1')]).toEqual([true, true, true, false, false]);
  });
});
