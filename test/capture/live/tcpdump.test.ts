import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  emptyTcpdumpStats,
  findTcpdump,
  parseListeningLine,
  parseTcpdumpStatsLine,
  tcpdumpArgs,
  tcpdumpMissingError,
} from '../../../src/capture/live/tcpdump.js';
import type { LiveCaptureOptions } from '../../../src/capture/live/types.js';

const base: LiveCaptureOptions = { interface: 'eth0', snaplen: 262144, promisc: true };

describe('tcpdumpArgs', () => {
  it('spawns the documented command line, with the 64 MiB buffer by default', () => {
    expect(tcpdumpArgs(base)).toEqual(['-i', 'eth0', '-w', '-', '-U', '--immediate-mode', '-n', '-s', '262144', '-B', '65536']);
  });

  it('adds -B, -p, -c and the filter as one argument', () => {
    expect(tcpdumpArgs({ ...base, bufferSizeKiB: 4096, promisc: false, count: 10, filter: 'tcp port 6379' })).toEqual([
      '-i', 'eth0', '-w', '-', '-U', '--immediate-mode', '-n', '-s', '262144', '-B', '4096', '-p', '-c', '10', 'tcp port 6379',
    ]);
  });

  it('leaves a blank filter out', () => {
    expect(tcpdumpArgs({ ...base, filter: '  ' })).not.toContain('  ');
  });
});

describe('parseTcpdumpStatsLine', () => {
  it('reads the one-line SIGUSR1 form', () => {
    const s = emptyTcpdumpStats();
    expect(parseTcpdumpStatsLine('tcpdump: 3 packets captured, 6 packets received by filter, 0 packets dropped by kernel', s)).toBe(true);
    expect(s).toEqual({ captured: 3, receivedByFilter: 6, droppedByKernel: 0, droppedByInterface: null });
  });

  it('reads the multi-line exit form, singulars and the interface line', () => {
    const s = emptyTcpdumpStats();
    for (const line of ['1 packet captured', '2 packets received by filter', '1 packet dropped by kernel', '7 packets dropped by interface']) {
      expect(parseTcpdumpStatsLine(line, s)).toBe(true);
    }
    expect(s).toEqual({ captured: 1, receivedByFilter: 2, droppedByKernel: 1, droppedByInterface: 7 });
  });

  it('never lowers a counter (an earlier SIGUSR1 line arriving after the exit lines)', () => {
    const s = emptyTcpdumpStats();
    parseTcpdumpStatsLine('10 packets captured', s);
    parseTcpdumpStatsLine('tcpdump: 9 packets captured, 18 packets received by filter, 2 packets dropped by kernel', s);
    expect(s.captured).toBe(10);
    expect(s.droppedByKernel).toBe(2);
  });

  it('ignores other lines', () => {
    const s = emptyTcpdumpStats();
    expect(parseTcpdumpStatsLine('tcpdump: listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes', s)).toBe(false);
    expect(s).toEqual(emptyTcpdumpStats());
  });
});

describe('parseListeningLine', () => {
  it('reads tcpdump 4.99 and older wording', () => {
    expect(parseListeningLine('tcpdump: listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes')).toEqual({
      iface: 'lo',
      dltName: 'EN10MB',
      snaplen: 262144,
    });
    expect(parseListeningLine('tcpdump: listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 65535 bytes')?.dltName).toBe('LINUX_SLL2');
    expect(parseListeningLine('tcpdump: listening on eth0, link-type EN10MB (Ethernet), capture size 65535 bytes')?.snaplen).toBe(65535);
    expect(parseListeningLine('tcpdump: lo: No such device exists')).toBeNull();
  });
});

describe('findTcpdump', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portsniff-find-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds an executable tcpdump in PATH, and PORTSNIFF_TCPDUMP wins', () => {
    const fake = join(dir, 'tcpdump');
    writeFileSync(fake, '#!/bin/sh\n');
    chmodSync(fake, 0o755);
    expect(findTcpdump({ PATH: `/nonexistent:${dir}` })).toBe(fake);
    expect(findTcpdump({ PATH: dir, PORTSNIFF_TCPDUMP: '/nonexistent/tcpdump' })).toBeNull();
    expect(findTcpdump({ PATH: '/nonexistent', PORTSNIFF_TCPDUMP: fake })).toBe(fake);
  });

  it('skips a file that is not executable', () => {
    const sub = mkdtempSync(join(dir, 'noexec-'));
    writeFileSync(join(sub, 'tcpdump'), '');
    chmodSync(join(sub, 'tcpdump'), 0o644);
    const found = findTcpdump({ PATH: sub });
    expect(found).not.toBe(join(sub, 'tcpdump'));
  });

  it('says how to install tcpdump when it is missing', () => {
    expect(tcpdumpMissingError({ PATH: '/nonexistent' }).message).toBe(
      'tcpdump is not installed (not in PATH, /usr/sbin or /sbin): install it (apt-get install tcpdump) or use --backend cap',
    );
    expect(tcpdumpMissingError({ PORTSNIFF_TCPDUMP: '/opt/x/tcpdump' }).message).toMatch(/^tcpdump is not found at \/opt\/x\/tcpdump \(PORTSNIFF_TCPDUMP\)/);
  });
});
