/**
 * gRPC request paths (":path" = "/" package.Service "/" Method, per the gRPC over HTTP/2 spec) and
 * the services portsniff names: Envoy xDS and the Zeebe gateway. Used by the HTTP/2 recogniser.
 */
import type { ProtocolTag } from '../../rules/protocol-tags.js';

/**
 * Envoy xDS gRPC services, v3 and the retired v2 names (envoy docs "xDS API endpoints",
 * api/envoy/service/<x>/v3/*.proto). A path under one of these gets 'grpc:envoy-xds'.
 */
export const ENVOY_XDS_SERVICES: ReadonlySet<string> = new Set([
  'envoy.service.discovery.v3.AggregatedDiscoveryService',
  'envoy.service.cluster.v3.ClusterDiscoveryService',
  'envoy.service.listener.v3.ListenerDiscoveryService',
  'envoy.service.route.v3.RouteDiscoveryService',
  'envoy.service.route.v3.VirtualHostDiscoveryService',
  'envoy.service.route.v3.ScopedRoutesDiscoveryService',
  'envoy.service.endpoint.v3.EndpointDiscoveryService',
  'envoy.service.endpoint.v3.LocalityEndpointDiscoveryService',
  'envoy.service.secret.v3.SecretDiscoveryService',
  'envoy.service.runtime.v3.RuntimeDiscoveryService',
  'envoy.service.extension.v3.ExtensionConfigDiscoveryService',
  'envoy.service.health.v3.HealthDiscoveryService',
  'envoy.service.status.v3.ClientStatusDiscoveryService',
  // v2 (removed from Envoy in 1.18, still spoken by old control planes)
  'envoy.service.discovery.v2.AggregatedDiscoveryService',
  'envoy.api.v2.ClusterDiscoveryService',
  'envoy.api.v2.ListenerDiscoveryService',
  'envoy.api.v2.RouteDiscoveryService',
  'envoy.api.v2.VirtualHostDiscoveryService',
  'envoy.api.v2.ScopedRoutesDiscoveryService',
  'envoy.api.v2.EndpointDiscoveryService',
  'envoy.service.discovery.v2.SecretDiscoveryService',
  'envoy.service.discovery.v2.RuntimeDiscoveryService',
  'envoy.service.discovery.v2.HealthDiscoveryService',
  'envoy.service.status.v2.ClientStatusDiscoveryService',
]);

/** The Zeebe gateway's gRPC service (zeebe gateway-protocol gateway.proto: package gateway_protocol). */
export const ZEEBE_GATEWAY_SERVICE = 'gateway_protocol.Gateway';

/** [A-Za-z_] */
function identStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

/** [A-Za-z0-9_] */
function identPart(c: number): boolean {
  return identStart(c) || (c >= 0x30 && c <= 0x39);
}

/** True when path[from, to) is one identifier: [A-Za-z_][A-Za-z0-9_]*. */
function isIdent(path: string, from: number, to: number): boolean {
  if (from >= to || !identStart(path.charCodeAt(from))) return false;
  for (let i = from + 1; i < to; i++) if (!identPart(path.charCodeAt(i))) return false;
  return true;
}

/**
 * Splits "/pkg.Service/Method" into its service and method, or returns null when the path is not
 * shaped like a gRPC method path: exactly two non-empty segments, the service made of dot-separated
 * identifiers with at least one dot (a package), the method one identifier, no query string.
 * Only called on a decoded :path, never on raw bytes. One scan, no split or regular expression:
 * it runs on every gRPC request the classifier sees.
 */
export function parseGrpcPath(path: string): { service: string; method: string } | null {
  if (path.length < 5 || path.length > 512 || path.charCodeAt(0) !== 0x2f) return null;
  const slash = path.indexOf('/', 1);
  if (slash < 0 || path.indexOf('/', slash + 1) >= 0) return null;
  if (!isIdent(path, slash + 1, path.length)) return null;
  // The service: identifiers separated by single dots, at least two of them.
  let parts = 0;
  let from = 1;
  for (;;) {
    const dot = path.indexOf('.', from);
    const to = dot < 0 || dot > slash ? slash : dot;
    if (!isIdent(path, from, to)) return null;
    parts++;
    if (to === slash) break;
    from = to + 1;
  }
  if (parts < 2) return null;
  return { service: path.slice(1, slash), method: path.slice(slash + 1) };
}

/**
 * The gRPC sub-tag of a service, if portsniff names it: an Envoy xDS service (listed, or any
 * envoy.* service whose name ends in DiscoveryService, for services added after this list), or
 * the Zeebe gateway.
 */
export function grpcServiceTag(service: string): ProtocolTag | null {
  if (ENVOY_XDS_SERVICES.has(service)) return 'grpc:envoy-xds';
  if (service.startsWith('envoy.') && service.endsWith('DiscoveryService')) return 'grpc:envoy-xds';
  if (service === ZEEBE_GATEWAY_SERVICE) return 'grpc:zeebe-gateway';
  return null;
}
