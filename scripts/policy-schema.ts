/**
 * `npm run schema`: writes rules/policy.schema.json (the JSON Schema editors use for --policy
 * files) from the zod schema the loader validates with (src/rules/policy.ts).
 * test/rules/policy.test.ts fails when the committed file is not what this writes.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { policyJsonSchema } from '../src/rules/policy.js';

export const POLICY_SCHEMA_PATH = fileURLToPath(new URL('../rules/policy.schema.json', import.meta.url));

export function policySchemaText(): string {
  return JSON.stringify(policyJsonSchema(), null, 2) + '\n';
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url).replace(/\.ts$/, '') === process.argv[1].replace(/\.ts$/, '')) {
  writeFileSync(POLICY_SCHEMA_PATH, policySchemaText());
  process.stderr.write(`schema: wrote ${POLICY_SCHEMA_PATH}\n`);
}
