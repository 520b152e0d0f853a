/**
 * `npm run schema` (with policy-schema.ts): writes rules/rule-file.schema.json, the JSON Schema
 * editors use for rule files, from src/rules/schema.ts, the statement of the format the loader
 * validates with. The file is committed (and shipped with the rules);
 * test/rules/json-schema.test.ts fails when it is not what this writes.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ruleFileJsonSchema } from '../src/rules/schema.js';

export const RULE_FILE_SCHEMA_PATH = fileURLToPath(new URL('../rules/rule-file.schema.json', import.meta.url));

/** The file's exact text. */
export function ruleFileJsonSchemaText(): string {
  return `${JSON.stringify(ruleFileJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url).replace(/\.ts$/, '') === process.argv[1].replace(/\.ts$/, '')) {
  writeFileSync(RULE_FILE_SCHEMA_PATH, ruleFileJsonSchemaText());
  process.stderr.write(`schema: wrote ${RULE_FILE_SCHEMA_PATH}\n`);
}
