/**
 * The exposure check under an operator's policy (`--policy FILE`, rules/policy.ts, docs/policy.md).
 * Per flow, never per packet. For each candidate rule of the flow:
 *  - a policy entry for the rule (or else for its product) decides: the client must be in one of
 *    the entry's networks (`any`, `loopback`, `private`, `monitoring`, or a named network), else
 *    it is a violation;
 *  - without an entry, the documented exposure decides (exposure.ts), with the policy's `private`
 *    network (when defined) as the private ranges and its `monitoring` network added to
 *    --monitoring-hosts.
 * As without a policy, an ambiguous flow is fine when any candidate allows its client: ok beats
 * unchecked beats violation.
 */
import type { Candidate } from '../rules/compile.js';
import type { PolicySpec } from '../rules/policy.js';
import { inPrefixes, parsePrefix, type AddressPrefix } from '../util/address.js';
import { addressClass, checkExposure, type AddressClass, type ExposureCheck, type ExposureClient, type ExposureStatus, type PolicyDecision } from './exposure.js';

/** The client of one flow as the policy sees it. */
export interface PolicyClient extends ExposureClient {
  /** Names of the policy's networks the client is in (file order). */
  readonly networks: readonly string[];
}

interface CompiledEntry {
  /** `file:line:col` of the entry. */
  where: string;
  from: readonly string[];
}

const RANK: Record<ExposureStatus, number> = { ok: 2, unchecked: 1, violation: 0 };

export class PolicyChecker {
  private readonly networks: Array<{ name: string; prefixes: AddressPrefix[] }>;
  private readonly privateRanges: AddressPrefix[] | null;
  private readonly monitoring: AddressPrefix[] | null;
  private readonly byRule = new Map<string, CompiledEntry>();
  private readonly byProduct = new Map<string, CompiledEntry>();

  /** `monitoringHosts`: --monitoring-hosts, parsed (null when not given). */
  constructor(spec: PolicySpec, monitoringHosts: readonly AddressPrefix[] | null) {
    this.networks = spec.networks.map((n) => ({ name: n.name, prefixes: n.prefixes.map(prefix) }));
    this.privateRanges = this.networks.find((n) => n.name === 'private')?.prefixes ?? null;
    const fileMonitoring = this.networks.find((n) => n.name === 'monitoring')?.prefixes ?? null;
    this.monitoring = fileMonitoring === null && monitoringHosts === null ? null : [...(monitoringHosts ?? []), ...(fileMonitoring ?? [])];
    for (const e of spec.entries) {
      const compiled = { where: `${e.location.file}:${e.location.line}:${e.location.col}`, from: e.from };
      if (e.product !== null) this.byProduct.set(e.product, compiled);
      for (const id of e.rules) this.byRule.set(id, compiled);
    }
  }

  client(ipVersion: number, w0: number, w1: number, w2: number, w3: number): PolicyClient {
    let cls: AddressClass = addressClass(ipVersion, w0, w1, w2, w3);
    if (this.privateRanges !== null && (cls === 'private' || cls === 'public')) {
      cls = inPrefixes(this.privateRanges, ipVersion, w0, w1, w2, w3) ? 'private' : 'public';
    }
    const monitoringHost = this.monitoring === null ? null : inPrefixes(this.monitoring, ipVersion, w0, w1, w2, w3);
    const networks = this.networks.filter((n) => inPrefixes(n.prefixes, ipVersion, w0, w1, w2, w3)).map((n) => n.name);
    return { client: cls, monitoringHost, networks };
  }

  private inNetwork(name: string, c: PolicyClient): boolean {
    switch (name) {
      case 'any':
        return true;
      case 'loopback':
        return c.client === 'loopback';
      case 'private':
        return c.client === 'private';
      case 'monitoring':
        return c.monitoringHost === true;
      default:
        return c.networks.includes(name);
    }
  }

  /** The exposure check of a flow whose candidate rules are `chosen`. */
  check(chosen: readonly Candidate[], c: PolicyClient): ExposureCheck {
    let best: { status: ExposureStatus; entry: CompiledEntry | null } | null = null;
    const allowed = new Set<ExposureCheck['allowed'][number]>();
    for (const cand of chosen) {
      for (const e of cand.rule.exposure) allowed.add(e);
      const entry = this.byRule.get(cand.rule.id) ?? this.byProduct.get(cand.rule.product) ?? null;
      const status: ExposureStatus =
        entry !== null ? (entry.from.some((n) => this.inNetwork(n, c)) ? 'ok' : 'violation') : checkExposure(cand.rule.exposure, c).status;
      if (best === null || RANK[status] > RANK[best.status]) best = { status, entry };
    }
    const documented = checkExposure([...allowed], c);
    const policy: PolicyDecision = {
      entry: best?.entry?.where ?? null,
      from: best?.entry ? [...best.entry.from] : null,
      clientNetworks: [...c.networks],
    };
    return { ...documented, status: best?.status ?? documented.status, policy };
  }
}

function prefix(text: string): AddressPrefix {
  const p = parsePrefix(text);
  // The loader validated every prefix; a bad one here is a programming error.
  if (typeof p === 'string') throw new Error(`policy prefix ${p}`);
  return p;
}
