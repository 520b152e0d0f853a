/** Which rule directories a command loads, from its rule options. */
import { defaultRulesDir } from '../rules/load.js';

export interface ClassificationOptions {
  rules?: string[];
  products?: string[];
  noRules?: boolean;
  /** --monitoring-hosts as given (validated by the option parser). */
  monitoringHosts?: string;
}

/**
 * Rule directories in precedence order: the shipped rules/ (unless --no-rules), then the --rules
 * DIRs as given. `--no-rules` with `--rules DIR` (either order) loads only DIR; alone, nothing.
 */
export function ruleDirs(opts: ClassificationOptions): string[] {
  return [...(opts.noRules ? [] : [defaultRulesDir()]), ...(opts.rules ?? [])];
}
