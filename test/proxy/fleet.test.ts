/**
 * Metrics, alerts and --fail-on work in proxy mode through the same session consumers as capture
 * mode: HTTP sent through the proxy to an upstream on a documented Redis Enterprise database port is
 * a mismatch alert, /metrics counts the relayed flow and its payload, and --fail-on mismatch exits 3.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileRules } from '../../src/rules/compile.js';
import { defaultRulesDir, loadRuleDirs } from '../../src/rules/load.js';
import { freePortIn, readFlows, startCli } from './cli-helpers.js';
import { connect, until } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'portsniff-proxy-fleet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const shipped = compileRules(loadRuleDirs([defaultRulesDir()]));
const dbEndpoint = (port: number): boolean => {
  const best = shipped.group(shipped.lookup(6, port)).best;
  return best.length === 1 && best[0]!.id === 'redis-enterprise.database-endpoints';
};

describe('proxy with --metrics, --alerts and --fail-on', () => {
  it('a mismatch through the proxy is an alert, a metric and exit 3', async () => {
    const port = await freePortIn(10000, 20000, dbEndpoint);
    // Like redis-server answering HTTP: it closes without a RESP reply.
    const upstream = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => {});
      s.resume();
      s.on('end', () => s.end());
    });
    await new Promise<void>((r) => upstream.listen(port, '127.0.0.1', r));
    const alertsPath = join(dir, 'alerts.ndjson');
    const flowsPath = join(dir, 'flows.ndjson');
    const p = await startCli(['--map', `0=127.0.0.1:${port}`, '--metrics', '127.0.0.1:0', '--alerts', alertsPath, '--fail-on', 'mismatch', '--flows', flowsPath, '--json']);
    try {
      await until(() => /metrics at http:\/\/127\.0\.0\.1:\d+\/metrics/.test(p.stderr()), 'the metrics line');
      const url = /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(p.stderr())![1]!;
      const c = await connect(p.ports[0]!);
      c.socket.end('GET /metrics HTTP/1.1\r\nHost: db\r\n\r\n');
      await c.received;
      // The metrics follow the session's flows: poll until the flow is in.
      let text = '';
      for (let i = 0; i < 40 && !/verdict="mismatch"/.test(text); i++) {
        text = await (await fetch(url)).text();
        if (!/verdict="mismatch"/.test(text)) await new Promise((r) => setTimeout(r, 100));
      }
      expect(text).toMatch(/portsniff_flow_records_total\{service="redis-enterprise\.database-endpoints",[^}]*verdict="mismatch"[^}]*\} 1/);
      expect(text).toMatch(/portsniff_flow_payload_bytes_total\{service="redis-enterprise\.database-endpoints",[^}]*direction="to_server"\} 35/);
      expect(text).not.toMatch(/portsniff_flow_packets_total\{service="redis-enterprise/);
    } finally {
      const exit = await p.stop('SIGTERM');
      upstream.close();
      expect(exit.code).toBe(3);
      expect(exit.stderr).toMatch(/--fail-on: .*mismatch/);
    }
    const alerts = readFileSync(alertsPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(alerts.some((a) => a['kind'] === 'mismatch' && a['service'] === 'redis-enterprise.database-endpoints')).toBe(true);
    expect(readFlows(flowsPath)[0]).toMatchObject({ verdict: 'mismatch', source: 'proxy' });
  });
});
