/**
 * Backend choice (`--backend auto|tcpdump|cap`) and `portsniff interfaces`.
 *
 * auto = tcpdump when it is installed (lossless up to the highest rates measured, kernel drop
 * counts), else cap when it is built, else one line saying how to get either.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { CapSource, loadCap, type CapModule } from './cap.js';
import { LiveCaptureError } from './errors.js';
import { linkTypeHint } from './link-types.js';
import { TcpdumpSource, findTcpdump, tcpdumpMissingError } from './tcpdump.js';
import type { LiveBackendChoice, LiveBackendName, LiveCaptureOptions, LiveSource } from './types.js';

/** Creates the source for `choice`; throws a one-line LiveCaptureError when that backend is unavailable. */
export function openLiveSource(choice: LiveBackendChoice, opts: LiveCaptureOptions, env: NodeJS.ProcessEnv = process.env): LiveSource {
  if (choice === 'tcpdump') {
    const bin = findTcpdump(env);
    if (bin === null) throw tcpdumpMissingError(env);
    return new TcpdumpSource(opts, bin);
  }
  if (choice === 'cap') {
    const mod = loadCap(env);
    return new CapSource(opts, () => mod);
  }
  const bin = findTcpdump(env);
  if (bin !== null) return new TcpdumpSource(opts, bin);
  let mod: CapModule;
  try {
    mod = loadCap(env);
  } catch (err) {
    const capWhy = err instanceof Error ? err.message.replace(/^the cap backend is /, '') : String(err);
    throw new LiveCaptureError(
      'backend-missing',
      `no live-capture backend: ${tcpdumpMissingError(env).message.replace(/: install it.*$/, '')}, and the cap backend is ${capWhy}; or install tcpdump (apt-get install tcpdump)`,
    );
  }
  return new CapSource(opts, () => mod);
}

export interface InterfaceInfo {
  name: string;
  /** libpcap's description (pseudo-devices), or null. */
  description: string | null;
  /** State words as the source gives them: up, running, loopback, connected, wireless, ... */
  flags: string[];
  /** The LINKTYPE_ a capture on it will most likely have, or null when unknown. */
  linkType: number | null;
}

export interface InterfaceList {
  /** Where the list came from. */
  source: 'tcpdump -D' | 'cap' | '/sys/class/net';
  /** The backend the link-type hints are for. */
  backend: LiveBackendName;
  interfaces: InterfaceInfo[];
}

/**
 * Lists capture devices: `tcpdump -D` when tcpdump is there (same names and order libpcap uses),
 * else the cap binding's device list, else /sys/class/net.
 */
export function listInterfaces(choice: LiveBackendChoice = 'auto', env: NodeJS.ProcessEnv = process.env): InterfaceList {
  if (choice !== 'cap') {
    const bin = findTcpdump(env);
    if (bin !== null) {
      const r = spawnSync(bin, ['-D'], { encoding: 'utf8', timeout: 10_000 });
      if (r.status === 0 && typeof r.stdout === 'string') {
        return { source: 'tcpdump -D', backend: 'tcpdump', interfaces: parseTcpdumpD(r.stdout, 'tcpdump') };
      }
    } else if (choice === 'tcpdump') {
      throw tcpdumpMissingError(env);
    }
  }
  if (choice !== 'tcpdump') {
    try {
      const mod = loadCap(env);
      const devices = mod.Cap.deviceList();
      return {
        source: 'cap',
        backend: 'cap',
        interfaces: devices.map((d) => ({
          name: d.name,
          description: d.description ?? null,
          flags: d.flags === undefined ? [] : d.flags.split(/[|, ]+/).filter(Boolean).map((f) => f.replace(/^PCAP_IF_/, '').toLowerCase()),
          linkType: linkTypeHint(d.name, 'cap'),
        })),
      };
    } catch (err) {
      if (choice === 'cap') throw err;
    }
  }
  return { source: '/sys/class/net', backend: 'tcpdump', interfaces: sysfsInterfaces() };
}

/** "3.lo [Up, Running, Loopback]", "2.any (Pseudo-device that captures on all interfaces) [Up, Running]". */
export function parseTcpdumpD(text: string, backend: LiveBackendName): InterfaceInfo[] {
  const out: InterfaceInfo[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+\.(\S+)(?: \((.*)\))?(?: \[([^\]]*)\])?\s*$/.exec(line.trim());
    if (m === null) continue;
    const name = m[1]!;
    const flags = (m[3] ?? '')
      .split(',')
      .map((f) => f.trim().toLowerCase())
      .filter((f) => f !== '' && f !== 'none');
    out.push({ name, description: m[2] ?? null, flags, linkType: linkTypeHint(name, backend) });
  }
  return out;
}

function sysfsInterfaces(): InterfaceInfo[] {
  let names: string[];
  try {
    names = fs.readdirSync('/sys/class/net').sort();
  } catch {
    return [];
  }
  return names.map((name) => {
    const flags: string[] = [];
    try {
      const state = fs.readFileSync(`/sys/class/net/${name}/operstate`, 'utf8').trim();
      if (state !== '') flags.push(state);
    } catch {
      /* no state */
    }
    return { name, description: null, flags, linkType: linkTypeHint(name, 'tcpdump') };
  });
}
