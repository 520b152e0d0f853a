import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listInterfaces, openLiveSource, parseTcpdumpD } from '../../../src/capture/live/open.js';
import { defaultBufferKiB, linkTypeFromCapName, linkTypeFromDltName, linkTypeHint } from '../../../src/capture/live/link-types.js';
import { LiveCaptureError } from '../../../src/capture/live/errors.js';
import type { LiveCaptureOptions } from '../../../src/capture/live/types.js';

// `tcpdump -D` of tcpdump 4.99.3 on Debian 12.
const TCPDUMP_D = `1.eth0 [Up, Running, Connected]
2.any (Pseudo-device that captures on all interfaces) [Up, Running]
3.lo [Up, Running, Loopback]
4.ifb0 [none]
7.nflog (Linux netfilter log (NFLOG) interface) [none]
9.dbus-system (D-Bus system bus) [none]
`;

const opts: LiveCaptureOptions = { interface: 'lo', snaplen: 262144, promisc: true };
const missingBoth = { PATH: '/nonexistent', PORTSNIFF_TCPDUMP: '/nonexistent/tcpdump', PORTSNIFF_CAP_MODULE: '/nonexistent/cap' };

describe('parseTcpdumpD', () => {
  it('reads names, descriptions (with parentheses) and flags', () => {
    const list = parseTcpdumpD(TCPDUMP_D, 'tcpdump');
    expect(list.map((i) => [i.name, i.description, i.flags])).toEqual([
      ['eth0', null, ['up', 'running', 'connected']],
      ['any', 'Pseudo-device that captures on all interfaces', ['up', 'running']],
      ['lo', null, ['up', 'running', 'loopback']],
      ['ifb0', null, []],
      ['nflog', 'Linux netfilter log (NFLOG) interface', []],
      ['dbus-system', 'D-Bus system bus', []],
    ]);
    expect(list.find((i) => i.name === 'any')!.linkType).toBe(276);
    expect(list.find((i) => i.name === 'nflog')!.linkType).toBe(239);
  });
});

describe('link types', () => {
  it('maps DLT names and the binding\'s names to LINKTYPE_ numbers', () => {
    expect(linkTypeFromDltName('EN10MB')).toBe(1);
    expect(linkTypeFromDltName('LINUX_SLL2')).toBe(276);
    expect(linkTypeFromDltName('WHATEVER')).toBe(-1);
    expect(linkTypeFromCapName('ETHERNET')).toBe(1);
    expect(linkTypeFromCapName('LINKTYPE_LINUX_SLL')).toBe(113);
    expect(linkTypeFromCapName('RAW')).toBe(101);
    expect(linkTypeFromCapName('Unknown linktype 276')).toBe(276);
  });

  it('any is SLL2 with tcpdump and SLL with cap', () => {
    expect(linkTypeHint('any', 'tcpdump')).toBe(276);
    expect(linkTypeHint('any', 'cap')).toBe(113);
  });

  it.skipIf(!existsSync('/sys/class/net/lo'))('lo is Ethernet on Linux', () => {
    expect(linkTypeHint('lo', 'tcpdump')).toBe(1);
  });

  it.skipIf(!existsSync('/sys/class/net/lo'))('the default buffer holds 2048 frames: 256 MiB on lo (MTU 65536), 64 MiB otherwise', () => {
    expect(defaultBufferKiB('lo')).toBe(262144);
    expect(defaultBufferKiB('any')).toBe(262144);
    expect(defaultBufferKiB('nosuch0')).toBe(65536);
  });
});

describe('openLiveSource', () => {
  it('--backend tcpdump without tcpdump says how to install it', () => {
    expect(() => openLiveSource('tcpdump', opts, missingBoth)).toThrow(/^tcpdump is not found at \/nonexistent\/tcpdump/);
  });

  it('--backend cap without the binding says how to build it', () => {
    expect(() => openLiveSource('cap', opts, missingBoth)).toThrow(/apt-get install libpcap-dev && npm rebuild cap/);
  });

  it('auto with neither names both fixes in one line', () => {
    let err: unknown = null;
    try {
      openLiveSource('auto', opts, missingBoth);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LiveCaptureError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toMatch(/^no live-capture backend: tcpdump is not found/);
    expect(msg).toMatch(/npm rebuild cap/);
    expect(msg).toMatch(/apt-get install tcpdump/);
  });

  it('--backend tcpdump with a PORTSNIFF_TCPDUMP that exists picks tcpdump', () => {
    expect(openLiveSource('auto', opts, { PATH: '/nonexistent', PORTSNIFF_TCPDUMP: '/bin/sh' }).backend).toBe('tcpdump');
  });
});

describe('listInterfaces', () => {
  it.skipIf(!existsSync('/sys/class/net'))('falls back to /sys/class/net when no backend is there', () => {
    const list = listInterfaces('auto', missingBoth);
    expect(list.source).toBe('/sys/class/net');
    expect(list.interfaces.map((i) => i.name)).toContain('lo');
  });
});
