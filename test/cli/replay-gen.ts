/**
 * Big synthetic captures for the CLI tests, written fast: ten template frames of one TCP
 * connection (handshake, four data segments, FIN exchange) built once with the packet builder,
 * then copied per connection with the client address and port patched in place (checksums are
 * left stale: portsniff does not verify them). Timestamps advance 100 µs per packet.
 */
import { closeSync, openSync } from 'node:fs';
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { ipv4Tcp, LINK_TYPES } from '../../fixtures/gen/packet-builder.js';

const CLIENT = '10.1.0.1';
const SERVER = '10.2.0.2';

function templates(): Array<{ frame: Uint8Array; fromClient: boolean }> {
  const c = (flags: string, seq: number, ack: number, payload?: string): { frame: Uint8Array; fromClient: boolean } => ({
    frame: ipv4Tcp({ src: CLIENT, dst: SERVER, sport: 40000, dport: 6379, flags, seq, ack, ...(payload ? { payload } : {}) }),
    fromClient: true,
  });
  const s = (flags: string, seq: number, ack: number, payload?: string): { frame: Uint8Array; fromClient: boolean } => ({
    frame: ipv4Tcp({ src: SERVER, dst: CLIENT, sport: 6379, dport: 40000, flags, seq, ack, ...(payload ? { payload } : {}) }),
    fromClient: false,
  });
  const ping = '*1\r\n$4\r\nPING\r\n';
  return [
    c('S', 100, 0),
    s('SA', 500, 101),
    c('A', 101, 501),
    c('PA', 101, 501, ping),
    s('PA', 501, 115, '+PONG\r\n'),
    c('PA', 115, 508, ping),
    s('PA', 508, 129, '+PONG\r\n'),
    c('FA', 129, 515),
    s('FA', 515, 130),
    c('A', 130, 516),
  ];
}

/** Offsets in an untagged Ethernet + IPv4 (no options) + TCP frame. */
const IP_SRC = 26;
const IP_DST = 30;
const TCP_SPORT = 34;
const TCP_DPORT = 36;

/**
 * Writes `packets` packets (rounded up to whole 10-packet connections) to `path`: every connection
 * has its own client address/port, so the capture has packets/10 flows. Returns the flow count.
 */
export function writeBigCapture(path: string, packets: number): number {
  const t = templates();
  const fd = openSync(path, 'w');
  const w = new PcapWriter(fd, { linkType: LINK_TYPES.ethernet, bufferSize: 1 << 20 });
  const flows = Math.ceil(packets / t.length);
  let us = 0;
  for (let i = 0; i < flows; i++) {
    const port = 1024 + (i % 60000);
    const host = Math.floor(i / 60000);
    for (const { frame, fromClient } of t) {
      const ipOff = fromClient ? IP_SRC : IP_DST;
      const portOff = fromClient ? TCP_SPORT : TCP_DPORT;
      frame[ipOff + 2] = (host >> 8) & 0xff;
      frame[ipOff + 3] = (host & 0xff) + 1;
      frame[portOff] = port >> 8;
      frame[portOff + 1] = port & 0xff;
      const sec = 1_700_000_000 + Math.floor(us / 1_000_000);
      w.writePacket(sec, (us % 1_000_000) * 1000, frame);
      us += 100;
    }
  }
  w.close();
  closeSync(fd);
  return flows;
}
