/**
 * The port half of classification: which rules a flow's ports point at, before any payload is
 * seen. Pure; runs once per flow (it may allocate). Precedence is in rules/README.md:
 * the server (responder) port first, the client (originator) port only when the server port
 * matches nothing; within a port the most specific tier wins and ties stay ambiguous.
 */
import type { Candidate, PortIndex } from '../rules/compile.js';
import { isIcmpProto } from '../util/ip-proto.js';

/**
 * Which port decided: the server port, the client port (server port unmatched), the transport
 * alone (ICMP/ICMPv6 rules have no ports), or nothing matched.
 */
export type PortBasis = 'server-port' | 'client-port' | 'transport' | 'none';

export interface PortDecision {
  readonly basis: PortBasis;
  /** The port that matched; null for basis 'transport' and 'none'. */
  readonly port: number | null;
  /** The most specific tier, sorted by rule id; empty when nothing matched. */
  readonly candidates: readonly Candidate[];
  /** Lower-specificity matches of the same port (for `rules explain`), most specific first. */
  readonly alternatives: readonly Candidate[];
  /** True when several candidates tie at the best tier. */
  readonly ambiguous: boolean;
}

const NONE: PortDecision = Object.freeze({ basis: 'none', port: null, candidates: Object.freeze([]), alternatives: Object.freeze([]), ambiguous: false });

/** `transport` is the IP protocol number (6, 17, 132, 1, 58). */
export function decidePorts(index: PortIndex, transport: number, serverPort: number, clientPort: number): PortDecision {
  if (isIcmpProto(transport)) {
    const g = index.group(index.lookup(transport, 0));
    if (g.id === 0) return NONE;
    return { basis: 'transport', port: null, candidates: g.bestCandidates, alternatives: g.all.filter((c) => c.tier > 0), ambiguous: g.ambiguous };
  }
  let basis: PortBasis = 'server-port';
  let port = serverPort;
  let id = index.lookup(transport, serverPort);
  if (id === 0) {
    basis = 'client-port';
    port = clientPort;
    id = index.lookup(transport, clientPort);
  }
  if (id === 0) return NONE;
  const g = index.group(id);
  return { basis, port, candidates: g.bestCandidates, alternatives: g.all.filter((c) => c.tier > 0), ambiguous: g.ambiguous };
}
