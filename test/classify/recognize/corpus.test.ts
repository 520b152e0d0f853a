/**
 * The recognisers on real third-party captures from /work/shared/corpus (read in place, never
 * copied into the repo). Each file's suite is skipped, with a warning naming the path, when the
 * corpus is not on this machine.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { recognizePayload, type ProtocolEvidence } from '../../../src/classify/recognize/index.js';
import { walkCapture, type TcpFlow } from './pcap-walk.js';

const CORPUS = '/work/shared/corpus';

function corpus(file: string, body: (path: string) => void): void {
  const path = `${CORPUS}/${file}`;
  const present = existsSync(path);
  if (!present) console.warn(`corpus.test.ts: skipping ${file}: ${path} is absent`);
  describe.skipIf(!present)(`corpus: ${file}`, () => body(path));
}

const up = (f: TcpFlow): ProtocolEvidence | null => recognizePayload(f.toServer, 0, f.toServer.length, 0, 6, f.serverPort);
const down = (f: TcpFlow): ProtocolEvidence | null => recognizePayload(f.toClient, 0, f.toClient.length, 1, 6, f.serverPort);
const flows = (path: string): TcpFlow[] => walkCapture(path).tcp.filter((f) => f.toServer.length > 0 || f.toClient.length > 0);

corpus('packt__grpc-client-streaming.pcapng', (path) => {
  it('grpc-go client and server', () => {
    const [f] = flows(path);
    expect(up(f!)?.tags).toEqual(['http2', 'grpc']);
    expect(up(f!)?.detail).toMatchObject({ grpcPath: '/greet.GreetService/LongGreet', contentType: 'application/grpc' });
    expect(up(f!)?.detail['userAgent']).toMatch(/^grpc-go\//);
    expect(down(f!)?.tags).toEqual(['http2', 'grpc']);
  });
});

corpus('packt__grpc-server-streaming.pcapng', (path) => {
  it('grpc-go server streaming', () => {
    const [f] = flows(path);
    expect(up(f!)?.detail['grpcPath']).toBe('/greet.GreetService/GreetManyTimes');
    expect(down(f!)?.detail['httpStatus']).toBe('200');
  });
});

corpus('ndpi__http2.pcapng', (path) => {
  it('HTTP/2 (5G SBI, JSON): http2, not grpc', () => {
    const [f] = flows(path);
    expect(up(f!)?.tags).toEqual(['http2']);
    expect(up(f!)?.detail).toMatchObject({ httpMethod: 'POST', httpPath: '/namf-comm/v1/subscriptions', contentType: 'application/json' });
    expect(down(f!)?.detail['httpStatus']).toBe('201');
  });
});

corpus('suricata__http2-long-frame.pcap', (path) => {
  it('HTTP/2 on 8443', () => {
    const [f] = flows(path);
    expect(up(f!)?.detail).toMatchObject({ httpMethod: 'GET', httpPath: '/', authority: 'target.com' });
    expect(down(f!)?.tags).toEqual(['http2']);
  });
});

corpus('zeek__redis_set.pcap', (path) => {
  it('SET / +OK', () => {
    const [f] = flows(path);
    expect(up(f!)?.detail['respCommand']).toBe('SET');
    expect(down(f!)?.detail['respReply']).toBe('OK');
  });
});

corpus('zeek__redis_django-cloud.pcapng', (path) => {
  it('RESP on a 10000-19999 port', () => {
    const [f] = flows(path);
    expect(f!.serverPort).toBeGreaterThanOrEqual(10000);
    expect(up(f!)?.tags).toEqual(['resp']);
    expect(down(f!)?.tags).toEqual(['resp']);
  });
});

corpus('zeek__redis_pubsub-resp3.pcap', (path) => {
  it('HELLO 3 and a RESP3 map', () => {
    for (const f of flows(path)) {
      expect(up(f)?.detail['respCommand']).toBe('HELLO');
      expect(down(f)?.detail).toMatchObject({ respType: '%', respVersion: '3' });
    }
  });
});

corpus('zeek__redis-50-pings.pcap', (path) => {
  it('AUTH first', () => {
    const [f] = flows(path);
    expect(up(f!)?.detail['respCommand']).toBe('AUTH');
    expect(down(f!)?.tags).toEqual(['resp']);
  });
});

corpus('tcpdump__resp_1_benchmark.pcap', (path) => {
  it('every redis-benchmark connection, both directions, one inline PING', () => {
    const fs = flows(path);
    expect(fs.length).toBeGreaterThan(10);
    for (const f of fs) {
      expect(up(f)?.tags).toEqual(['resp']);
      if (f.toClient.length > 0) expect(down(f)?.tags).toEqual(['resp']);
    }
    expect(fs.filter((f) => up(f)?.detail['respType'] === 'inline').map((f) => up(f)?.detail['respCommand'])).toEqual(['PING']);
  });
});

corpus('ndpi__resp.pcap', (path) => {
  it('COMMAND and an array reply', () => {
    const [f] = flows(path);
    expect(up(f!)?.detail['respCommand']).toBe('COMMAND');
    expect(down(f!)?.detail['respType']).toBe('*');
  });
});

corpus('suricata__tls-duplicate-hello.pcap', (path) => {
  it('TLS 1.3 with SNI localhost on 8443', () => {
    const f = flows(path).find((x) => x.serverPort === 8443)!;
    expect(up(f)?.detail).toMatchObject({ tlsHandshake: 'client_hello', sni: 'localhost', tlsVersion: '1.3' });
    expect(down(f)?.detail).toMatchObject({ tlsHandshake: 'server_hello', tlsVersion: '1.3' });
  });
});

corpus('zeek__tls_chrome-kyber.pcap', (path) => {
  it('a ClientHello larger than 512 bytes: tls, cut', () => {
    const [f] = flows(path);
    expect(f!.toServer.length).toBe(512);
    expect(up(f!)?.tags).toEqual(['tls']);
    expect(up(f!)?.detail['note']).toMatch(/cut/);
    expect(down(f!)?.detail['tlsHandshake']).toBe('server_hello');
  });
});

corpus('zeek__tls_certificate-request-failed.pcap', (path) => {
  it('TLS without SNI', () => {
    const [f] = flows(path);
    expect(up(f!)?.tags).toEqual(['tls']);
    expect(up(f!)?.detail['sni']).toBeUndefined();
  });
});

corpus('ndpi__dnscrypt-v2-doh.pcap', (path) => {
  it('every DoH connection is TLS with an SNI', () => {
    const fs = flows(path).filter((f) => f.toServer.length > 0);
    expect(fs.length).toBeGreaterThan(20);
    for (const f of fs) {
      expect(up(f)?.tags).toEqual(['tls']);
      expect(up(f)?.detail['sni']).toMatch(/\./);
    }
  });
});

corpus('chrissanders__dns_tcp.pcapng', (path) => {
  it('DNS over TCP and UDP, query and response', () => {
    const { tcp, udp } = walkCapture(path);
    expect(up(tcp[0]!)?.detail).toMatchObject({ dnsQr: 'query', dnsQname: 'ripe.net', dnsQtype: 'ANY' });
    expect(down(tcp[0]!)?.detail).toMatchObject({ dnsQr: 'response', dnsQname: 'ripe.net' });
    for (const d of udp) expect(recognizePayload(d.payload, 0, d.payload.length, d.dstPort === 53 ? 0 : 1, 17, 53)?.tags).toEqual(['dns']);
  });
});

corpus('zeek__dns_mdns.pcap', (path) => {
  it('every datagram is mDNS', () => {
    const { udp } = walkCapture(path);
    expect(udp.length).toBeGreaterThan(10);
    for (const d of udp) expect(recognizePayload(d.payload, 0, d.payload.length, 0, 17, 5353)?.protocol).toBe('mdns');
  });
});

corpus('zeek__http_basic-auth-with-colon.pcap', (path) => {
  it('HTTP/1.1 request and response', () => {
    const [f] = flows(path);
    expect(up(f!)?.detail).toMatchObject({ httpMethod: 'GET', httpPath: '/' });
    expect(down(f!)?.detail['httpStatus']).toBe('200');
  });
});

corpus('chrissanders__http_ip4and6.pcapng', (path) => {
  it('HTTP over IPv4 and IPv6', () => {
    for (const f of flows(path)) {
      expect(up(f)?.tags).toEqual(['http1']);
      expect(down(f)?.tags).toEqual(['http1']);
    }
  });
});

corpus('ndpi__kafka.pcapng', (path) => {
  it('Kafka is none of our protocols', () => {
    for (const f of flows(path)) {
      expect(up(f)).toBeNull();
      expect(down(f)).toBeNull();
    }
  });
});

corpus('zeek__quic_chromium-api-cirrus-com.pcap', (path) => {
  it('QUIC datagrams are not DNS', () => {
    for (const d of walkCapture(path).udp) expect(recognizePayload(d.payload, 0, d.payload.length, 0, 17, 443)).toBeNull();
  });
});
