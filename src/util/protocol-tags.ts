/**
 * Protocol tags (what the recognisers name, and what rules list in `protocols`) that identify a
 * family of protocol, not a product: TLS, HTTP, gRPC, DNS, health probes and metrics scrapes run on
 * every product's ports. Seen on a port no rule documents, they prove nothing about which product
 * is there; RESP, Envoy xDS or the Zeebe protocols do (the `undocumented-port` alert, the
 * dashboard's coverage view).
 */
export const GENERIC_PROTOCOL_TAGS: ReadonlySet<string> = new Set([
  'http1', 'http2', 'grpc', 'tls', 'dns', 'mdns', 'icmp', 'http1:health', 'http1:prometheus-scrape', 'prometheus-text',
]);
