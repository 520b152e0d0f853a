/** `portsniff proxy` option handling: PROXY flags per listener, config file vs command line, startup lines. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeListeners, parseProxyCommand } from '../../../src/cli/commands/proxy.js';

const dir = mkdtempSync(join(tmpdir(), 'portsniff-proxy-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DEFAULTS = { connectTimeout: 5, idleTimeout: 300, linger: 30, udpIdleTimeout: 30, maxConnections: 4096, top: 20, refresh: 4 };

describe('parseProxyCommand', () => {
  it('--proxy-protocol-in with no value: every command-line TCP listener; with ports: only those', () => {
    const all = parseProxyCommand({ ...DEFAULTS, map: ['16000=a:1', '16001=a:2', 'udp:16002=a:3'], proxyProtocolIn: true, proxyProtocolOut: 'v2' }, () => false);
    expect(all.mappings.map((m) => [m.listenPort, m.proxyProtocolIn, m.proxyProtocolOut])).toEqual([
      [16000, true, 'v2'],
      [16001, true, 'v2'],
      [16002, false, null],
    ]);
    const some = parseProxyCommand({ ...DEFAULTS, map: ['16000-16003=a:1-4'], proxyProtocolIn: '16001,16003' }, () => false);
    expect(some.mappings.map((m) => m.proxyProtocolIn)).toEqual([false, true, false, true]);
    expect(() => parseProxyCommand({ ...DEFAULTS, map: ['udp:16000=a:1'], proxyProtocolIn: '16000' }, () => false)).toThrow(/no command-line TCP listener on port 16000/);
  });

  it('config file settings apply unless the option was given on the command line', () => {
    const path = join(dir, 'p.yaml');
    writeFileSync(path, 'maps: ["16100=a:1"]\nidle_timeout: 60\nlinger: 9\nmax_connections: 10\n');
    const fromFile = parseProxyCommand({ ...DEFAULTS, config: path }, () => false);
    expect([fromFile.idleTimeout, fromFile.linger, fromFile.maxConnections, fromFile.connectTimeout]).toEqual([60, 9, 10, 5]);
    const cliWins = parseProxyCommand({ ...DEFAULTS, config: path, idleTimeout: 7 }, (name) => name === 'idleTimeout');
    expect(cliWins.idleTimeout).toBe(7);
    // File mappings join the command line's; a clash names both places.
    expect(() => parseProxyCommand({ ...DEFAULTS, config: path, map: ['16100=b:2'] }, () => false)).toThrow(`${path}:1:8: tcp 127.0.0.1:16100 is already mapped by --map 16100=b:2`);
  });

  it('startup lines say which binds other hosts can reach', () => {
    const l = (ip: string, extra: Partial<Parameters<typeof describeListeners>[0][number]> = {}) => ({
      transport: 'tcp' as const,
      listen: { ip, port: 1 },
      upstream: { host: 'db', port: 2 },
      proxyProtocolIn: false,
      proxyProtocolOut: null,
      ...extra,
    });
    expect(describeListeners([l('127.0.0.1'), l('0.0.0.0', { proxyProtocolIn: true }), l('10.1.2.3', { proxyProtocolOut: 'v1' }), l('::1')])).toEqual([
      'portsniff: proxy tcp 127.0.0.1:1 -> db:2',
      'portsniff: proxy tcp 0.0.0.0:1 -> db:2 (PROXY protocol in, ALL interfaces: reachable from other hosts)',
      'portsniff: proxy tcp 10.1.2.3:1 -> db:2 (PROXY protocol v1 out, not loopback: reachable from other hosts)',
      'portsniff: proxy tcp [::1]:1 -> db:2',
    ]);
    expect(describeListeners(Array.from({ length: 20 }, () => l('127.0.0.1'))).at(-1)).toBe('portsniff: ... and 4 more listeners');
  });
});
