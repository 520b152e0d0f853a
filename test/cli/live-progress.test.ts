/**
 * Live counters while capturing: with tcpdump the kernel's drop counters come from its statistics
 * line (SIGUSR1, asked for while someone watches), so the progress line shows them during the
 * capture, not only at the end.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLiveCommand, runLive } from '../../src/cli/commands/live.js';
import type { CliIo } from '../../src/cli/io.js';
import { LineWriter } from '../../src/export/line-writer.js';
import { canCapture, freeServerPort, sendUdp } from '../capture/live/env.js';

describe('live progress line', () => {
  it('shows packets and kernel drop counters while tcpdump captures', async () => {
    if (!canCapture('tcpdump', 'live progress counters')) return;
    const dir = mkdtempSync(join(tmpdir(), 'portsniff-live-progress-'));
    try {
      const port = await freeServerPort();
      const stderr: string[] = [];
      const io: CliIo = { stdout: new LineWriter(join(dir, 'out.json')), stderr: (l) => stderr.push(l), stdin: process.stdin, isTTY: false, signal: new AbortController().signal, progress: true };
      const cmd = parseLiveCommand('lo', ['udp', 'port', String(port)], { backend: 'tcpdump', snaplen: 262144, promisc: true, duration: 5.5, json: true, maxFlows: 1000, idleTimeout: 120, activeTimeout: 0, top: 20, workers: 0, refresh: 4 }, io);
      const running = runLive(cmd, io);
      const sender = (async () => {
        for (let i = 0; i < 8; i++) {
          await sendUdp(port, 20);
          await new Promise((r) => setTimeout(r, 500));
        }
      })();
      const code = await running;
      await sender;
      io.stdout.close();
      expect(code).toBe(0);
      const progress = stderr.filter((l) => /^portsniff: \S+ packets \(/.test(l));
      expect(progress.length, stderr.join('\n')).toBeGreaterThanOrEqual(1);
      // The first line may come before tcpdump answered; a later one has the kernel's numbers.
      expect(progress.some((l) => /drops: kernel \d+, interface \d+, engine \d+/.test(l)), progress.join('\n')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
