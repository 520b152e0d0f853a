/**
 * The IPFIX exporter through the consumer interface, received on a loopback UDP socket and decoded
 * by a strict test decoder: every flow's directions arrive with the flow log's packets, bytes,
 * addresses, ports, times and classification; templates come first and again when due; sequence
 * numbers count data records; no message exceeds the size limit. The real collector (nfcapd) is in
 * ipfix-nfcapd.test.ts.
 */
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IpfixExporter, parseIpfixTarget } from '../../src/export/ipfix.js';
import { encodeFlowRecords, IE, MessageBuilder, PORTSNIFF_IE, tcpBitsFromHistory } from '../../src/export/ipfix-encode.js';
import { parseAddress } from '../../src/flow/key.js';
import type { ClassifiedFlow } from '../../src/pipeline/results.js';
import { parseTimestamp } from '../../src/util/time.js';
import { fieldKey, IpfixDecoder, type DecodedMessage } from './ipfix-decode.js';
import { drive, sessionData, type SessionData } from './session-data.js';

const DEMO = fileURLToPath(new URL('../../fixtures/captures/demo.pcap', import.meta.url));
const PEN = 32473;

interface Collector {
  socket: Socket;
  port: number;
  datagrams: Buffer[];
  waitFor(n: number): Promise<void>;
}

