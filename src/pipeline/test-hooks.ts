/**
 * Test-only ways to make a worker misbehave, read from the environment so that tests spawning the
 * CLI can reach them. Never set in production; see messages.ts WorkerFailureHook.
 */
import type { WorkerFailureHook } from './messages.js';

/** PORTSNIFF_TEST_WORKER_FAILURE=worker:packets:kind (tests of the failure path only). */
export function failureHookFromEnv(): WorkerFailureHook | undefined {
  const v = process.env['PORTSNIFF_TEST_WORKER_FAILURE'];
  if (v === undefined || v === '') return undefined;
  const [w, n, kind] = v.split(':');
  if (kind !== 'throw' && kind !== 'exit' && kind !== 'oom') return undefined; // 'stall' needs a SharedArrayBuffer
  return { worker: Number(w), afterPackets: Number(n), kind };
}

