/** Builds the classifier and the documented-port hints from the rule options (issue 3 wires rules). */
import type { FlowClassifier } from '../classify/types.js';

export interface ClassificationOptions {
  rules?: string[];
  products?: string[];
  noRules?: boolean;
}

export interface ClassificationSetup {
  classifier: FlowClassifier | null;
  documentedPorts: { tcp?: Uint8Array; udp?: Uint8Array; sctp?: Uint8Array };
}

export function setupClassification(_opts: ClassificationOptions): ClassificationSetup {
  return { classifier: null, documentedPorts: {} };
}
