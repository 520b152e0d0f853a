/**
 * `portsniff replay` from what is not a path to a regular file, with the same summary as the file:
 * - a FIFO (`mkfifo`, or the `/dev/fd/N` of a shell's `<(command)`) cannot be read at an offset and
 *   delivers its bytes as the writer sends them. It is read as a stream (like '-'), plain or gzip, by
 *   every reader: in-process, one worker, and the chunked reader of two workers; Ctrl-C ends a wait
 *   for its first writer;
 * - `replay - < capture.pcap`: a regular file on stdin is read like a path (by descriptor, one
 *   chunk ahead), from where its offset stands, gzip included;
 * - `cat capture.pcap | portsniff replay -`: a pipe on stdin is drained on a thread of its own
 *   (capture/pipe-reader.ts), and a writer that stays open without writing does not hold up the
 *   end of a run stopped by a signal; a terminal on stdin is a usage error, not an endless wait.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readdirSync } from 'node:fs';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { writeBigCapture } from './replay-gen.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/cli/main.js');
const DEMO = join(ROOT, 'fixtures/captures/demo.pcap');
const dir = mkdtempSync(join(tmpdir(), 'portsniff-fifo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function replay(path: string, workers: number): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [MAIN, 'replay', path, '--json', '--workers', String(workers)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Plain or gzip bytes, for each reader: in-process, one worker, and the chunked reader of two workers. */
const READER_CASES = [
  ['plain', 0],
  ['plain', 1],
  ['plain', 2],
  ['gzip', 0],
  ['gzip', 2],
] as const;

/** The summary without what names the input (source kind and name, options.workers). */
function comparable(json: string): unknown {
  const s = JSON.parse(json) as { source: { kind: string; name: string }; options: { workers: number } };
  s.source.kind = '';
  s.source.name = '';
  s.options.workers = 0;
  return s;
}

