/**
 * Real session data for the dashboard's tests: what the session hands a consumer for a capture
 * (SessionInfo with the shipped rules, the updates, the SessionEnd with the summary and its coverage
 * report), and an update taken part way through a capture with its flows still live (the engine
 * stopped after a share of the records), so view-model and component tests run on what portsniff
 * really produces, not only on scripted data (dashboard-data.ts).
 */
import { readFileSync } from 'node:fs';
import { runSession, type SessionOptions } from '../../src/cli/session.js';
import type { CliIo } from '../../src/cli/io.js';
import { CaptureParser } from '../../src/capture/parser.js';
import type { SessionConsumer, SessionControl, SessionEnd, SessionInfo, SessionUpdate } from '../../src/export/consumer.js';
import { LineWriter } from '../../src/export/line-writer.js';
import { buildClassification } from '../../src/pipeline/classification.js';
import { DEFAULT_ENGINE_OPTIONS, Engine } from '../../src/pipeline/engine.js';
import { defaultRulesDir, loadRuleDirs } from '../../src/rules/load.js';

export interface RecordedSession {
  info: SessionInfo;
  updates: SessionUpdate[];
  end: SessionEnd;
}

class Recorder implements SessionConsumer {
  info: SessionInfo | null = null;
  updates: SessionUpdate[] = [];
  end: SessionEnd | null = null;
  start(info: SessionInfo, _control: SessionControl): void {
    this.info = info;
  }
  update(u: SessionUpdate): void {
    this.updates.push(u);
  }
  finish(end: SessionEnd): void {
    this.end = end;
  }
}

/** `portsniff replay FILE` at full speed, in-process, as the dashboard would see it (detail lists on). */
export async function recordSession(file: string, opts: Partial<SessionOptions> = {}): Promise<RecordedSession> {
  const rec = new Recorder();
  const io: CliIo = { stdout: new LineWriter('/dev/null'), stderr: () => {}, stdin: process.stdin, isTTY: false, signal: new AbortController().signal };
  await runSession({ kind: 'file', name: file, file }, { json: true, maxFlows: 262_144, idleTimeout: 120, activeTimeout: 0, top: 0, workers: 0, ...opts }, io, { consumers: [rec], detail: true });
  io.stdout.close();
  if (rec.info === null || rec.end === null) throw new Error(`the session over ${file} did not start or finish`);
  return { info: rec.info, updates: rec.updates, end: rec.end };
}

/**
 * The update a session would send after the first `share` of the capture's records, every flow
 * still live (a long idle timeout), with the detail lists. `wallMs`: the update's wall time.
 */
export function updateAfter(file: string, share: number, wallMs = Date.UTC(2024, 4, 1, 12, 0, 30)): SessionUpdate {
  const c = buildClassification({ ruleSet: loadRuleDirs([defaultRulesDir()]) });
  const engine = new Engine({ ...DEFAULT_ENGINE_OPTIONS, idleTimeout: 1e6, classifier: c.makeClassifier(DEFAULT_ENGINE_OPTIONS.maxFlows), documentedPorts: c.documentedPorts });
  const bytes = new Uint8Array(readFileSync(file));
  // Count the records first, then feed the share.
  let total = 0;
  new CaptureParser({ frame: () => total++ } as never, file).feed(bytes, 0, bytes.length);
  const stop = Math.floor(total * share);
  let i = 0;
  engine.snapshot(true, true);
  new CaptureParser(
    {
      frame: (buf: Uint8Array, off: number, cap: number, orig: number, sec: number, nsec: number, lt: number) => {
        if (i++ < stop) engine.frame(buf, off, cap, orig, sec, nsec, lt);
      },
    } as never,
    file,
  ).feed(bytes, 0, bytes.length);
  const snapshot = engine.snapshot(true, true);
  return { snapshot, wallMs, bytesRead: Math.floor(bytes.length * share), live: null, paused: false, state: 'running' };
}
