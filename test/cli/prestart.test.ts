/**
 * Which worker threads the CLI starts before loading itself (cli/prestart.ts): the `--workers` of
 * `replay` and `live`, else the machine's default, and none where no pipeline will run; the pipe
 * thread when a replay may read stdin's pipe or a FIFO.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { mayReadFifo, mayReadStdin, workersToPrestart } from '../../src/cli/prestart.js';

describe('workersToPrestart', () => {
  it('takes --workers of replay and live, in both spellings', () => {
    expect(workersToPrestart(['replay', 'f.pcap', '--workers', '1'], 2)).toBe(1);
    expect(workersToPrestart(['replay', '--workers=3', 'f.pcap'], 2)).toBe(3);
    expect(workersToPrestart(['live', 'eth0', '--workers', '2', '--json'], 8)).toBe(2);
    expect(workersToPrestart(['replay', 'f.pcap', '--workers', '0'], 8)).toBe(0);
  });

  it("uses the machine's default without --workers (in-process on 2 cores)", () => {
    expect(workersToPrestart(['replay', 'f.pcap'], 2)).toBe(0);
    expect(workersToPrestart(['replay', 'f.pcap'], 4)).toBe(3);
    expect(workersToPrestart(['live', 'eth0'], 16)).toBe(4);
  });

  it('starts nothing for other commands, help, or values commander will refuse', () => {
    expect(workersToPrestart([], 8)).toBe(0);
    expect(workersToPrestart(['--version'], 8)).toBe(0);
    expect(workersToPrestart(['rules', 'explain', 'tcp/8443'], 8)).toBe(0);
    expect(workersToPrestart(['proxy', '--map', '1=2'], 8)).toBe(0);
    expect(workersToPrestart(['help', 'replay'], 8)).toBe(0);
    expect(workersToPrestart(['replay', '--help'], 8)).toBe(0);
    expect(workersToPrestart(['replay', 'f.pcap', '-h', '--workers', '2'], 8)).toBe(0);
    expect(workersToPrestart(['replay', 'f.pcap', '--workers', 'two'], 8)).toBe(0);
    expect(workersToPrestart(['replay', 'f.pcap', '--workers', '-1'], 8)).toBe(0);
    expect(workersToPrestart(['replay', 'f.pcap', '--workers', '999'], 8)).toBe(0);
    expect(workersToPrestart(['replay', 'f.pcap', '--workers'], 8)).toBe(0);
  });

  it('stops at -- (what follows is not an option)', () => {
    expect(workersToPrestart(['live', 'eth0', '--', '--workers', '2'], 2)).toBe(0);
  });
});

describe('mayReadStdin', () => {
  it('a replay with - among its arguments, also after --', () => {
    expect(mayReadStdin(['replay', '-'])).toBe(true);
    expect(mayReadStdin(['replay', '--json', '-', '--workers', '0'])).toBe(true);
    expect(mayReadStdin(['replay', '--', '-'])).toBe(true);
    // A wrong guess, and a harmless one: the thread reads nothing until a stdin read takes it.
    expect(mayReadStdin(['replay', 'f.pcap', '--flows', '-'])).toBe(true);
  });

  it('nothing else', () => {
    expect(mayReadStdin([])).toBe(false);
    expect(mayReadStdin(['replay', 'f.pcap', '--json'])).toBe(false);
    expect(mayReadStdin(['live', 'lo', '--flows', '-'])).toBe(false);
    expect(mayReadStdin(['replay', '-h', '-'])).toBe(false);
    expect(mayReadStdin(['replay', '--', 'f.pcap'])).toBe(false);
  });
});

describe('mayReadFifo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portsniff-prestart-fifo-'));
  const fifo = join(dir, 'in.fifo');
  const file = join(dir, 'f.pcap');
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  writeFileSync(file, '');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a replay with an argument naming a FIFO', () => {
    expect(mayReadFifo(['replay', fifo])).toBe(true);
    expect(mayReadFifo(['replay', '--json', fifo, '--workers', '1'])).toBe(true);
    // The wrong guess: a FIFO that is not the capture.
    expect(mayReadFifo(['replay', file, '--flows', fifo])).toBe(true);
  });

  it('nothing else', () => {
    expect(mayReadFifo(['replay', file, '--json'])).toBe(false);
    expect(mayReadFifo(['replay', '-'])).toBe(false);
    expect(mayReadFifo(['live', 'lo', '--flows', fifo])).toBe(false);
    expect(mayReadFifo(['replay', '-h', fifo])).toBe(false);
    expect(mayReadFifo(['replay', join(dir, 'missing')])).toBe(false);
  });
});

describe('the built CLI starts its worker before loading itself', () => {
  it('replay --workers 1: one worker thread, started before the session could have started it, and used by it', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const profiles = mkdtempSync(join(tmpdir(), 'portsniff-prestart-'));
    try {
      const r = spawnSync(
        process.execPath,
        ['--cpu-prof', '--cpu-prof-dir', profiles, join(root, 'dist/cli/main.js'), 'replay', join(root, 'fixtures/captures/demo.pcap'), '--json', '--workers', '1'],
        { encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { totals: { packets: number } }).totals.packets).toBe(2305);
      // One profile per thread: the main thread and exactly one worker (not a prestarted one left
      // idle and another started by the pipeline).
      const files = readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile')).sort();
      expect(files).toHaveLength(2);
      const [main, worker] = files.map((f) => JSON.parse(readFileSync(join(profiles, f), 'utf8')) as CpuProfile);
      // The worker's thread was running before the session could have started it: the pipeline takes
      // its worker after the rules are loaded (runSession, then createPipeline). The last sample in
      // the rules' loading bounds that moment from below; the session's first sample would too, but
      // the CLI reaches it sooner than a thread boots on a loaded machine.
      const rulesLoadedBy = lastSampleIn(main!, 'loadRuleDirs');
      expect(rulesLoadedBy).not.toBeNull();
      // (The same sample when the rules load within one sampling interval: a cached load often does.)
      expect(firstSampleIn(main!, 'runSession')).toBeLessThanOrEqual(rulesLoadedBy!);
      expect(worker!.startTime).toBeLessThan(rulesLoadedBy!);
      expect(firstSampleIn(worker!, 'readCaptureFile')).not.toBeNull();
    } finally {
      rmSync(profiles, { recursive: true, force: true });
    }
  });

  it('replay - from a pipe: the thread draining it is started at entry and is the one used', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const demo = join(root, 'fixtures/captures/demo.pcap');
    /** Threads that wrote a CPU profile (the main one included) for `cat demo | node MAIN ARGS`. */
    const threads = (args: string[]): number => {
      const profiles = mkdtempSync(join(tmpdir(), 'portsniff-prestart-pipe-'));
      try {
        const r = spawnSync('sh', ['-c', 'f=$1; shift; cat "$f" | "$@" > /dev/null', 'sh', demo, process.execPath, '--cpu-prof', '--cpu-prof-dir', profiles, join(root, 'dist/cli/main.js'), ...args], {
          encoding: 'utf8',
        });
        expect(r.status, r.stderr).toBe(0);
        return readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile')).length;
      } finally {
        rmSync(profiles, { recursive: true, force: true });
      }
    };
    // Reading the pipe: the main thread and exactly one more (a thread started at entry and then
    // another by the session would be two more).
    expect(threads(['replay', '-', '--json', '--workers', '0'])).toBe(2);
    // A '-' that is not the capture (the wrong guess): the session starts no thread, yet there is
    // one, idle: the entry started it. (Paced to last ~2 s: a thread still booting when the process
    // exits writes no profile.)
    expect(threads(['replay', demo, '--json', '--workers', '0', '--speed', '50x', '--flows', '-'])).toBe(2);
  });

  it('replay of a FIFO path: the thread is started at entry too', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const demo = join(root, 'fixtures/captures/demo.pcap');
    const work = mkdtempSync(join(tmpdir(), 'portsniff-prestart-fifo-run-'));
    try {
      const fifo = join(work, 'flows.fifo');
      const profiles = join(work, 'profiles');
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      // A FIFO named that is not the capture (the wrong guess: the flow log goes there, read by
      // cat): the session starts no pipe thread, yet there is one, idle, started at entry. Paced
      // to last ~2 s, so that the idle thread has booted and writes its profile.
      const r = spawnSync(
        'sh',
        ['-c', 'cat "$1" > /dev/null & shift; "$@" > /dev/null; wait', 'sh', fifo, process.execPath, '--cpu-prof', '--cpu-prof-dir', profiles, join(root, 'dist/cli/main.js'), 'replay', demo, '--json', '--workers', '0', '--speed', '50x', '--flows', fifo],
        { encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile')).length).toBe(2);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

interface CpuProfile {
  startTime: number;
  nodes: { id: number; callFrame: { functionName: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** The times (the profile's clock, µs) of the samples with function `name` on their stack, in order. */
function sampleTimesIn(p: CpuProfile, name: string): number[] {
  const parent = new Map<number, number>();
  const nameOf = new Map<number, string>();
  for (const n of p.nodes) {
    nameOf.set(n.id, n.callFrame.functionName);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const times: number[] = [];
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    for (let id: number | undefined = p.samples[i]; id !== undefined; id = parent.get(id)) {
      if (nameOf.get(id) === name) {
        times.push(t);
        break;
      }
    }
  }
  return times;
}

function firstSampleIn(p: CpuProfile, name: string): number | null {
  return sampleTimesIn(p, name)[0] ?? null;
}

function lastSampleIn(p: CpuProfile, name: string): number | null {
  return sampleTimesIn(p, name).at(-1) ?? null;
}
