/**
 * Rule files of several directories -> one RuleSet: the checks across files. Precedence
 * (rules/README.md): directories load in the order given (the shipped rules/ first, then each
 * `--rules DIR`); files inside a directory load in name order, which never matters because ids must
 * be unique within a directory. A rule may replace a rule of an EARLIER directory only by saying
 * `override: <id>`; any other repeated id is an error. Erratum ids are unique across everything.
 */
import { problemAt, RuleFileError, sortProblems, where, type RuleProblem } from './problems.js';
import { compareIds } from './types.js';
import type { Erratum, Rule, RuleFile, RuleSet } from './types.js';

/** One directory's files as parsed (null: a file too broken to use; its problems are already listed). */
export interface ParsedLayer {
  readonly name: string;
  readonly files: readonly { readonly path: string; readonly file: RuleFile | null }[];
}

/**
 * The effective rules of `layers` (in precedence order). Throws RuleFileError with `problems` (the
 * files' own, passed in) plus every cross-file problem, sorted by file and position.
 */
export function resolveRuleSet(layers: readonly ParsedLayer[], problems: RuleProblem[]): RuleSet {
  const files: RuleFile[] = [];
  const fileLayer: number[] = [];
  layers.forEach((layer, li) => {
    for (const f of layer.files) {
      if (f.file !== null) {
        files.push(f.file);
        fileLayer.push(li);
      }
    }
  });

  // Cross-file checks, layer by layer. `effective` holds the winning rule per id so far.
  const effective = new Map<string, Rule>();
  const overridden: { rule: Rule; by: Rule }[] = [];
  const errataIds = new Map<string, Erratum>();
  for (let li = 0; li < layers.length; li++) {
    const layerRules: Rule[] = [];
    for (let fi = 0; fi < files.length; fi++) {
      if (fileLayer[fi] !== li) continue;
      const file = files[fi]!;
      layerRules.push(...file.rules);
      for (const e of file.errata) {
        const first = errataIds.get(e.id);
        if (first !== undefined) problems.push(problemAt(e.location, `erratum ${e.id}`, `duplicate erratum id (first defined at ${where(first.location)})`));
        else errataIds.set(e.id, e);
      }
    }
    // Ids must be unique inside a layer, overrides or not: otherwise the winner would depend on file order.
    const seen = new Map<string, Rule>();
    const targets = new Map<string, Rule>();
    const accepted: Rule[] = [];
    for (const r of layerRules) {
      const dup = seen.get(r.id);
      if (dup !== undefined) {
        const hint = r.overrides === null ? '' : '; override: only replaces rules of an earlier rules directory';
        problems.push(problemAt(r.location, `rule ${r.id}`, `duplicate rule id in one rules directory (first defined at ${where(dup.location)})${hint}`));
        continue;
      }
      seen.set(r.id, r);
      if (r.overrides !== null) {
        const target = effective.get(r.overrides);
        const sameLayer = target === undefined ? layerRules.find((o) => o !== r && o.id === r.overrides) : undefined;
        if (target === undefined) {
          problems.push(problemAt(r.location, `rule ${r.id}`, sameLayer !== undefined
            ? `override: '${r.overrides}' is defined in the same rules directory (${where(sameLayer.location)}); an override must come from a later directory`
            : `override: no rule '${r.overrides}' in an earlier rules directory`));
          continue;
        }
        const twice = targets.get(r.overrides);
        if (twice !== undefined) {
          problems.push(problemAt(r.location, `rule ${r.id}`, `override: '${r.overrides}' is already overridden by ${twice.id} (${where(twice.location)})`));
          continue;
        }
        targets.set(r.overrides, r);
      }
      accepted.push(r);
    }
    const applied: Rule[] = [];
    for (const r of accepted) {
      const earlier = effective.get(r.id);
      if (earlier !== undefined && r.overrides !== r.id) {
        problems.push(problemAt(r.location, `rule ${r.id}`, `duplicate rule id (first defined at ${where(earlier.location)}); to replace it from a later directory, add 'override: ${r.id}'`));
        continue;
      }
      applied.push(r);
    }
    for (const r of applied) {
      if (r.overrides === null) continue;
      overridden.push({ rule: effective.get(r.overrides)!, by: r });
      effective.delete(r.overrides);
    }
    for (const r of applied) effective.set(r.id, r);
  }

  if (problems.length > 0) {
    // Report in load order (directory, then file), and by position inside each file.
    throw new RuleFileError(sortProblems(problems, layers.flatMap((l) => [l.name, ...l.files.map((f) => f.path)])));
  }
  const rules = [...effective.values()].sort((a, b) => compareIds(a.id, b.id));
  return { files, rules, overridden };
}
