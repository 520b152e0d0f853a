/** The session options as commander parses them, and which rule directories they load. */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ruleDirs } from '../../src/cli/classification-setup.js';
import { addSessionOptions, sessionOptionsFrom } from '../../src/cli/session-options.js';
import { defaultRulesDir } from '../../src/rules/load.js';

function parse(args: string[]) {
  const cmd = addSessionOptions(new Command('replay').exitOverride().argument('<file>'));
  cmd.parse(['node', 'replay', 'F', ...args]);
  return sessionOptionsFrom(cmd.opts());
}

const SHIPPED = defaultRulesDir();

describe('rule options', () => {
  it('by default the shipped rules, then every --rules DIR in the order given', () => {
    expect(ruleDirs(parse([]))).toEqual([SHIPPED]);
    expect(ruleDirs(parse(['--rules', 'a', '--rules', 'b']))).toEqual([SHIPPED, 'a', 'b']);
  });

  it('--no-rules alone: no rules at all (no classification)', () => {
    const o = parse(['--no-rules']);
    expect(o.noRules).toBe(true);
    expect(ruleDirs(o)).toEqual([]);
  });

  it('--no-rules with --rules DIR, in either order (issue 10): only the user rules', () => {
    // Used to crash ("(previous ?? []) is not iterable") in one order and drop DIR in the other.
    expect(ruleDirs(parse(['--no-rules', '--rules', 'mine']))).toEqual(['mine']);
    expect(ruleDirs(parse(['--rules', 'mine', '--no-rules']))).toEqual(['mine']);
    expect(ruleDirs(parse(['--rules', 'a', '--no-rules', '--rules', 'b']))).toEqual(['a', 'b']);
  });
});
