/**
 * The cap backend against a fake binding that behaves like the real one: one reused packet Buffer,
 * 'packet' emitted synchronously, several packets per native callback.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CapSource, loadCap, type CapDevice, type CapHandle, type CapModule } from '../../../src/capture/live/cap.js';
import { LiveCaptureError } from '../../../src/capture/live/errors.js';
import type { LiveCaptureOptions } from '../../../src/capture/live/types.js';
import { readCaptureFile } from '../../../src/capture/file.js';
import { UsageError } from '../../../src/errors.js';
import { CollectingSink } from '../helpers.js';

class FakeCap extends EventEmitter implements CapHandle {
  static last: FakeCap | null = null;
  static all: FakeCap[] = [];
  static devices: CapDevice[] = [{ name: 'fake0', addresses: [] }];
  static openError: string | null = null;
  buf: Buffer | null = null;
  closed = false;
  opened: { device: string; filter: string; bufSize: number } | null = null;
  constructor() {
    super();
    FakeCap.last = this;
    FakeCap.all.push(this);
  }
  static deviceList(): CapDevice[] {
    return FakeCap.devices;
  }
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string {
    if (FakeCap.openError !== null) {
      this.opened = { device, filter, bufSize };
      throw new Error(FakeCap.openError);
    }
    this.opened = { device, filter, bufSize };
    this.buf = buffer;
    return 'ETHERNET';
  }
  close(): void {
    this.closed = true;
  }
  /** One native dispatch: every packet copied into the same buffer, 'packet' emitted synchronously. */
  dispatch(...packets: Uint8Array[]): void {
    for (const p of packets) {
      if (this.closed) return;
      const n = Math.min(p.length, this.buf!.length);
      this.buf!.set(p.subarray(0, n), 0);
      this.emit('packet', n, n < p.length);
    }
  }
}

