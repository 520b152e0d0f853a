/**
 * decodePlain (decode/plain.ts) against the general decoder: whenever it accepts a frame, every
 * field a flow reads is what decode() gives; it accepts the common frames and leaves everything
 * else (tunnels, fragments, anomalies, other link types) to decode().
 */
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as B from '../../fixtures/gen/packet-builder.js';
import { PacketDecoder } from '../../src/decode/decoder.js';
import { DecodedPacket } from '../../src/decode/types.js';
import { CORPUS_DIR, readCaptureFile, TUNNEL_CORPUS_DIR } from './capture-files.js';
import { TEST_FRAMES } from './frames.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RUNS = process.env['CI'] === 'true' ? 5000 : 1000;

/** Every field of the packet except those nothing reads when innerKind and quotedValid are 0. */
function seen(p: DecodedPacket): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (k === 'tunnels' || k.startsWith('quoted') && k !== 'quotedValid' || k.startsWith('inner') && k !== 'innerKind') continue;
    out[k] = v;
  }
  return out;
}

/** An ICMP error on VLAN 9 quoting a TCP packet: it leaves many fields set in a decoder. */
const DIRTY = B.ipv4IcmpError({
  src: '192.0.2.254', dst: '10.0.0.1', vlan: [9], type: 11, code: 0,
  quoted: B.ipv4Packet({ src: '10.0.0.1', dst: '10.0.0.2' }, B.PROTO.TCP, B.tcpSegment({ sport: 1, dport: 2, flags: 'A' })),
});

/** Decodes with both; returns whether decodePlain accepted (and checks it agreed). */
function agree(plain: PacketDecoder, full: PacketDecoder, buf: Uint8Array, offset: number, capLen: number, origLen: number, linkType: number): boolean {
  // A used decoder: stale fields from an unrelated packet must not leak through.
  plain.decode(DIRTY, 0, DIRTY.length, DIRTY.length, 1);
  const p = plain.decodePlain(buf, offset, capLen, origLen, linkType);
  if (p === null) return false;
  const f = full.decode(buf, offset, capLen, origLen, linkType);
  expect(seen(p)).toEqual(seen(f));
  expect(full.next()).toBeNull();
  return true;
}

describe('decodePlain', () => {
  it('agrees with decode() on every built test frame it accepts, and accepts the plain ones', () => {
    for (const decap of [undefined, { mode: 'off' as const }]) {
      const plain = new PacketDecoder(decap);
      const full = new PacketDecoder(decap);
      let accepted = 0;
      for (const t of TEST_FRAMES) {
        if (agree(plain, full, t.frame, 0, t.frame.length, t.frame.length, t.linkType)) accepted++;
        // Cut by the capture at every length: accepted only when decode() would give the same.
        for (let n = 0; n < t.frame.length; n++) agree(plain, full, t.frame, 0, n, t.frame.length, t.linkType);
      }
      expect(accepted).toBeGreaterThan(0);
    }
  });

  it('accepts Ethernet (0-2 VLAN tags) IPv4/IPv6 TCP/UDP, not fragments, tunnels, other framings or a third tag', () => {
    const dec = new PacketDecoder();
    const ok = (f: Uint8Array, link = 1) => dec.decodePlain(f, 0, f.length, f.length, link) !== null;
    const tcp = { sport: 40000, dport: 443, flags: 'PA', seq: 1, ack: 2, payload: 'x' };
    expect(ok(B.ipv4Tcp({ src: '10.0.0.1', dst: '192.168.0.2', ...tcp }))).toBe(true);
    expect(ok(B.ipv6Udp({ src: '2001:db8::1', dst: '2001:db8::2', sport: 5000, dport: 53, payload: 'q' }))).toBe(true);
    expect(ok(B.ipv4Tcp({ src: '10.0.0.1', dst: '10.0.0.2', vlan: [10, 20], ...tcp }))).toBe(true);
    expect(ok(B.ipv4Tcp({ src: '10.0.0.1', dst: '10.0.0.2', vlan: [10, 20, 30], ...tcp }))).toBe(false);
    expect(ok(B.ipv4Tcp({ src: '10.0.0.1', dst: '10.0.0.2', link: 'sll', ...tcp }), B.linkTypeOf('sll'))).toBe(false);
    expect(ok(B.ipv4Udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 5000, dport: 4789, payload: 'vxlan?' }))).toBe(false);
    expect(new PacketDecoder({ mode: 'off' }).decodePlain(...((f) => [f, 0, f.length, f.length, 1] as const)(B.ipv4Udp({ src: '10.0.0.1', dst: '10.0.0.2', sport: 5000, dport: 4789, payload: 'x' })))).not.toBeNull();
  });

  it('property: random bytes after a plain header (any lengths, flags, cuts) never disagree with decode()', () => {
    const plain = new PacketDecoder();
    const full = new PacketDecoder();
    const base = [
      B.ipv4Tcp({ src: '10.0.0.1', dst: '172.16.0.9', sport: 1, dport: 2, flags: 'S', seq: 1, ack: 0, payload: '' }),
      B.ipv6Tcp({ src: '2001:db8::1', dst: '2001:db8::9', sport: 1, dport: 2, flags: 'S', seq: 1, ack: 0, payload: '' }),
      B.ipv4Udp({ src: '10.0.0.1', dst: '10.0.0.2', vlan: [7], sport: 1, dport: 2, payload: '' }),
      B.ipv6Udp({ src: '2001:db8::1', dst: '2001:db8::2', vlan: [7, 8], sport: 1, dport: 2, payload: '' }),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...base), fc.uint8Array({ maxLength: 80 }), fc.array(fc.tuple(fc.nat(120), fc.nat(255)), { maxLength: 6 }), fc.nat(200), fc.nat(60),
        (head, tail, flips, cut, extra) => {
          const f = new Uint8Array([...head, ...tail]);
          for (const [at, v] of flips) if (at < f.length) f[at] = v;
          const capLen = Math.min(f.length, cut);
          agree(plain, full, f, 0, capLen, capLen + extra, 1);
        }),
      { numRuns: RUNS },
    );
  });

  const dirs = [CORPUS_DIR, TUNNEL_CORPUS_DIR].filter((d) => existsSync(d));
  it.skipIf(dirs.length === 0)('agrees with decode() on every frame of the shared corpora (../shared)', () => {
    const plain = new PacketDecoder();
    const full = new PacketDecoder();
    let frames = 0;
    let accepted = 0;
    for (const dir of dirs) {
      for (const name of readdirSync(dir).filter((n) => /\.(pcap|pcapng)$/.test(n))) {
        for (const fr of readCaptureFile(dir + name)) {
          frames++;
          if (agree(plain, full, fr.data, fr.offset, fr.capLen, fr.origLen, fr.linkType)) accepted++;
        }
      }
    }
    expect(frames).toBeGreaterThan(1000);
    expect(accepted).toBeGreaterThan(frames / 4);
  });

  it('takes nearly every frame of a generated benchmark-style capture', () => {
    const path = fileURLToPath(new URL('../../fixtures/captures/demo.pcap', import.meta.url));
    const dec = new PacketDecoder();
    const frames = readCaptureFile(path);
    const n = frames.filter((fr) => dec.decodePlain(fr.data, fr.offset, fr.capLen, fr.origLen, fr.linkType) !== null).length;
    expect(n / frames.length).toBeGreaterThan(0.9);
  });
});
