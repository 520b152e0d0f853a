/**
 * Live loopback captures: the same real clients and servers that made data/samples.json are run
 * again, and their fresh bytes must be recognised the same way. A group whose tools are missing is
 * skipped with a warning naming them (the committed samples still cover it in the other tests).
 */
import { describe, expect, it } from 'vitest';
import { recognizePayload } from '../../../src/classify/recognize/index.js';
import { captureDns, captureGrpc, captureHttp1, captureHttp2, captureResp, captureTls, haveTool, type Sample } from './data/capture.js';

const groups: [string, string[], () => Promise<Sample[]>, (name: string) => string][] = [
  ['grpc-js client and server', [], captureGrpc, (n) => (n.endsWith('-server') ? 'grpc' : n.includes('xds') ? 'grpc:envoy-xds' : n.includes('zeebe') ? 'grpc:zeebe-gateway' : 'grpc')],
  ['node http2 and curl h2c', [], captureHttp2, () => 'http2'],
  ['curl against node http', ['curl'], captureHttp1, (n) => (n.includes('metrics-server') ? 'prometheus-text' : 'http1')],
  ['openssl s_client / node tls', ['openssl'], captureTls, () => 'tls'],
  ['redis-cli against redis-server', ['redis-server', 'redis-cli'], captureResp, () => 'resp'],
  ['c-ares queries', [], captureDns, () => 'dns'],
];

for (const [title, tools, capture, expectedTag] of groups) {
  const missing = tools.filter((t) => !haveTool(t));
  if (missing.length > 0) console.warn(`live.test.ts: skipping "${title}": not installed: ${missing.join(', ')}`);
  describe.skipIf(missing.length > 0)(`live: ${title}`, () => {
    it('fresh bytes are recognised', async () => {
      const got = await capture();
      expect(got.length).toBeGreaterThan(0);
      for (const s of got) {
        const b = new Uint8Array(Buffer.from(s.hex, 'hex'));
        expect(b.length, `${s.name}: nothing captured`).toBeGreaterThan(0);
        const e = recognizePayload(b, 0, b.length, s.direction, s.transport, s.serverPort);
        expect(e?.tags, s.name).toContain(expectedTag(s.name));
      }
    });
  });
}