const fakeModule: CapModule = { Cap: FakeCap as unknown as CapModule['Cap'] };
const opts = (extra: Partial<LiveCaptureOptions> = {}): LiveCaptureOptions => ({ interface: 'fake0', snaplen: 262144, promisc: true, ...extra });
const packet = (len: number, fill: number): Uint8Array => new Uint8Array(len).fill(fill);
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('CapSource (fake binding)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portsniff-cap-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('copies each packet out of the reused buffer once, and delivers after the native callback', async () => {
    const src = new CapSource(opts({ bufferSizeKiB: 1024 }), () => fakeModule);
    const sink = new CollectingSink();
    const ctl = new AbortController();
    await src.open();
    const cap = FakeCap.last!;
    expect(cap.opened).toEqual({ device: 'fake0', filter: '', bufSize: 1024 * 1024 });
    const run = src.start(sink, ctl.signal);
    await turn();
    const before = Date.now();
    cap.dispatch(packet(60, 1), packet(70, 2), packet(80, 3));
    expect(sink.frames).toHaveLength(0); // not inside the binding's callback
    await turn();
    expect(sink.frames.map((f) => [f.capLen, f.origLen, f.data[0], f.data.at(-1), f.linkType])).toEqual([
      [60, 60, 1, 1, 1],
      [70, 70, 2, 2, 1],
      [80, 80, 3, 3, 1],
    ]);
    const ts = sink.frames.map((f) => f.tsSec * 1e3 + f.tsNsec / 1e6);
    expect(ts[0]!).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
    expect(ts[1]!).toBeGreaterThanOrEqual(ts[0]!);
    expect(ts[2]!).toBeGreaterThanOrEqual(ts[1]!);
    ctl.abort();
    const r = await run;
    expect(cap.closed).toBe(true);
    expect(r.packets).toBe(3);
    expect(r.aborted).toBe(true);
    expect(r.live).toMatchObject({ backend: 'cap', interface: 'fake0', linkType: 1, snaplen: 65535, captured: 3, droppedByKernel: null, droppedByInterface: null, engineDrops: 0 });
    expect(r.live.notes.join('\n')).toMatch(/no drop statistics/);
    expect(r.info.interfaces[0]).toMatchObject({ name: 'fake0', linkType: 1, snaplen: 65535 });
  });

  it('applies a smaller --snaplen when copying out and keeps the captured length as original length', async () => {
    const src = new CapSource(opts({ snaplen: 64 }), () => fakeModule);
    const sink = new CollectingSink();
    const ctl = new AbortController();
    const run = src.start(sink, ctl.signal);
    await turn();
    FakeCap.last!.dispatch(packet(1000, 9));
    await turn();
    ctl.abort();
    const r = await run;
    expect(sink.frames.map((f) => [f.capLen, f.origLen])).toEqual([[64, 1000]]);
    expect(r.live.snaplen).toBe(64);
  });

  it('--count stops after exactly N packets, even within one dispatch', async () => {
    const src = new CapSource(opts({ count: 2 }), () => fakeModule);
    const sink = new CollectingSink();
    const run = src.start(sink, new AbortController().signal);
    await turn();
    FakeCap.last!.dispatch(packet(60, 1), packet(60, 2), packet(60, 3));
    const r = await run;
    expect(r.packets).toBe(2);
    expect(r.aborted).toBeUndefined();
    expect(sink.frames.map((f) => f.data[0])).toEqual([1, 2]);
  });

  it('keeps packets that arrive between open() and start(), across a full chunk', async () => {
    const src = new CapSource(opts(), () => fakeModule);
    await src.open();
    const big = Array.from({ length: 40 }, (_, i) => packet(60000, i));
    FakeCap.last!.dispatch(...big); // 2.4 MB: more than one 1 MiB chunk before any sink exists
    const sink = new CollectingSink();
    const ctl = new AbortController();
    const run = src.start(sink, ctl.signal);
    await turn();
    ctl.abort();
    const r = await run;
    expect(r.packets).toBe(40);
    expect(sink.frames.map((f) => f.data[0])).toEqual(big.map((_, i) => i));
  });

  it('--write saves exactly the records the parser read (a valid pcap)', async () => {
    const file = join(dir, 'cap.pcap');
    const src = new CapSource(opts({ writePath: file }), () => fakeModule);
    const sink = new CollectingSink();
    const ctl = new AbortController();
    const run = src.start(sink, ctl.signal);
    await turn();
    FakeCap.last!.dispatch(packet(100, 7), packet(42, 8));
    await turn();
    ctl.abort();
    const r = await run;
    const bytes = readFileSync(file);
    expect(bytes.length).toBe(24 + 16 + 100 + 16 + 42);
    expect(r.bytesRead).toBe(bytes.length);
    const again = new CollectingSink();
    const replay = await readCaptureFile(file, again);
    expect(replay.info.interfaces[0]).toMatchObject({ linkType: 1, snaplen: 65535 });
    expect(again.frames).toEqual(sink.frames);
  });

  it('refuses --no-promisc (the binding always sets promiscuous mode)', async () => {
    const src = new CapSource(opts({ promisc: false }), () => fakeModule);
    await expect(src.open()).rejects.toThrow(UsageError);
  });

  it('an unknown interface is one line, checked before the binding prints its own warning', async () => {
    const src = new CapSource(opts({ interface: 'nosuch0' }), () => fakeModule);
    const err = await src.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LiveCaptureError);
    expect((err as LiveCaptureError).message).toBe("cannot capture on 'nosuch0': no such interface (list them with: portsniff interfaces)");
  });

  it("an invalid filter shows libpcap's message", async () => {
    FakeCap.openError = 'syntax error';
    FakeCap.all = [];
    try {
      const src = new CapSource(opts({ filter: 'tcp[' }), () => fakeModule);
      await expect(src.open()).rejects.toThrow("invalid capture filter 'tcp[': syntax error");
      // Only the small probe was tried: a failed handle is never released, so it must be small.
      expect(FakeCap.all.map((c) => c.opened?.bufSize)).toEqual([64 * 1024]);
    } finally {
      FakeCap.openError = null;
    }
  });

  it('a filter is tried on a small probe handle, closed, before the real open', async () => {
    FakeCap.all = [];
    const src = new CapSource(opts({ filter: 'udp', bufferSizeKiB: 4096 }), () => fakeModule);
    await src.open();
    expect(FakeCap.all.map((c) => [c.opened?.filter, c.opened?.bufSize, c.closed])).toEqual([
      ['udp', 64 * 1024, true],
      ['udp', 4096 * 1024, false],
    ]);
  });
});

describe('loadCap', () => {
  it('says how to build the binding when it cannot be loaded', () => {
    const err = (() => {
      try {
        loadCap({ PORTSNIFF_CAP_MODULE: '/nonexistent/cap' });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(LiveCaptureError);
    expect((err as LiveCaptureError).message).toBe(
      "the cap backend is not available (the optional package '/nonexistent/cap' is not installed): build it with: apt-get install libpcap-dev && npm rebuild cap (run npm install first if node_modules/cap is missing)",
    );
  });
});

describe('cap and worker threads', () => {
  it('refuses to load the binding off the main thread (it would abort the process)', () => {
    expect(() => loadCap({}, false)).toThrow(/^the cap backend must run on the main thread/);
  });
});
