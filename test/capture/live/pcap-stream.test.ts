import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapStreamFeeder, openWriteFile } from '../../../src/capture/live/pcap-stream.js';
import { buildPcap } from '../../../src/capture/pcap-writer.js';
import { CollectingSink } from '../helpers.js';

const file = buildPcap(
  Array.from({ length: 5 }, (_, i) => ({ tsSec: 1_700_000_000 + i, tsFrac: i * 10, data: new Uint8Array(40 + i * 7).fill(i + 1) })),
  { linkType: 1, snaplen: 262144 },
);

describe('PcapStreamFeeder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portsniff-feed-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([1, 3, 16, 17, 64, file.length])('delivers every record whatever the chunk size (%i) and tees the exact bytes', (size) => {
    const out = join(dir, `tee-${size}.pcap`);
    const fd = openSync(out, 'w');
    const sink = new CollectingSink();
    const feeder = new PcapStreamFeeder(sink, 'test', { fd, path: out });
    for (let p = 0; p < file.length; p += size) {
      // A fresh chunk each time, as a pipe hands them out.
      const chunk = Uint8Array.from(file.subarray(p, Math.min(file.length, p + size)));
      feeder.push(chunk, 0, chunk.length);
    }
    feeder.finish();
    closeSync(fd);
    expect(sink.frames.map((f) => [f.capLen, f.data[0], f.tsSec, f.tsNsec])).toEqual(
      Array.from({ length: 5 }, (_, i) => [40 + i * 7, i + 1, 1_700_000_000 + i, i * 10_000]),
    );
    expect(Buffer.compare(readFileSync(out), Buffer.from(file))).toBe(0);
    const r = feeder.result();
    expect(r).toMatchObject({ packets: 5, bytesRead: file.length, skippedBlocks: 0 });
    expect(r.truncated).toBeUndefined();
  });

  it('hands frames on in a plain Uint8Array when the pipe gives Buffers (one array type for the decoders)', () => {
    const kinds = new Set<unknown>();
    const feeder = new PcapStreamFeeder({ frame: (buf: Uint8Array) => void kinds.add(Object.getPrototypeOf(buf)) } as unknown as CollectingSink, 'test', null);
    const whole = Buffer.from(file);
    const firstEnd = 24 + 16 + 40; // file header + the first record: parsed in place
    feeder.push(whole.subarray(0, firstEnd), 0, firstEnd);
    feeder.push(whole.subarray(firstEnd, firstEnd + 30), 0, 30); // a cut record: the tail path
    feeder.push(whole.subarray(firstEnd + 30), 0, whole.length - firstEnd - 30);
    feeder.finish();
    expect(feeder.packets).toBe(5);
    expect([...kinds].map((k) => (k === Uint8Array.prototype ? 'Uint8Array' : 'other'))).toEqual(['Uint8Array']);
  });

  it('a stream cut inside a record is a truncation warning, not an error', () => {
    const sink = new CollectingSink();
    const feeder = new PcapStreamFeeder(sink, 'cut', null);
    feeder.push(file, 0, file.length - 5);
    feeder.finish();
    expect(sink.frames).toHaveLength(4);
    expect(feeder.result().truncated?.message).toBeTruthy();
  });

  it('an empty stream (the backend stopped before its header) is not an error', () => {
    const feeder = new PcapStreamFeeder(new CollectingSink(), 'empty', null);
    feeder.finish();
    expect(feeder.result()).toMatchObject({ packets: 0, bytesRead: 0 });
  });

  it('openWriteFile says why in one line', () => {
    expect(() => openWriteFile('/nonexistent-dir/x.pcap')).toThrow('cannot create --write file /nonexistent-dir/x.pcap: no such directory');
  });
});
