/** Rules as consumers show them (SessionInfo.rules): plain strings, no rule-loading types. */
import type { Rule } from '../rules/types.js';
import { formatPortSpec } from '../rules/types.js';
import type { RuleInfo } from './consumer.js';

export function ruleInfoOf(rule: Rule): RuleInfo {
  const cite = rule.cites[0];
  const where = cite?.line != null ? `${rule.source.doc}:${cite.line}` : rule.source.doc;
  return {
    id: rule.id,
    product: rule.product,
    component: rule.component,
    transport: rule.transport,
    ports: rule.ports.map(formatPortSpec).join(','),
    purpose: rule.purpose,
    exposure: [...rule.exposure],
    protocols: [...rule.protocols],
    tls: rule.tls,
    cite: cite !== undefined ? `"${cite.text}" (${where})` : where,
    sourceDoc: rule.source.doc,
  };
}
