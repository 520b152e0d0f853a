/**
 * Live-capture loss measurement on loopback (needs root): for each backend, paced UDP at rising
 * rates to 127.0.0.1, captured by portsniff's live source into a counting sink; prints sent,
 * captured, kernel drops and loss per rate, and the highest rate with zero loss. The figures in
 * docs/live-capture.md come from here.
 *
 *   npx tsx scripts/live-loss.ts [--backend tcpdump|cap|both] [--rates 5000,20000,...]
 *                                [--seconds 3] [--size 100] [--buffer-size KiB] [--snaplen N]
 *
 * Traffic stays on 127.0.0.1 and every run is bounded (rate x seconds packets). A marker packet to
 * the next port ends each run once everything before it has been seen (loopback keeps order).
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { openLiveSource } from '../src/capture/live/open.js';
import type { LiveBackendName } from '../src/capture/live/types.js';
import type { FrameSink } from '../src/capture/types.js';

/** Sender, run as a separate process so pacing does not compete with the capture's event loop. */
export const SENDER = `
const dgram = require('node:dgram');
const [port, n, rate, size, markerPort] = process.argv.slice(1).map(Number);
const s = dgram.createSocket('udp4');
const buf = Buffer.alloc(size, 0x61);
let queued = 0, ok = 0, failed = 0, done = 0;
const t0 = process.hrtime.bigint();
const cb = (err) => { if (err) failed++; else ok++; if (++done === n) finish(); };
function tick() {
  const el = Number(process.hrtime.bigint() - t0) / 1e9;
  const due = Math.min(n, Math.floor(el * rate) + 1);
  while (queued < due) { s.send(buf, port, '127.0.0.1', cb); queued++; }
  if (queued < n) setImmediate(tick);
}
function finish() {
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  s.send(Buffer.from('marker'), markerPort, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ sent: ok, failed, sec }) + '\\n');
    s.close();
  });
}
if (n === 0) finish(); else tick();
`;

export interface SendResult {
  sent: number;
  failed: number;
  sec: number;
}

export function sendPaced(port: number, n: number, rate: number, size: number, markerPort: number): Promise<SendResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', SENDER, String(port), String(n), String(rate), String(size), String(markerPort)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => (out += s));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`sender exited with ${code}`));
      resolve(JSON.parse(out) as SendResult);
    });
  });
}

/** UDP destination port of an Ethernet/IPv4 frame (lo), or -1. */
export function udpDstPort(buf: Uint8Array, off: number, capLen: number): number {
  if (capLen < 14 + 20 + 8 || buf[off + 12] !== 0x08 || buf[off + 13] !== 0x00) return -1;
  const ihl = (buf[off + 14]! & 0x0f) * 4;
  if (buf[off + 14 + 9] !== 17 || capLen < 14 + ihl + 8) return -1;
  const p = off + 14 + ihl + 2;
  return (buf[p]! << 8) | buf[p + 1]!;
}

/** Counts frames to `port`; aborts `ctl` when the marker (to `markerPort`) arrives. */
export class MarkerSink implements FrameSink {
  count = 0;
  markerSeen = false;
  constructor(
    private readonly port: number,
    private readonly markerPort: number,
    private readonly ctl: AbortController,
  ) {}
  frame(buf: Uint8Array, offset: number, capLen: number): void {
    const dst = udpDstPort(buf, offset, capLen);
    if (dst === this.port) this.count++;
    else if (dst === this.markerPort && !this.markerSeen) {
      this.markerSeen = true;
      this.ctl.abort();
    }
  }
}

export interface LossRun {
  backend: LiveBackendName;
  rate: number;
  sent: number;
  captured: number;
  droppedByKernel: number | null;
  achievedRate: number;
  markerSeen: boolean;
}

/** One bounded run: `rate` packets/s for `seconds`, captured with `backend`. */
export async function measure(
  backend: LiveBackendName,
  rate: number,
  seconds: number,
  size: number,
  opts: { bufferSizeKiB?: number; snaplen?: number } = {},
): Promise<LossRun> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const markerPort = port + 1;
  const ctl = new AbortController();
  const sink = new MarkerSink(port, markerPort, ctl);
  const source = openLiveSource(backend, {
    interface: 'lo',
    filter: `udp and (dst port ${port} or dst port ${markerPort})`,
    snaplen: opts.snaplen ?? 262_144,
    promisc: true,
    ...(opts.bufferSizeKiB !== undefined ? { bufferSizeKiB: opts.bufferSizeKiB } : {}),
  });
  await source.open();
  const capture = source.start(sink, ctl.signal);
  const n = Math.round(rate * seconds);
  const sent = await sendPaced(port, n, rate, size, markerPort);
  // The marker normally ends the capture; if it was dropped, stop after a grace period.
  const grace = setTimeout(() => ctl.abort(), 5000);
  const result = await capture;
  clearTimeout(grace);
  return {
    backend,
    rate,
    sent: sent.sent,
    captured: sink.count,
    droppedByKernel: result.live.droppedByKernel,
    achievedRate: Math.round(sent.sent / sent.sec),
    markerSeen: sink.markerSeen,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'both' },
      rates: { type: 'string', default: '5000,10000,20000,40000,60000,80000,100000,130000,160000,200000' },
      seconds: { type: 'string', default: '3' },
      size: { type: 'string', default: '100' },
      'buffer-size': { type: 'string' },
      snaplen: { type: 'string' },
    },
  });
  if (process.getuid?.() !== 0) {
    console.error('live-loss: needs root (packet capture on lo)');
    process.exit(1);
  }
  const backends: LiveBackendName[] = values.backend === 'both' ? ['tcpdump', 'cap'] : [values.backend as LiveBackendName];
  const rates = values.rates.split(',').map(Number);
  const seconds = Number(values.seconds);
  const size = Number(values.size);
  const opts: { bufferSizeKiB?: number; snaplen?: number } = {};
  if (values['buffer-size'] !== undefined) opts.bufferSizeKiB = Number(values['buffer-size']);
  if (values.snaplen !== undefined) opts.snaplen = Number(values.snaplen);
  console.log(`UDP payload ${size} bytes, ${seconds} s per rate, lo, buffer ${opts.bufferSizeKiB ?? 'default'} KiB, snaplen ${opts.snaplen ?? 'default'}`);
  console.log('backend  target/s  achieved/s      sent  captured  lost  kernel-drops');
  for (const backend of backends) {
    let best = 0;
    for (const rate of rates) {
      const r = await measure(backend, rate, seconds, size, opts);
      const lost = r.sent - r.captured;
      console.log(
        `${backend.padEnd(7)}  ${String(rate).padStart(8)}  ${String(r.achievedRate).padStart(10)}  ${String(r.sent).padStart(8)}  ${String(r.captured).padStart(8)}  ${String(lost).padStart(4)}  ${String(r.droppedByKernel ?? 'unknown').padStart(12)}`,
      );
      if (lost === 0) best = Math.max(best, r.achievedRate);
      else break;
    }
    console.log(`${backend}: highest rate with 0 loss: ${best} packets/s`);
  }
}

if (process.argv[1] !== undefined && /live-loss\.ts$/.test(process.argv[1])) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
