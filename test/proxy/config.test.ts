import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProxyConfig, parseProxyConfig, ProxyConfigError } from '../../src/proxy/config.js';

const dir = mkdtempSync(join(tmpdir(), 'portsniff-proxy-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(text: string): string[] {
  try {
    parseProxyConfig('proxy.yaml', text);
  } catch (err) {
    expect(err).toBeInstanceOf(ProxyConfigError);
    return [...(err as ProxyConfigError).problems];
  }
  throw new Error('expected problems');
}

describe('proxy config file', () => {
  it('strings in the --map syntax, maps with per-listener settings, and the settings', () => {
    const c = parseProxyConfig(
      'p.yaml',
      [
        'maps:',
        '  - 16000-16001=db.internal:12000-12001',
        '  - listen: 0.0.0.0:26500',
        '    upstream: zeebe:26500',
        '    proxy_protocol_in: true',
        '    proxy_protocol_out: v2',
        '  - listen: 5300',
        '    upstream: 10.0.0.2:53',
        '    transport: udp',
        'connect_timeout: 2.5',
        'idle_timeout: 60',
        'linger: 5',
        'udp_idle_timeout: 10',
        'max_connections: 100',
        '',
      ].join('\n'),
    );
    expect(c.settings).toEqual({ connectTimeout: 2.5, idleTimeout: 60, linger: 5, udpIdleTimeout: 10, maxConnections: 100 });
    expect(c.mappings.map((m) => [m.transport, m.listenHost, m.listenPort, m.upstreamHost, m.upstreamPort, m.proxyProtocolIn, m.proxyProtocolOut, m.origin])).toEqual([
      ['tcp', '127.0.0.1', 16000, 'db.internal', 12000, false, null, 'p.yaml:2:5'],
      ['tcp', '127.0.0.1', 16001, 'db.internal', 12001, false, null, 'p.yaml:2:5'],
      ['tcp', '0.0.0.0', 26500, 'zeebe', 26500, true, 'v2', 'p.yaml:3:5'],
      ['udp', '127.0.0.1', 5300, '10.0.0.2', 53, false, null, 'p.yaml:7:5'],
    ]);
  });

  it('every problem, each as file:line:col', () => {
    expect(
      problems(
        [
          'maps:',
          '  - 16000=db', // line 2: no port
          '  - listen: 16001', // line 3: no upstream
          '  - listen: 16002',
          '    upstream: db:1',
          '    proxy_protocol_out: v3', // line 6
          '    colour: blue', // line 7
          'idle_timeout: -1', // line 8
          'max_connections: 1.5',
          'lingr: 3',
          '',
        ].join('\n'),
      ),
    ).toEqual([
      "proxy.yaml:2:5: the upstream 'db' needs a port, e.g. db:6379 (expected [tcp:|udp:][LISTEN_ADDR:]PORT[-PORT]=UPSTREAM_HOST:PORT[-PORT], e.g. 16000=db.internal:12000)",
      "proxy.yaml:3:5: a mapping needs 'upstream'",
      "proxy.yaml:6:25: 'proxy_protocol_out' must be v1, v2 or none",
      "proxy.yaml:7:5: unknown key 'colour' (known: listen, upstream, transport, proxy_protocol_in, proxy_protocol_out)",
      "proxy.yaml:8:15: 'idle_timeout' must be a number of seconds greater than 0",
      "proxy.yaml:9:18: 'max_connections' must be a whole number from 1 to 1000000",
      'proxy.yaml:10:1: unknown key \'lingr\' (known: maps, connect_timeout, idle_timeout, linger, udp_idle_timeout, max_connections)',
    ]);
  });

  it('YAML syntax errors and a missing maps key', () => {
    expect(problems('maps: [\n')[0]).toMatch(/^proxy\.yaml:\d+:\d+: YAML: /);
    expect(problems('idle_timeout: 3\n')).toEqual(["proxy.yaml:1:1: missing required key 'maps'"]);
    expect(problems('- 1\n')).toEqual(['proxy.yaml:1:1: the proxy config must be a map with keys maps, connect_timeout, idle_timeout, linger, udp_idle_timeout, max_connections']);
    expect(problems('maps: []\n')).toEqual(["proxy.yaml:1:7: 'maps' must be a non-empty list of mappings"]);
  });

  it('a file that cannot be read is a usage error naming it', () => {
    expect(() => loadProxyConfig(join(dir, 'nope.yaml'))).toThrow(/--config .*nope\.yaml: no such file/);
    const p = join(dir, 'ok.yaml');
    writeFileSync(p, 'maps: ["0=127.0.0.1:1"]\n');
    expect(loadProxyConfig(p).mappings[0]!.origin).toBe(`${p}:1:8`);
  });
});
