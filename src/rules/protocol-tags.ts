/**
 * The vocabulary shared by rules and payload recognisers.
 *
 * A rule lists the protocol tags its port is documented to speak (`protocols:` in YAML). A
 * recogniser that identifies payload bytes returns evidence carrying a set of tags, from the
 * general to the specific (e.g. `http2`, `grpc`, `grpc:envoy-xds`). A flow is `verified` when the
 * evidence holds one of the rule's tags; `mismatch` when the evidence positively names a protocol
 * the rule does not list; TLS where the rule does not promise plaintext is `encrypted`.
 */
export const PROTOCOL_TAGS = {
  http1: 'HTTP/1.x request or response',
  'http1:rest-xds': 'Envoy REST xDS: POST /v3/discovery:<type>',
  'http1:prometheus-scrape': 'GET /metrics (Prometheus scrape)',
  'http1:health': 'GET /ready, /health, /healthz, /-/ready and similar health probes',
  'http1:prometheus-api': 'Prometheus HTTP API /api/v1/...',
  'http1:grafana-api': 'Grafana HTTP API /api/... and UI',
  'prometheus-text': 'Prometheus text exposition format in a response body',
  http2: 'HTTP/2 (client connection preface or frames)',
  grpc: 'gRPC over HTTP/2 (content-type application/grpc or a /pkg.Service/Method path)',
  'grpc:envoy-xds': 'Envoy xDS discovery services (/envoy.service.*.v3.*DiscoveryService/...)',
  'grpc:zeebe-gateway': 'Zeebe gateway API (/gateway_protocol.Gateway/...)',
  tls: 'TLS record layer with a handshake (ClientHello / ServerHello)',
  resp: 'Redis serialization protocol (RESP2/RESP3)',
  dns: 'DNS message',
  mdns: 'Multicast DNS message',
  'zeebe-sbe': 'Zeebe Command API: SBE messages inside the cluster messaging transport',
  'zeebe-atomix': 'Zeebe internal API: Atomix membership gossip / Raft messaging',
  icmp: 'ICMP/ICMPv6 (no payload protocol to verify)',
} as const;

export type ProtocolTag = keyof typeof PROTOCOL_TAGS;

export function isProtocolTag(s: string): s is ProtocolTag {
  return Object.prototype.hasOwnProperty.call(PROTOCOL_TAGS, s);
}
