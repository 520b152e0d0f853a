/**
 * Writes the code caches of the CLI's chunks (src/cli/code-cache.ts): runs the built CLI on the demo
 * capture with PORTSNIFF_CODE_CACHE=write, so that each chunk's cache holds the bytecode of every
 * function a replay calls. Run by `npm run build` after scripts/bundle-cli.mjs:
 *
 *   node scripts/code-cache.mjs
 *
 * With --workers 0: the engine, classification and output all run on the main thread (and a flow
 * log, so that flow records are in), and a worker thread loads the same shared chunk with the same
 * cache. The worker's own small entry chunk gets none: a worker thread is stopped by the process's
 * exit without an 'exit' event of its own. V8 accepts a cache only from the same V8 version and
 * flags: under another Node the chunks compile as they would without one.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(REPO, 'dist/cli');
const DEMO = join(REPO, 'fixtures/captures/demo.pcap');

for (const name of readdirSync(CLI)) if (name.endsWith('.v8cache')) rmSync(join(CLI, name));
const env = { ...process.env, PORTSNIFF_CODE_CACHE: 'write' };
execFileSync(process.execPath, [join(CLI, 'main.js'), 'replay', DEMO, '--json', '--flows', '/dev/null', '--workers', '0'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
const written = readdirSync(CLI).filter((n) => n.endsWith('.v8cache'));
if (written.length === 0) {
  console.error('code-cache: no cache written');
  process.exit(1);
}