async function collector(): Promise<Collector> {
  const socket = createSocket('udp4');
  const datagrams: Buffer[] = [];
  let waiters: Array<() => void> = [];
  socket.on('message', (m) => {
    datagrams.push(m);
    for (const w of waiters) w();
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const port = socket.address().port;
  return {
    socket,
    port,
    datagrams,
    waitFor: async (n) => {
      const deadline = Date.now() + 5000;
      while (datagrams.length < n && Date.now() < deadline) await new Promise<void>((r) => waiters.push(r) && setTimeout(r, 50));
      waiters = [];
    },
  };
}

let open: Socket[] = [];
afterEach(() => {
  for (const s of open) s.close();
  open = [];
});

let data: SessionData;
beforeAll(async () => {
  data = await sessionData(DEMO, { updateEvery: 200 });
});

const num = (m: Map<string, bigint | string>, id: number): number => Number(m.get(String(id)));
const str = (m: Map<string, bigint | string>, id: number): string => m.get(`${PEN}/${id}`) as string;

function msOf(text: string): number {
  const t = parseTimestamp(text)!;
  return Math.floor(t.sec) * 1000 + Math.floor(t.nsec / 1e6);
}

function addrHex(ip: string): string | number {
  const a = parseAddress(ip)!;
  return a[0] === 4 ? a[4] : a.slice(1).map((w) => w.toString(16).padStart(8, '0')).join('');
}

async function exportAll(d: SessionData, extra: Partial<Parameters<typeof IpfixExporter.open>[0]> = {}): Promise<{ messages: DecodedMessage[]; exporter: IpfixExporter; c: Collector }> {
  const c = await collector();
  open.push(c.socket);
  const exporter = await IpfixExporter.open({ host: '127.0.0.1', port: c.port, ...extra });
  await drive(exporter, d);
  await c.waitFor(exporter.stats.messages);
  const decoder = new IpfixDecoder();
  return { messages: c.datagrams.map((b) => decoder.decode(b)), exporter, c };
}

describe('IPFIX export of the demo capture', () => {
  it('every flow direction arrives with the flow log figures and classification', async () => {
    const { messages, exporter } = await exportAll(data);
    expect(messages.length).toBe(exporter.stats.messages);
    expect(exporter.stats.sendErrors).toBe(0);
    const records = messages.flatMap((m) => m.records);
    const expected = data.flows.reduce((n, f) => n + (f.packets!.toServer > 0 ? 1 : 0) + (f.packets!.toClient > 0 ? 1 : 0), 0);
    expect(records.length).toBe(expected);
    expect(exporter.stats.records).toBe(expected);
    const byFlow = new Map<number, typeof records>();
    for (const r of records) {
      const id = num(r.values, IE.flowId);
      byFlow.set(id, [...(byFlow.get(id) ?? []), r]);
    }
    expect(byFlow.size).toBe(data.flows.length);
    let v6 = 0;
    for (const f of data.flows) {
      const rs = byFlow.get(f.id)!;
      const fwd = rs.find((r) => num(r.values, IE.biflowDirection) === 1);
      const rev = rs.find((r) => num(r.values, IE.biflowDirection) === 2);
      expect(fwd === undefined, `flow ${f.id}`).toBe(f.packets!.toServer === 0);
      expect(rev === undefined, `flow ${f.id}`).toBe(f.packets!.toClient === 0);
      const v4 = f.ipVersion === 4;
      if (!v4) v6++;
      for (const [r, fromClient] of [[fwd, true], [rev, false]] as const) {
        if (r === undefined) continue;
        const m = r.values;
        const src = fromClient ? f.client : f.server;
        const dst = fromClient ? f.server : f.client;
        expect(num(m, IE.packetDeltaCount)).toBe(fromClient ? f.packets!.toServer : f.packets!.toClient);
        expect(num(m, IE.octetDeltaCount)).toBe(fromClient ? f.bytes!.toServer : f.bytes!.toClient);
        expect(num(m, IE.layer2OctetDeltaCount)).toBe(fromClient ? f.bytes!.toServer : f.bytes!.toClient);
        const srcKey = v4 ? IE.sourceIPv4Address : IE.sourceIPv6Address;
        const dstKey = v4 ? IE.destinationIPv4Address : IE.destinationIPv6Address;
        expect(v4 ? num(m, srcKey) : m.get(String(srcKey))).toBe(addrHex(src.ip));
        expect(v4 ? num(m, dstKey) : m.get(String(dstKey))).toBe(addrHex(dst.ip));
        expect(num(m, IE.sourceTransportPort)).toBe(src.port);
        expect(num(m, IE.destinationTransportPort)).toBe(dst.port);
        expect(num(m, IE.flowStartMilliseconds)).toBe(msOf(f.first));
        expect(num(m, IE.flowEndMilliseconds)).toBe(msOf(f.last));
        expect(num(m, IE.vlanId)).toBe(f.vlan![0] ?? 0);
        expect(num(m, IE.ipVersion)).toBe(f.ipVersion);
        expect(str(m, PORTSNIFF_IE.verdict)).toBe(f.verdict);
        expect(str(m, PORTSNIFF_IE.exposure)).toBe(f.exposure?.status ?? 'none');
        expect(str(m, PORTSNIFF_IE.serviceKey)).toBe(f.service?.id ?? (f.ambiguous ? `ambiguous:${f.candidates!.map((c) => c.id).join('|')}` : 'unknown'));
        expect(str(m, PORTSNIFF_IE.protocol)).toBe(f.evidence?.['protocol'] ?? '');
      }
    }
    expect(v6).toBeGreaterThan(0);
    // The demo's VLAN 20 flows carry their tag.
    expect(records.some((r) => num(r.values, IE.vlanId) === 20)).toBe(true);
  });

  it('templates lead the first message; sequence numbers count data records; size limit holds', async () => {
    const { messages, c } = await exportAll(data, { maxMessageBytes: 600 });
    expect(messages[0]!.templates.map((t) => t.id)).toEqual([256, 257]);
    const t4 = messages[0]!.templates[0]!.fields;
    expect(t4.filter((f) => f.enterprise === PEN).map((f) => f.id).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    let seq = 0;
    for (const [i, m] of messages.entries()) {
      expect(m.sequence).toBe(seq);
      expect(m.domain).toBe(1);
      expect(c.datagrams[i]!.length).toBeLessThanOrEqual(600);
      seq += m.records.length;
    }
    expect(messages.length).toBeGreaterThan(10);
  });

  it('templates are sent again after the refresh interval and message count', async () => {
    let now = 0;
    const byTime = await exportAll(data, { now: () => (now += 1000), templateRefreshSec: 5 });
    const withTemplates = byTime.messages.filter((m) => m.templates.length > 0).length;
    expect(withTemplates).toBeGreaterThan(1);
    expect(byTime.exporter.stats.templateMessages).toBe(withTemplates);
    const byCount = await exportAll(data, { templateRefreshMessages: 3, maxMessageBytes: 500 });
    const idx = byCount.messages.flatMap((m, i) => (m.templates.length > 0 ? [i] : []));
    expect(idx.slice(0, 3)).toEqual([0, 3, 6]);
  });

  it('a quiet exporter flushes a partial message on the next update after flushIntervalMs', async () => {
    const c = await collector();
    open.push(c.socket);
    let now = 1000;
    const e = await IpfixExporter.open({ host: '127.0.0.1', port: c.port, now: () => now, flushIntervalMs: 1000 });
    e.flow(data.flows[0]!);
    const u = data.events.find((x) => 'update' in x) as { update: Parameters<IpfixExporter['update']>[0] };
    e.update(u.update);
    expect(e.stats.messages).toBe(0);
    now += 1000;
    e.update(u.update);
    expect(e.stats.messages).toBe(1);
    await c.waitFor(1);
    expect(new IpfixDecoder().decode(c.datagrams[0]!).records.length).toBeGreaterThan(0);
    await e.close();
  });

  it('no collector listening: counted and reported once, never thrown', async () => {
    const c = await collector();
    const port = c.port;
    c.socket.close();
    const warnings: string[] = [];
    const e = await IpfixExporter.open({ host: '127.0.0.1', port, onWarning: (w) => warnings.push(w), flushIntervalMs: 0 });
    for (const f of data.flows.slice(0, 40)) e.flow(f);
    await e.flush();
    await new Promise((r) => setTimeout(r, 50));
    for (const f of data.flows.slice(40, 80)) e.flow(f);
    await e.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^ipfix: \\d+ of \\d+ messages to 127.0.0.1:${port} failed \\(ECONNREFUSED\\): nothing listens there`));
  });
});

describe('a collector name that does not resolve', () => {
  // .invalid never resolves (RFC 2606). Before, the failed lookup was taken for a connection and
  // the first send threw "Port should be > 0" (an internal error).
  it('open() fails with a usage error naming the collector', async () => {
    const opened = IpfixExporter.open({ host: 'nosuchhost.invalid', port: 4739 });
    await expect(opened).rejects.toThrow(/^--ipfix: cannot reach nosuchhost\.invalid:4739: /);
  }, 30_000);
});

describe('encoding details', () => {
  it('TCP bits per direction come from the history letters', () => {
    expect(tcpBitsFromHistory('ShADadFf', true)).toBe(0x02 | 0x10 | 0x01);
    expect(tcpBitsFromHistory('ShADadFf', false)).toBe(0x02 | 0x10 | 0x01);
    expect(tcpBitsFromHistory('Sr', true)).toBe(0x02);
    expect(tcpBitsFromHistory('Sr', false)).toBe(0x04);
  });

  it('flow start and end in milliseconds, from every timestamp form a record can carry', () => {
    const f = data.flows.find((x) => x.packets !== null && x.packets.toServer > 0)!;
    const cases: Array<[string, number]> = [
      ['2024-05-01T12:00:00Z', 1714564800000],
      ['2024-05-01T12:00:00.5Z', 1714564800500],
      ['2024-05-01T12:00:00.05Z', 1714564800050],
      ['2024-05-01T12:00:00.123456789Z', 1714564800123],
      // The next second, then back: the second remembered from the last record changes.
      ['2024-05-01T12:00:01.999Z', 1714564801999],
      ['2024-05-01T12:00:00.7Z', 1714564800700],
      ['@1714564800.000405000', 1714564800000],
      ['1969-12-31T23:59:59.999Z', 0],
      ['2024-05-01T12:00:00.1234567890Z', 0],
      ['2024-05-01T12:00:00.Z', 0],
    ];
    for (const [t, ms] of cases) {
      const [r] = encodeFlowRecords({ ...f, first: t, last: t });
      const view = new DataView(r!.bytes.buffer, r!.bytes.byteOffset);
      expect(Number(view.getBigUint64(0)), t).toBe(ms);
      expect(Number(view.getBigUint64(8)), t).toBe(ms);
    }
  });

  it('each call gives records of their own (the exporter reuses memory, encodeFlowRecords copies)', () => {
    const [a, b] = data.flows.filter((x) => x.packets !== null && x.packets.toServer > 0);
    const [ra] = encodeFlowRecords(a!);
    const before = ra!.bytes.slice();
    encodeFlowRecords(b!);
    expect(ra!.bytes).toEqual(before);
  });

  it('long strings use the three-byte length form', () => {
    const f = data.flows.find((x) => x.service)!;
    const long = 'x'.repeat(300);
    const rec: ClassifiedFlow = { ...f, service: { ...f.service!, id: long } };
    const [r] = encodeFlowRecords(rec);
    const c = encodeFlowRecords(f)[0]!;
    expect(r!.bytes.length - c.bytes.length).toBe(300 - f.service!.id.length + 2);
  });

  it('parses HOST:PORT', () => {
    expect(parseIpfixTarget('127.0.0.1:4739')).toEqual({ host: '127.0.0.1', port: 4739 });
    expect(parseIpfixTarget('[::1]:4739')).toEqual({ host: '::1', port: 4739 });
    expect(parseIpfixTarget('collector.example:2055')).toEqual({ host: 'collector.example', port: 2055 });
    for (const bad of ['4739', '127.0.0.1', '1.2.3.4:0', ':4739', '[x]:1', '::1:4739']) expect(() => parseIpfixTarget(bad), bad).toThrow(/--ipfix/);
  });

  it('every key in a template is unique', () => {
    const { templates } = new IpfixDecoder().decode(encodeMessageWithTemplates());
    for (const t of templates) expect(new Set(t.fields.map(fieldKey)).size).toBe(t.fields.length);
  });
});

function encodeMessageWithTemplates(): Uint8Array {
  const b = new MessageBuilder(1, 1400);
  b.addTemplates(PEN);
  return b.finish(0, 0).bytes;
}
