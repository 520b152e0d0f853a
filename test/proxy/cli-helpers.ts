/** Runs the built CLI (`node dist/cli/main.js proxy ...`) as a process, as a user would. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunSummary } from '../../src/export/summary.js';
import type { ClassifiedFlow } from '../../src/pipeline/results.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist/cli/main.js');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningProxy {
  child: ChildProcess;
  /** Listen ports from the startup lines, in listener order. */
  ports: number[];
  stderr: () => string;
  done: Promise<Exit>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

/** Starts `portsniff proxy ARGS` and resolves once it says it is relaying (or rejects with its output). */
export function startCli(args: string[], timeoutMs = 15_000): Promise<RunningProxy> {
  const child = spawn(process.execPath, [CLI, 'proxy', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`portsniff proxy did not start within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    const check = (): void => {
      if (!/relaying; Ctrl-C to stop/.test(stderr)) return;
      clearTimeout(timer);
      child.stderr!.off('data', check);
      const ports = [...stderr.matchAll(/^portsniff: proxy (?:tcp|udp) (?:\[[^\]]+\]|[^ ]+):(\d+) -> /gm)].map((m) => Number(m[1]));
      resolve({
        child,
        ports,
        stderr: () => stderr,
        done,
        stop: (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return done;
        },
      });
    };
    child.stderr!.on('data', check);
    void done.then((r) => {
      clearTimeout(timer);
      reject(new Error(`portsniff proxy exited ${r.code} before relaying: ${r.stderr}`));
    });
  });
}

/** Runs `portsniff ARGS` to completion. */
export function runCli(args: string[], timeoutMs = 30_000): Exit {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export function readFlows(path: string): ClassifiedFlow[] {
  const text = readFileSync(path, 'utf8').trim();
  return text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as ClassifiedFlow);
}

export function parseSummary(stdout: string): RunSummary {
  return JSON.parse(stdout) as RunSummary;
}

/** A free TCP port in [lo, hi) on 127.0.0.1, for servers that must sit in a documented range. */
export async function freePortIn(lo: number, hi: number, accept: (port: number) => boolean = () => true): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = lo + Math.floor(Math.random() * (hi - lo));
    if (!accept(port)) continue;
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`no free port in ${lo}-${hi}`);
}

/** True when `cmd` is on PATH; otherwise prints a visible SKIPPED line. */
export function haveTool(cmd: string, what: string): boolean {
  const ok = spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
  if (!ok) console.warn(`SKIPPED ${what}: ${cmd} is not installed (scripts/setup.sh installs it)`);
  return ok;
}
