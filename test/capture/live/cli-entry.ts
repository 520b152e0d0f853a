/**
 * Runs the real portsniff CLI from the sources (`node --import tsx cli-entry.ts ...`) for the
 * live-capture tests, with main.ts's own signal handling and exit codes.
 */
import { runProcess } from '../../../src/cli/main.js';

runProcess(process.argv.slice(2));
