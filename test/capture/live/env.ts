/**
 * What the live-capture tests need from the machine, checked once; every skip says why, visibly.
 * CI runs as root on Linux with tcpdump, redis-server and the cap binding (scripts/setup.sh).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import { accessSync, constants } from 'node:fs';
import * as net from 'node:net';
import { delimiter, join } from 'node:path';
import { loadCap } from '../../../src/capture/live/cap.js';
import { findTcpdump } from '../../../src/capture/live/tcpdump.js';

export const IS_ROOT = process.getuid?.() === 0;
export const TCPDUMP = findTcpdump();

export function which(cmd: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return join(dir, cmd);
    } catch {
      /* next */
    }
  }
  return null;
}

function capLoads(): boolean {
  try {
    loadCap();
    return true;
  } catch {
    return false;
  }
}
export const CAP_OK = capLoads();

/**
 * Whether `backend` can capture here; prints a visible SKIPPED line naming `what` when it cannot
 * (not root, tcpdump missing, cap not built).
 */
export function canCapture(backend: 'tcpdump' | 'cap', what: string): boolean {
  const why = !IS_ROOT
    ? 'not root (live capture on lo needs root; CI runs these as root)'
    : backend === 'tcpdump' && TCPDUMP === null
      ? 'tcpdump is not installed (scripts/setup.sh installs it)'
      : backend === 'cap' && !CAP_OK
        ? 'the cap binding is not built (apt-get install libpcap-dev && npm rebuild cap)'
        : null;
  if (why !== null) console.warn(`SKIPPED ${what} with ${backend}: ${why}`);
  return why === null;
}

/** A TCP port nobody listens on, in [lo, hi). */
export async function freeTcpPort(lo: number, hi: number, accept: (port: number) => boolean = () => true): Promise<number> {
  for (let i = 0; i < 50; i++) {
    let port = lo + Math.floor(Math.random() * (hi - lo));
    for (let tries = 0; !accept(port) && tries < 1000; tries++) port = lo + Math.floor(Math.random() * (hi - lo));
    if (!accept(port)) continue;
    const ok = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`no free TCP port in ${lo}-${hi}`);
}

/** Resolves with the first stderr/stdout line matching `re` (rejects if the process exits first). */
export function waitForLine(child: ChildProcess, re: RegExp, streams: Array<'stdout' | 'stderr'> = ['stderr']): Promise<string> {
  return new Promise((resolve, reject) => {
    let done = false;
    const seen: string[] = [];
    for (const name of streams) {
      let buf = '';
      child[name]!.setEncoding('utf8');
      child[name]!.on('data', (s: string) => {
        buf += s;
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const line of lines) {
          seen.push(line);
          if (!done && re.test(line)) {
            done = true;
            resolve(line);
          }
        }
      });
    }
    child.once('exit', (code) => {
      if (!done) reject(new Error(`process exited (${code}) before printing ${re}; it said:\n${seen.join('\n')}`));
    });
  });
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Sends `n` UDP datagrams to 127.0.0.1:port from one socket; resolves once the kernel took them all. */
/**
 * A free port in 30000-32767 for a test's receiving side: below Linux's ephemeral range and no
 * shipped rule documents it, so the flow table always makes the receiver the server (the sender's
 * port, see sendUdp, ranks lower). Ports in 40000-49999 made that a coin toss: a sender port
 * below the receiver's registered one (or on a documented port) flipped client and server.
 */
export function freeServerPort(): Promise<number> {
  return freeTcpPort(30000, 32767);
}

/**
 * Sends n datagrams to 127.0.0.1:port from a source port in 49152-60999 (IANA dynamic, not
 * documented by any rule), so the receiver is the server whatever the kernel would have picked.
 */
export async function sendUdp(port: number, n: number, payload = 'portsniff-test'): Promise<void> {
  const s = await boundUdpSocket(49152, 60999);
  try {
    for (let i = 0; i < n; i++) {
      await new Promise<void>((resolve, reject) => s.send(Buffer.from(`${payload}-${i}`), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    }
  } finally {
    s.close();
  }
}

async function boundUdpSocket(lo: number, hi: number): Promise<dgram.Socket> {
  for (let i = 0; i < 50; i++) {
    const s = dgram.createSocket('udp4');
    const port = lo + Math.floor(Math.random() * (hi - lo));
    const ok = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) return s;
    s.close();
  }
  throw new Error(`no free UDP port in ${lo}-${hi}`);
}

/** Starts redis-server on 127.0.0.1:port without persistence; resolves when it accepts connections. */
export async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitForLine(child, /Ready to accept connections/, ['stdout', 'stderr']);
  return child;
}
