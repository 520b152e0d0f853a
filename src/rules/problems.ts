/**
 * Problems found in rule files, and the one error that carries all of them. Rule files are trusted
 * configuration but written by hand, so every problem of every file is reported at once, each as
 * `file:line:col: rule <id>: <problem>`.
 */
import { ErrorCode, PortsniffError } from '../errors.js';
import type { SourceLocation } from './types.js';

/** One problem found in a rule file. */
export interface RuleProblem {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /**
   * What the problem is in: `rule <id>`, `erratum <id>` (`#<n>`, the list position, stands in for
   * a missing or invalid id), or null for file-level problems.
   */
  readonly subject: string | null;
  readonly problem: string;
}

/** `file:line:col: rule <id>: <problem>` (file-level problems have no subject). */
export function formatRuleProblem(p: RuleProblem): string {
  const where = `${p.file}:${p.line}:${p.col}`;
  return p.subject === null ? `${where}: ${p.problem}` : `${where}: ${p.subject}: ${p.problem}`;
}

/** Thrown by the loaders: `code` is PSN_ERR_RULE_FILE and `problems` holds every problem found. */
export class RuleFileError extends PortsniffError {
  readonly problems: readonly RuleProblem[];
  constructor(problems: readonly RuleProblem[]) {
    const n = problems.length;
    super(ErrorCode.RuleFile, `rule files have ${n} problem${n === 1 ? '' : 's'}:\n${problems.map(formatRuleProblem).join('\n')}`);
    this.name = 'RuleFileError';
    this.problems = problems;
  }
}

/** `file:line:col` of a location, as problems quote other places. */
export function where(l: SourceLocation): string {
  return `${l.file}:${l.line}:${l.col}`;
}

/** A problem at a location. */
export function problemAt(l: SourceLocation, subject: string | null, problem: string): RuleProblem {
  return { file: l.file, line: l.line, col: l.col, subject, problem };
}

/**
 * The problems in report order: by `fileOrder` (directories and files in load order; files not in
 * it last), then by position inside each file, then in the order they were found.
 */
export function sortProblems(problems: readonly RuleProblem[], fileOrder: readonly string[]): RuleProblem[] {
  const order = new Map<string, number>();
  for (const f of fileOrder) if (!order.has(f)) order.set(f, order.size);
  const rank = (f: string): number => order.get(f) ?? order.size;
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p.file) - rank(b.p.file) || a.p.line - b.p.line || a.p.col - b.p.col || a.i - b.i)
    .map((x) => x.p);
}