/** Writes `bytes` into the FIFO at `path` in three parts, with pauses: a slow writer. */
async function writeSlowly(path: string, bytes: Uint8Array): Promise<void> {
  const out = createWriteStream(path);
  const third = Math.ceil(bytes.length / 3);
  for (let i = 0; i < bytes.length; i += third) {
    out.write(bytes.subarray(i, i + third));
    await new Promise((r) => setTimeout(r, 60));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

describe('replay of a FIFO', () => {
  const file = readFileSync(DEMO);
  const reference = spawnSync(process.execPath, [MAIN, 'replay', DEMO, '--json', '--workers', '0'], { encoding: 'utf8' });

  it.each(READER_CASES)('%s bytes, --workers %i: the same summary as the file', async (kind, workers) => {
    expect(reference.status).toBe(0);
    const fifo = join(dir, `${kind}-${workers}.fifo`);
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const bytes = kind === 'gzip' ? gzipSync(file) : file;
    const [run] = await Promise.all([replay(fifo, workers), writeSlowly(fifo, bytes)]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(comparable(run.stdout)).toEqual(comparable(reference.stdout));
    expect((JSON.parse(run.stdout) as { totals: { packets: number } }).totals.packets).toBe(2305);
  });

  it.each([0, 1, 2])('a FIFO no one writes to, --workers %i: Ctrl-C ends the wait for a writer, with the summary', async (workers) => {
    const fifo = join(dir, `unwritten-${workers}.fifo`);
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const child = spawn(process.execPath, [MAIN, 'replay', fifo, '--json', '--workers', String(workers)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Time to start and to wait in the FIFO's open.
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = Date.now();
    child.kill('SIGINT');
    // A run that ignores the signal is ended here, so that the test fails at once and leaves nothing behind.
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(watchdog);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(code).toBe(0);
    const s = JSON.parse(stdout) as { totals: { packets: number }; interrupted: boolean };
    expect(s.totals.packets).toBe(0);
    expect(s.interrupted).toBe(true);
  });

  it('a FIFO cut inside a record: the records before it, and a truncation warning', async () => {
    const fifo = join(dir, 'cut.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const [run] = await Promise.all([replay(fifo, 0), writeSlowly(fifo, file.subarray(0, file.length - 10))]);
    expect(run.code).toBe(0);
    const s = JSON.parse(run.stdout) as { totals: { packets: number }; source: { truncated: { offset: number } | null } };
    expect(s.totals.packets).toBe(2304);
    expect(s.source.truncated).not.toBeNull();
  });
});

describe('outputs to a FIFO', () => {
  it.each(['--flows', '--alerts'])('%s FIFO no one reads: says it waits, and Ctrl-C ends the wait (exit 1, naming the FIFO)', async (option) => {
    const fifo = join(dir, `unread${option}.fifo`);
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const child = spawn(process.execPath, [MAIN, 'replay', DEMO, '--json', option, fifo], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    for (let i = 0; i < 100 && !stderr.includes('waiting for a reader'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(stderr).toContain(`portsniff: waiting for a reader of the FIFO ${fifo} (${option})`);
    const t0 = Date.now();
    child.kill('SIGINT');
    expect(await exited).toBe(1);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(stderr).toContain(`portsniff: cannot write ${fifo}: stopped while waiting for a reader of the FIFO`);
  });

  it('--flows FIFO read by a reader that comes later: every flow', async () => {
    const fifo = join(dir, 'late-reader.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const child = spawn(process.execPath, [MAIN, 'replay', DEMO, '--json', '--flows', fifo], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 500));
    const lines = spawnSync('cat', [fifo], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    expect(await exited).toBe(0);
    expect(lines).toHaveLength(91);
  });
});

describe('replay - with a regular file on stdin', () => {
  const file = readFileSync(DEMO);
  const reference = spawnSync(process.execPath, [MAIN, 'replay', DEMO, '--json', '--workers', '0'], { encoding: 'utf8' });

  function replayStdin(path: string, args: string[] = [], position = 0): { status: number | null; stdout: string; stderr: string } {
    const fd = openSync(path, 'r');
    try {
      // The child inherits the descriptor's offset: skip `position` bytes first.
      if (position > 0) spawnSync('dd', [`bs=${position}`, 'count=1', 'of=/dev/null'], { stdio: [fd, 'ignore', 'ignore'] });
      return spawnSync(process.execPath, [...args, MAIN, 'replay', '-', '--json', '--workers', '0'], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
    } finally {
      closeSync(fd);
    }
  }

  it.each(['plain', 'gzip'] as const)('%s: the same summary as the path', (kind) => {
    const path = join(dir, `stdin-${kind}.pcap`);
    writeFileSync(path, kind === 'gzip' ? gzipSync(file) : file);
    const run = replayStdin(path);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(comparable(run.stdout)).toEqual(comparable(reference.stdout!));
  });

  it('reads from where the offset stands, as a pipe would', () => {
    const run = replayStdin(DEMO, [], 100);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('<stdin>: not a pcap or pcapng capture: the first bytes are');
  });

  it('progress says how much of it is read, counted from where the offset stands (not a gzip file: its size says nothing)', () => {
    // 900 KB before the capture, skipped by `dd` as a script would: a total counted from the file's
    // start would keep every figure under 26%.
    const padded = join(dir, 'stdin-padded.bin');
    writeFileSync(padded, Buffer.concat([Buffer.alloc(900_000, 0x55), file]));
    const progressOf = (path: string, position: number): number[] => {
      const fd = openSync(path, 'r');
      try {
        if (position > 0) spawnSync('dd', [`bs=${position}`, 'count=1', 'of=/dev/null'], { stdio: [fd, 'ignore', 'ignore'] });
        const run = spawnSync(process.execPath, [MAIN, 'replay', '-', '--speed', '40x', '--json', '--workers', '0'], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
        expect(run.status, run.stderr).toBe(0);
        expect(run.stderr).toMatch(/^portsniff: \S+ packets/m);
        return [...run.stderr.matchAll(/(\d+)% of stdin, ETA/g)].map((m) => Number(m[1]));
      } finally {
        closeSync(fd);
      }
    };
    const shares = progressOf(padded, 900_000);
    expect(shares.length).toBeGreaterThan(0);
    expect(Math.max(...shares)).toBeGreaterThan(50);
    expect(Math.max(...shares)).toBeLessThanOrEqual(100);
    const gz = join(dir, 'stdin-progress.pcap.gz');
    writeFileSync(gz, gzipSync(file));
    expect(progressOf(gz, 0)).toEqual([]);
  });

  it('is read by descriptor, one chunk ahead, not as a stream', () => {
    const big = join(dir, 'stdin-big.pcap');
    writeBigCapture(big, 300_000);
    const profiles = join(dir, 'stdin-profiles');
    const run = replayStdin(big, ['--cpu-prof', '--cpu-prof-dir', profiles]);
    expect(run.status, run.stderr).toBe(0);
    const profile = readFileSync(join(profiles, readdirSync(profiles)[0]!), 'utf8');
    expect(profile).toContain('"functionName":"readFd"');
    expect(profile).not.toContain('"functionName":"readCaptureStream"');
  });
});

describe('replay - from a pipe', () => {
  const file = readFileSync(DEMO);
  const reference = spawnSync(process.execPath, [MAIN, 'replay', DEMO, '--json', '--workers', '0'], { encoding: 'utf8' });

  /** `cat path | node [nodeArgs] MAIN replay - --json --workers N`: stdin is an anonymous pipe. */
  function replayPiped(path: string, workers: number, nodeArgs: string[] = []): Promise<Run> {
    return new Promise((resolve) => {
      const p = spawn('sh', ['-c', 'f=$1; shift; cat "$f" | "$@"', 'sh', path, process.execPath, ...nodeArgs, MAIN, 'replay', '-', '--json', '--workers', String(workers)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it.each(READER_CASES)('%s bytes, --workers %i: the same summary as the file', async (kind, workers) => {
    expect(reference.status).toBe(0);
    const path = join(dir, `piped-${kind}.pcap`);
    writeFileSync(path, kind === 'gzip' ? gzipSync(file) : file);
    const run = await replayPiped(path, workers);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(comparable(run.stdout)).toEqual(comparable(reference.stdout));
  });

  /**
   * The threads (ids from the CPU profiles' names, CPU.<date>.<time>.<pid>.<thread id>.<seq>: 0 is
   * the main thread) that copied pieces out of the ring (takePiece) while a big capture was piped in.
   */
  async function threadsTakingPieces(workers: number): Promise<number[]> {
    const big = join(dir, `piped-big-${workers}.pcap`);
    writeBigCapture(big, 300_000);
    const profiles = join(dir, `piped-profiles-${workers}`);
    const run = await replayPiped(big, workers, ['--cpu-prof', '--cpu-prof-interval', '50', '--cpu-prof-dir', profiles]);
    expect(run.code, run.stderr).toBe(0);
    return readdirSync(profiles)
      .filter((f) => readFileSync(join(profiles, f), 'utf8').includes('"functionName":"takePiece"'))
      .map((f) => Number(f.split('.')[4]));
  }

  it('is drained on a thread of its own, the pieces copied out of its ring', async () => {
    expect((await threadsTakingPieces(0)).length).toBeGreaterThan(0);
  });

  it('--workers 1: the worker reads the ring itself, the main thread reads nothing', async () => {
    const takesPieces = await threadsTakingPieces(1);
    expect(takesPieces.length).toBe(1);
    expect(takesPieces[0]).toBeGreaterThan(0);
  });

  it('a terminal on stdin: a usage error at once, not a wait for bytes that never come', () => {
    // script(1) runs the CLI on a pseudo-terminal of its own: stdin is a TTY.
    const r = spawnSync('script', ['-qec', `'${process.execPath}' '${MAIN}' replay - --json`, '/dev/null'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('portsniff: stdin is a terminal, not a capture: pipe one in (tcpdump -i eth0 -w - | portsniff replay -) or name a file');
  });

  it('a writer left open and idle does not hold up the end after SIGTERM', async () => {
    const fifo = join(dir, 'idle-writer.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const input = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    // The writer that stays: open, never writing, until the end of the test.
    const idle = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    try {
      const child = spawn(process.execPath, [MAIN, 'replay', '-', '--json', '--workers', '0'], { stdio: [input, 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      expect(spawnSync('sh', ['-c', 'cat "$1" > "$2"', 'sh', DEMO, fifo]).status).toBe(0);
      // Time to read the capture; then the pipe stays open and empty.
      await new Promise((r) => setTimeout(r, 1500));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const t0 = Date.now();
      child.kill('SIGTERM');
      const code = await exited;
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(code).toBe(0);
      expect((JSON.parse(stdout) as { totals: { packets: number } }).totals.packets).toBe(2305);
    } finally {
      closeSync(idle);
      closeSync(input);
    }
  });
});
