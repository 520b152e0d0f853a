/** Builds the classifier and the documented-port hints from the rule options. */
import type { FlowClassifier } from '../classify/types.js';
import { PortMapClassifier } from '../classify/classifier.js';
import { compileRules, type PortIndex } from '../rules/compile.js';
import { defaultRulesDir, loadRuleDirs } from '../rules/load.js';

export interface ClassificationOptions {
  rules?: string[];
  products?: string[];
  noRules?: boolean;
}

export interface ClassificationSetup {
  index: PortIndex | null;
  /** Builds a classifier sized for a flow table of `capacity` slots (one per engine). */
  makeClassifier: (capacity: number) => FlowClassifier | null;
  documentedPorts: { tcp?: Uint8Array; udp?: Uint8Array; sctp?: Uint8Array };
}

/** Rule directories in precedence order: the shipped rules/ (unless --no-rules), then --rules DIRs. */
export function ruleDirs(opts: ClassificationOptions): string[] {
  return [...(opts.noRules ? [] : [defaultRulesDir()]), ...(opts.rules ?? [])];
}

export function setupClassification(opts: ClassificationOptions): ClassificationSetup {
  const dirs = ruleDirs(opts);
  if (dirs.length === 0) return { index: null, makeClassifier: () => null, documentedPorts: {} };
  const index = compileRules(loadRuleDirs(dirs), { products: opts.products });
  return {
    index,
    makeClassifier: (capacity) => new PortMapClassifier(index, capacity),
    documentedPorts: { tcp: index.documentedPortMask('tcp'), udp: index.documentedPortMask('udp'), sctp: index.documentedPortMask('sctp') },
  };
}
