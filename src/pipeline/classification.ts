/**
 * Builds the classifier from plain data (the loaded rule set and a product filter), so that each
 * worker thread can rebuild it: class instances do not cross threads. Loading the YAML files takes
 * ~250 ms while compiling the loaded set takes ~2 ms, so the main thread loads (and validates) once
 * and the workers only compile.
 */
import { tableCapacity } from '../flow/table.js';
import type { FlowClassifier } from '../classify/types.js';
import { PortMapClassifier } from '../classify/classifier.js';
import { parseCidrList } from '../classify/exposure.js';
import { PolicyChecker } from '../classify/policy-check.js';
import type { PolicySpec } from '../rules/policy.js';
import { compileRules } from '../rules/compile.js';
import type { RuleSet } from '../rules/types.js';

export interface ClassificationSpec {
  /** From rules/load.ts loadRuleDirs(): plain data, cloned into each worker. */
  ruleSet: RuleSet;
  /** Only classify against these products (--products). */
  products?: string[] | undefined;
  /** Keep the decoded evidence fields per flow (default true); false keeps only protocol tags. */
  evidenceDetail?: boolean | undefined;
  /**
   * Only verdicts (and the protocols seen on undocumented ports) are read: no flow records, no
   * live views. Lets the classifier stop inspecting flows whose verdict is settled (classifier.ts).
   */
  verdictsOnly?: boolean | undefined;
  /** --monitoring-hosts as given (parsed again in each worker; the CLI validates it first). */
  monitoringHosts?: string | undefined;
  /** --policy, validated on the main thread (rules/policy.ts): plain data. */
  policy?: PolicySpec | undefined;
}

export interface BuiltClassification {
  /** A classifier for an engine of `maxFlows` (sized like its table: tableCapacity()). */
  makeClassifier: (maxFlows: number) => FlowClassifier | null;
  documentedPorts: { tcp?: Uint8Array; udp?: Uint8Array; sctp?: Uint8Array };
}

/** Compiles the rules (throws UsageError for an unknown product or a bad --monitoring-hosts). */
export function buildClassification(spec: ClassificationSpec | null): BuiltClassification {
  if (spec === null) return { makeClassifier: () => null, documentedPorts: {} };
  const index = compileRules(spec.ruleSet, { products: spec.products });
  const monitoringHosts = spec.monitoringHosts === undefined ? null : parseCidrList(spec.monitoringHosts);
  const policy = spec.policy === undefined ? null : new PolicyChecker(spec.policy, monitoringHosts);
  return {
    makeClassifier: (maxFlows) => new PortMapClassifier(index, tableCapacity(maxFlows), { evidenceDetail: spec.evidenceDetail !== false, verdictsOnly: spec.verdictsOnly === true, monitoringHosts, policy }),
    documentedPorts: { tcp: index.documentedPortMask('tcp'), udp: index.documentedPortMask('udp'), sctp: index.documentedPortMask('sctp') },
  };
}
