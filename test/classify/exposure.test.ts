import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addressClass, checkExposure, inCidrs, parseCidrList, type ExposureClient } from '../../src/classify/exposure.js';
import { parseAddress } from '../../src/flow/key.js';
import { UsageError } from '../../src/errors.js';
import { EXPOSURES } from '../../src/rules/types.js';

const cls = (ip: string) => {
  const a = parseAddress(ip)!;
  return addressClass(a[0], a[1], a[2], a[3], a[4]);
};
const inList = (list: string, ip: string) => {
  const a = parseAddress(ip)!;
  return inCidrs(parseCidrList(list), a[0], a[1], a[2], a[3], a[4]);
};

describe('addressClass', () => {
  it.each([
    ['127.0.0.1', 'loopback'], ['127.255.1.2', 'loopback'], ['::1', 'loopback'], ['::ffff:127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'], ['10.255.255.255', 'private'], ['172.16.0.1', 'private'], ['172.31.255.1', 'private'],
    ['192.168.1.1', 'private'], ['100.64.0.1', 'private'], ['100.127.255.254', 'private'], ['fd00::1', 'private'],
    ['fc00::1', 'private'], ['::ffff:10.1.2.3', 'private'],
    ['169.254.1.1', 'link-local'], ['fe80::1', 'link-local'], ['febf::1', 'link-local'],
    ['172.15.255.255', 'public'], ['172.32.0.1', 'public'], ['192.169.0.1', 'public'], ['100.63.255.255', 'public'],
    ['100.128.0.0', 'public'], ['11.0.0.1', 'public'], ['203.0.113.7', 'public'], ['8.8.8.8', 'public'],
    ['2001:db8::1', 'public'], ['fec0::1', 'public'], ['::2', 'public'], ['::ffff:8.8.8.8', 'public'],
  ])('%s is %s', (ip, want) => {
    expect(cls(ip)).toBe(want);
  });
});

describe('--monitoring-hosts lists', () => {
  it('prefixes and hosts, IPv4 and IPv6, commas and spaces', () => {
    const list = '10.90.0.0/24, 192.0.2.7 fd00:5::/64';
    expect(inList(list, '10.90.0.9')).toBe(true);
    expect(inList(list, '10.90.1.9')).toBe(false);
    expect(inList(list, '192.0.2.7')).toBe(true);
    expect(inList(list, '192.0.2.8')).toBe(false);
    expect(inList(list, 'fd00:5::1234')).toBe(true);
    expect(inList(list, 'fd00:5:0:1::1')).toBe(false);
    // An IPv4 prefix never matches an IPv6 address with the same low bits, nor the reverse.
    expect(inList('0.0.0.0/0', '::1')).toBe(false);
    expect(inList('::/0', '10.0.0.1')).toBe(false);
    expect(inList('0.0.0.0/0', '203.0.113.7')).toBe(true);
  });

  it('host bits beyond the prefix are ignored, like a network address', () => {
    expect(inList('10.90.0.77/24', '10.90.0.1')).toBe(true);
    expect(inList('fd00:5::99/120', 'fd00:5::1')).toBe(true);
  });

  it('property: a /n prefix of an address contains exactly the addresses that share its first n bits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (a, b, n) => {
        const ip = (x: number) => `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
        const same = n === 0 || a >>> (32 - n) === b >>> (32 - n);
        expect(inList(`${ip(a)}/${n}`, ip(b))).toBe(same);
      }),
    );
  });

  it.each([
    ['', 'give at least one address'],
    ['10.0.0.0/33', "'10.0.0.0/33' has a prefix length outside 0-32"],
    ['fd00::/129', "'fd00::/129' has a prefix length outside 0-128"],
    ['10.0.0.0/x', "'10.0.0.0/x' has a prefix length"],
    ['monitoring.example.com', "'monitoring.example.com' is not an IPv4 or IPv6 address or prefix"],
    ['10.0.0.256', "'10.0.0.256' is not an IPv4 or IPv6 address"],
  ])('%j is a usage error naming the item', (text, msg) => {
    expect(() => parseCidrList(text)).toThrow(UsageError);
    expect(() => parseCidrList(text)).toThrow(msg);
  });
});

describe('checkExposure', () => {
  const client = (c: ExposureClient['client'], monitoringHost: boolean | null = null): ExposureClient => ({ client: c, monitoringHost });

  it('internal: private, link-local and loopback clients are fine, public ones are not', () => {
    for (const c of ['private', 'link-local', 'loopback'] as const) expect(checkExposure(['internal'], client(c)).status).toBe('ok');
    expect(checkExposure(['internal'], client('public'))).toEqual({ status: 'violation', client: 'public', monitoringHost: null, allowed: ['internal'] });
  });

  it('public, external and active-active accept anyone', () => {
    for (const e of ['public', 'external', 'active-active'] as const) expect(checkExposure([e], client('public')).status).toBe('ok');
  });

  it('localhost: only loopback', () => {
    expect(checkExposure(['localhost'], client('loopback')).status).toBe('ok');
    expect(checkExposure(['localhost'], client('private')).status).toBe('violation');
  });

  it('monitoring-only: decided by --monitoring-hosts, unchecked without it; loopback is always fine', () => {
    expect(checkExposure(['monitoring-only'], client('private', null)).status).toBe('unchecked');
    expect(checkExposure(['monitoring-only'], client('public', null)).status).toBe('unchecked');
    expect(checkExposure(['monitoring-only'], client('private', true)).status).toBe('ok');
    expect(checkExposure(['monitoring-only'], client('private', false)).status).toBe('violation');
    expect(checkExposure(['monitoring-only'], client('loopback', false)).status).toBe('ok');
  });

  it('several classes: any that allows the client wins; unchecked beats violation', () => {
    expect(checkExposure(['internal', 'external'], client('public')).status).toBe('ok');
    expect(checkExposure(['internal', 'monitoring-only'], client('public', null)).status).toBe('unchecked');
    expect(checkExposure(['internal', 'monitoring-only'], client('public', false)).status).toBe('violation');
    expect(checkExposure(['monitoring-only', 'internal'], client('private', false)).status).toBe('ok');
  });

  it('allowed is listed in the vocabulary order, whatever the rule order', () => {
    expect(checkExposure(['monitoring-only', 'internal', 'external'], client('private')).allowed).toEqual(['external', 'internal', 'monitoring-only']);
    expect(EXPOSURES.indexOf('external')).toBeLessThan(EXPOSURES.indexOf('internal'));
  });
});
