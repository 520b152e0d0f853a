/** Shared by the pipeline tests: run a capture through a pipeline and collect everything it says. */
import type { CaptureReadResult } from '../../src/capture/types.js';
import { defaultRulesDir, loadRuleDirs } from '../../src/rules/load.js';
import { createPipeline, type Pipeline, type PipelineOptions, type PipelineResult, type RunFileOptions } from '../../src/pipeline/pipeline.js';
import type { ClassificationSpec } from '../../src/pipeline/classification.js';

export const RULES: ClassificationSpec = { ruleSet: loadRuleDirs([defaultRulesDir()]) };

export function options(workers: number, extra: Partial<PipelineOptions> = {}): PipelineOptions {
  return { workers, maxFlows: 100_000, idleTimeout: 30, activeTimeout: 0, classification: RULES, flows: true, ...extra };
}

export interface PipelineRun {
  flows: string[];
  result: PipelineResult;
  read: CaptureReadResult | null;
  readError: unknown;
  pipeline: Pipeline;
}

/** Feeds `file` (or '-' with opts.stdin) through a new pipeline; the pipeline is closed after. */
export async function runPipeline(file: string, o: PipelineOptions, runOpts: RunFileOptions = {}): Promise<PipelineRun> {
  const pipeline = createPipeline(o);
  const flows: string[] = [];
  // With flowsAsJson the lines come made; a record reaching onFlow then is a failure.
  pipeline.onFlow((f) => flows.push(o.flowsAsJson === true ? `record instead of a line: ${JSON.stringify(f)}` : JSON.stringify(f)));
  pipeline.onFlowJson((line) => flows.push(o.flowsAsJson === true ? line : `line without flowsAsJson: ${line}`));
  let read: CaptureReadResult | null = null;
  let readError: unknown = null;
  try {
    read = await pipeline.runFile(file, runOpts);
  } catch (err) {
    readError = err;
  }
  const result = await pipeline.finish();
  await pipeline.close();
  return { flows, result, read, readError, pipeline };
}

/** What must be identical whatever the number of workers. */
export function comparable(r: PipelineRun): unknown {
  return { flows: r.flows, totals: r.result.totals, services: r.result.services, read: r.read, error: r.result.error };
}

/** A flag for the stall failure hook (test-hooks.ts): the stalled worker waits on `buffer` until release(). */
export function releaser(): { buffer: SharedArrayBuffer; release: () => void } {
  const buffer = new SharedArrayBuffer(4);
  const flag = new Int32Array(buffer);
  return {
    buffer,
    release: () => {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    },
  };
}
