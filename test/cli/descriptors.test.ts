/**
 * No descriptor is closed twice. A descriptor closed a second time may by then be another file's:
 * Node aborts when its own close of that file fails (`uv_fs_close` in readFileSync), or a file is
 * silently cut off. The pipe thread (capture/pipe-reader.ts) once closed the FIFO's descriptor that
 * a pipeline worker had opened, and Node closed it again when that worker exited (it closes what a
 * worker opened with `fs` and did not close with `fs`); it was a crash one run in many, and a
 * second close of a free number in every run. strace(1) sees every close of the real CLI, threads
 * included: a close that fails with EBADF is a descriptor closed twice (or never opened). Every
 * input mode, every output, live capture with both backends, and the proxy.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { canCapture } from '../capture/live/env.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');
const DEMO = join(ROOT, 'fixtures/captures/demo.pcap');
const dir = mkdtempSync(join(tmpdir(), 'portsniff-fds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether strace can trace here (scripts/setup.sh installs it; a container may forbid ptrace). */
const probe = spawnSync('strace', ['-f', '-o', '/dev/null', 'true']);
const straceWorks = probe.status === 0;
if (!straceWorks) console.warn(`descriptors.test.ts skipped: strace cannot trace here (${probe.error?.message ?? probe.stderr.toString().trim()})`);

interface Traced {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The trace's failed closes (`close(N) = -1 EBADF`). */
  badCloses: string[];
  /** Closes seen, to show the trace saw the run at all. */
  closes: number;
}

let runs = 0;
/**
 * `sh -c SCRIPT` where the script runs `$TRACE node MAIN replay ...`: TRACE is strace following
 * every thread, tracing close(2). `signalAfterMs` sends SIGINT to the CLI (not strace) after that time.
 */
function traced(script: string, args: string[], signalAfterMs?: number): Promise<Traced> {
  const log = join(dir, `trace-${runs++}.txt`);
  const trace = `strace -f --seccomp-bpf -e trace=close -o ${log}`;
  return new Promise((resolve) => {
    const p = spawn('sh', ['-c', script, 'sh', ...args], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TRACE: trace, NODE_BIN: process.execPath, MAIN },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (signalAfterMs !== undefined) {
      setTimeout(() => {
        // The CLI's pid: the first pid in the trace is the traced node's main thread.
        const first = readFileSync(log, 'utf8').match(/^(\d+) /m);
        if (first) process.kill(Number(first[1]), 'SIGINT');
      }, signalAfterMs);
    }
    // A run that hangs (a signal ignored) is ended with its whole group: the test fails, nothing is left behind.
    const watchdog = setTimeout(() => process.kill(-p.pid!, 'SIGKILL'), 20_000);
    p.on('close', (code) => {
      clearTimeout(watchdog);
      const lines = readFileSync(log, 'utf8').split('\n');
      resolve({
        code,
        stdout,
        stderr,
        badCloses: lines.filter((l) => /close\(\d+\)\s+= -1 EBADF/.test(l)),
        closes: lines.filter((l) => /close\(\d+\)\s+= 0/.test(l)).length,
      });
    });
  });
}

function expectNoDoubleClose(run: Traced, packets: number): void {
  expect(run.stderr).not.toContain('Assertion failed');
  expect(run.code, run.stderr).toBe(0);
  expect(run.closes).toBeGreaterThan(10);
  expect(run.badCloses).toEqual([]);
  expect((JSON.parse(run.stdout) as { totals: { packets: number } }).totals.packets).toBe(packets);
}

const REPLAY = '$TRACE "$NODE_BIN" "$MAIN" replay';

describe.skipIf(!straceWorks)('no descriptor closed twice (strace)', () => {
  const demo = readFileSync(DEMO);

  it.each([
    ['plain', 0],
    ['plain', 1],
    ['plain', 2],
    ['gzip', 1],
  ] as const)('a FIFO, %s, --workers %i', async (kind, workers) => {
    const fifo = join(dir, `in-${kind}-${workers}.fifo`);
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const source = join(dir, `in-${kind}.pcap`);
    writeFileSync(source, kind === 'gzip' ? gzipSync(demo) : demo);
    const run = await traced(`cat "$1" > "$2" & ${REPLAY} "$2" --json --workers "$3"`, [source, fifo, String(workers)]);
    expectNoDoubleClose(run, 2305);
  });

  it.each([0, 1, 2])('a pipe on stdin, --workers %i', async (workers) => {
    const run = await traced(`cat "$1" | ${REPLAY} - --json --workers "$2"`, [DEMO, String(workers)]);
    expectNoDoubleClose(run, 2305);
  });

  it.each([0, 1])('a regular file, --workers %i', async (workers) => {
    const run = await traced(`${REPLAY} "$1" --json --workers "$2"`, [DEMO, String(workers)]);
    expectNoDoubleClose(run, 2305);
  });

  it.each([0, 1, 2])('a regular file with every output (flow log, metrics, IPFIX, alerts), --workers %i', async (workers) => {
    // IPFIX to the discard port: nothing listens there, so no collector a machine runs gets these records.
    const outputs = `--flows ${join(dir, `flows-${workers}.ndjson`)} --metrics 127.0.0.1:0 --ipfix 127.0.0.1:9 --alerts ${join(dir, `alerts-${workers}.ndjson`)} --policy ${join(ROOT, 'fixtures/policy/fleet.yaml')}`;
    const run = await traced(`${REPLAY} "$1" --json --workers "$2" ${outputs}`, [DEMO, String(workers)]);
    expectNoDoubleClose(run, 2305);
  });

  for (const [backend, workers] of [
    ['tcpdump', 0],
    ['tcpdump', 2],
    ['cap', 0],
  ] as const) {
    it.skipIf(!canCapture(backend, 'descriptors under strace'))(`a live capture on lo, ${backend}, --workers ${workers}`, async () => {
      const run = await traced(`$TRACE "$NODE_BIN" "$MAIN" live lo --backend "$1" --workers "$2" --duration 1 --json --write "$3"`, [backend, String(workers), join(dir, `live-${backend}-${workers}.pcap`)]);
      expect(run.badCloses).toEqual([]);
      expect(run.code, run.stderr).toBe(0);
    });
  }

  it('the proxy, until its --duration', async () => {
    const run = await traced(`$TRACE "$NODE_BIN" "$MAIN" proxy --map 127.0.0.1:0=127.0.0.1:9 --duration 1 --json`, []);
    expect(run.badCloses).toEqual([]);
    expect(run.code, run.stderr).toBe(0);
  });

  it.each([0, 1, 2])('a FIFO no one writes to, stopped by Ctrl-C while its open waits, --workers %i', async (workers) => {
    const fifo = join(dir, `unwritten-${workers}.fifo`);
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const run = await traced(`${REPLAY} "$1" --json --workers "$2"`, [fifo, String(workers)], 1500);
    expectNoDoubleClose(run, 0);
  });
});

