import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  recognizeZeebe,
  recognizeZeebeUnicast,
  ZEEBE_DEFAULT_CLUSTER_PREAMBLE,
} from '../../../src/classify/recognize/zeebe.js';
import { isProtocolTag } from '../../../src/rules/protocol-tags.js';
import {
  apiSubject,
  atomixVarint,
  buildExecuteCommandRequest,
  buildGossipDatagram,
  buildHandshake,
  buildHeartbeatSetupRequest,
  buildHeartbeatSetupResponse,
  buildReplyFrame,
  buildRequestFrame,
  buildSbeHeader,
  javaStringHashCode,
  kryoPlaceholder,
  raftSubject,
  REPLY_STATUS,
  zeebeSamples,
  type ZeebeSample,
} from '../../../fixtures/gen/zeebe-frames.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const rz = (b: Uint8Array, port = 26501, dir: 0 | 1 = 0) => recognizeZeebe(b, 0, b.length, dir, port);
/** A sample through the recogniser for its transport (TCP stream or UDP datagram). */
const recognizeSample = (s: ZeebeSample, b: Uint8Array, offset: number, length: number, dir: 0 | 1) =>
  s.transport === 'udp' ? recognizeZeebeUnicast(b, offset, length, s.serverPort) : recognizeZeebe(b, offset, length, dir, s.serverPort);
const sample = (name: string) => {
  const s = zeebeSamples().find((x) => x.name === name);
  if (!s) throw new Error(`no sample ${name}`);
  return s;
};

describe('builders', () => {
  it('Java hashCode of the default cluster name matches the recogniser constant (checked with jshell)', () => {
    expect(javaStringHashCode('zeebe-cluster')).toBe(ZEEBE_DEFAULT_CLUSTER_PREAMBLE);
    expect(ZEEBE_DEFAULT_CLUSTER_PREAMBLE).toBe(-345052022);
  });

  it('encodes the handshake as i32 BE preamble + i16 BE version', () => {
    // eb6eec8a = -345052022
    expect([...buildHandshake()]).toEqual([0xeb, 0x6e, 0xec, 0x8a, 0x00, 0x02]);
  });

  it('encodes Atomix varints low group first', () => {
    expect([...atomixVarint(1)]).toEqual([1]);
    expect([...atomixVarint(300)]).toEqual([0xac, 0x02]);
  });

  it('encodes the ExecuteCommandRequest SBE header little-endian with blockLength 20', () => {
    const m = buildExecuteCommandRequest({ partitionId: 3, key: 5n, valueType: 19, intent: 0 });
    expect([...m.subarray(0, 8)]).toEqual([20, 0, 20, 0, 0, 0, 6, 0]);
    // header 8 + block 20 + value (4 + 1) + authorization (4 + 0)
    expect(m.length).toBe(37);
  });
});

describe('recognizeZeebe: synthesised frames', () => {
  it('recognises the handshake on the Command API port as zeebe-sbe', () => {
    const r = rz(buildHandshake(), 26501);
    expect(r).not.toBeNull();
    expect(r!.protocol).toBe('zeebe-sbe');
    expect(r!.tags).toEqual(['zeebe-sbe']);
    expect(r!.detail).toMatchObject({
      frame: 'handshake',
      messagingVersion: '2',
      preamble: '0xeb6eec8a',
      clusterName: 'zeebe-cluster',
      basis: 'port',
    });
    // The handshake alone: the first message (subject, SBE header) comes next.
    expect(r!.incomplete).toBe(true);
  });

  it('recognises the handshake on the internal port as zeebe-atomix', () => {
    expect(rz(buildHandshake(), 26502, 1)!.protocol).toBe('zeebe-atomix');
  });

  it('accepts a custom-cluster handshake only on the documented ports', () => {
    const hs = buildHandshake('my-prod-cluster');
    expect(rz(hs, 26502)!.detail['clusterName']).toBeUndefined();
    expect(rz(hs, 26502)!.detail['preamble']).toBe(
      '0x' + (javaStringHashCode('my-prod-cluster') >>> 0).toString(16).padStart(8, '0'),
    );
    expect(rz(hs, 8080)).toBeNull();
    // the default cluster's preamble is specific enough on any port
    expect(rz(buildHandshake(), 8080)!.protocol).toBe('zeebe-atomix');
  });

  it('rejects a handshake-shaped prefix with an unknown messaging version', () => {
    expect(rz(buildHandshake('zeebe-cluster', 3), 26501)).toBeNull();
  });

  it('recognises a Command API ExecuteCommandRequest frame with address header', () => {
    const r = rz(sample('execute command request 26501').bytes, 26501);
    expect(r).not.toBeNull();
    expect(r!.protocol).toBe('zeebe-sbe');
    expect(r!.detail).toMatchObject({
      frame: 'request',
      confidence: 'frame',
      sender: 'zeebe-gateway-0.zeebe-gateway:26502',
      messageId: '2',
      subject: 'command-api-1',
      apiRequestType: 'command',
      sbeSchemaId: '0',
      sbeTemplateId: '20',
      sbeBlockLength: '20',
      sbeVersion: '6',
      message: 'ExecuteCommandRequest',
      partitionId: '1',
      valueType: 'PROCESS_INSTANCE_CREATION',
      intent: '0',
      basis: 'subject',
    });
  });

  it('names the Command API by its content even on the internal port', () => {
    expect(rz(sample('execute command request 26501').bytes, 26502)!.protocol).toBe('zeebe-sbe');
  });

  it('recognises the prefixed command subject', () => {
    const b = buildRequestFrame({
      sender: { host: '10.0.0.7', port: 26502 },
      id: 9,
      subject: apiSubject('command', 2, 'default'),
      payload: buildExecuteCommandRequest({ partitionId: 2, key: 1n, valueType: 5, intent: 6 }),
    });
    const r = rz(b, 26501);
    expect(r!.detail).toMatchObject({ subjectPrefix: 'default', partitionId: '2', valueType: 'PROCESS_INSTANCE' });
  });

  it('recognises the broker reply carrying an ExecuteCommandResponse', () => {
    const r = rz(sample('execute command response 26501').bytes, 26501, 1);
    expect(r!.protocol).toBe('zeebe-sbe');
    expect(r!.detail).toMatchObject({
      frame: 'reply',
      direction: 'to-client',
      status: 'OK',
      sbeTemplateId: '21',
      message: 'ExecuteCommandResponse',
      recordType: 'EVENT',
      valueType: 'PROCESS_INSTANCE_CREATION',
      intent: '1',
      basis: 'sbe',
    });
  });

  it('recognises the heartbeat setup (schema 10) and lets the port pick the tag', () => {
    const b = sample('heartbeat setup request 26501').bytes;
    const onApi = rz(b, 26501)!;
    expect(onApi.protocol).toBe('zeebe-sbe');
    expect(onApi.detail).toMatchObject({
      subject: 'internal-heartbeat-setup',
      sbeSchemaId: '10',
      sbeTemplateId: '1',
      sbeBlockLength: '5',
      message: 'HeartbeatSetupRequest',
      basis: 'port',
    });
    expect(rz(b, 26502)!.protocol).toBe('zeebe-atomix');
  });

  it('recognises a SWIM probe on the internal API', () => {
    const r = rz(sample('swim probe 26502').bytes, 26502);
    expect(r!.protocol).toBe('zeebe-atomix');
    expect(r!.detail).toMatchObject({ subject: 'atomix-membership-probe', message: 'SwimProbe', basis: 'subject' });
    expect(r!.detail['sbeSchemaId']).toBeUndefined();
  });

  it.each([
    ['raft append-versioned 26502', 'VersionedAppendRequest', '1'],
    ['raft poll 26502', 'PollRequest', '2'],
    ['raft vote 26502', 'VoteRequest', '3'],
  ])('recognises %s', (name, message, partition) => {
    const r = rz(sample(name).bytes, 26502);
    expect(r!.protocol).toBe('zeebe-atomix');
    expect(r!.detail).toMatchObject({ message, partitionId: partition, raftPartitionGroup: 'raft-partition' });
  });

  it('flags Raft traffic on the Command API port as zeebe-atomix (a mismatch for the rule)', () => {
    expect(rz(sample('raft poll 26502').bytes, 26501)!.protocol).toBe('zeebe-atomix');
  });

  it('recognises a later request without the address header when its subject is known', () => {
    const b = buildRequestFrame({ id: 12, subject: raftSubject('append', 1), payload: kryoPlaceholder(64) });
    const r = rz(b, 26502);
    expect(r!.detail).toMatchObject({ message: 'AppendRequest', confidence: 'frame' });
    expect(r!.detail['sender']).toBeUndefined();
    // an unknown subject without the address header is too weak
    expect(rz(buildRequestFrame({ id: 12, subject: 'hello', payload: kryoPlaceholder(8) }), 26502)).toBeNull();
  });

  it('recognises a later reply without the address header only by its SBE content', () => {
    const ok = buildReplyFrame({ id: 5, status: REPLY_STATUS.OK, payload: buildHeartbeatSetupResponse(true, false) });
    expect(rz(ok, 26501, 1)!.detail).toMatchObject({ message: 'HeartbeatSetupResponse', status: 'OK' });
    const opaque = buildReplyFrame({ id: 5, status: REPLY_STATUS.OK, payload: kryoPlaceholder(20) });
    expect(rz(opaque, 26502, 1)).toBeNull();
  });

  it('recognises handshake plus first frame in one buffer (reassembled stream)', () => {
    const b = cat(buildHandshake(), sample('execute command request 26501').bytes);
    const r = rz(b, 26501);
    expect(r!.detail).toMatchObject({ handshake: 'true', clusterName: 'zeebe-cluster', message: 'ExecuteCommandRequest' });
  });

  it('notes compressed streams after the handshake', () => {
    expect(rz(cat(buildHandshake(), Uint8Array.of(0x1f, 0x8b, 0x08, 0, 0)), 26502)!.detail['compression']).toBe('gzip');
    const snappy = Uint8Array.of(0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59, 0x00);
    expect(rz(cat(buildHandshake(), snappy), 26502)!.detail['compression']).toBe('snappy');
  });

  it('recognises the UDP gossip datagram (synthesised body)', () => {
    const d = buildGossipDatagram();
    const r = recognizeZeebeUnicast(d, 0, d.length, 26502);
    expect(r!.protocol).toBe('zeebe-atomix');
    expect(r!.detail).toMatchObject({ frame: 'unicast', subject: 'atomix-membership-gossip', clusterName: 'zeebe-cluster' });
    expect(r!.incomplete).toBeUndefined();
    // the declared length must match the datagram exactly
    expect(recognizeZeebeUnicast(d, 0, d.length - 1, 26502)).toBeNull();
    // a datagram is not a TCP stream: the stream recogniser does not take it
    expect(rz(d, 26502)).toBeNull();
  });

  it('returns only known protocol tags', () => {
    for (const s of zeebeSamples()) {
      const r = recognizeSample(s, s.bytes, 0, s.bytes.length, s.direction);
      expect(r, s.name).not.toBeNull();
      expect(r!.protocol, s.name).toBe(s.expectedProtocol);
      expect(r!.tags.every(isProtocolTag), s.name).toBe(true);
    }
  });

  it('honours offset and length into a larger buffer', () => {
    const f = sample('raft vote 26502').bytes;
    const big = cat(enc('garbage!'), f, enc('trailing'));
    expect(recognizeZeebe(big, 8, f.length, 0, 26502)!.detail['message']).toBe('VoteRequest');
  });
});

describe('recognizeZeebe: truncation', () => {
  it('every prefix of every sample is null or names the same protocol, never throws', () => {
    for (const s of zeebeSamples()) {
      for (let n = 0; n <= s.bytes.length; n++) {
        const r = recognizeSample(s, s.bytes, 0, n, s.direction);
        if (r !== null) expect(r.protocol, `${s.name} prefix ${n}`).toBe(s.expectedProtocol);
      }
    }
  });

  it('a frame cut inside its content is reported with frame-header confidence', () => {
    const f = sample('raft append-versioned 26502').bytes;
    const r = rz(f.subarray(0, 60), 26502);
    expect(r!.detail['confidence']).toBe('frame-header');
    expect(r!.detail['subject']).toBeUndefined();
    expect(r!.detail['basis']).toBe('port');
    expect(r!.incomplete).toBe(true);
    expect(rz(f, 26502)!.incomplete).toBeUndefined();
  });

  it('a frame cut inside the address header is not recognised', () => {
    expect(rz(sample('swim probe 26502').bytes.subarray(0, 10), 26502)).toBeNull();
  });
});

describe('recognizeZeebe: other protocols are not Zeebe', () => {
  const others: Record<string, Uint8Array> = {
    'http request': enc('GET /ready HTTP/1.1\r\nHost: zeebe:26501\r\n\r\n'),
    'http response': enc('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'),
    'http2 preface': enc('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
    'tls clienthello': Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, ...new Uint8Array(40)),
    'tls record 0x0200 len': Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 1, 2, 3),
    'resp array': enc('*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n'),
    'resp ping': enc('+PONG\r\n'),
    'ssh banner': enc('SSH-2.0-OpenSSH_9.6\r\n'),
    'empty-ish': Uint8Array.of(0),
  };
  for (const [name, bytes] of Object.entries(others)) {
    it(`${name} is not recognised on 26501 or 26502`, () => {
      expect(rz(bytes, 26501)).toBeNull();
      expect(rz(bytes, 26502, 1)).toBeNull();
    });
  }

  it('a bare SBE message without the messaging frame is not recognised', () => {
    expect(rz(cat(buildSbeHeader(5, 1, 10, 2), new Uint8Array(5)), 26501)).toBeNull();
  });

  it('a frame with an invalid reply status is rejected', () => {
    const f = buildReplyFrame({ sender: { host: 'h', port: 1 }, id: 1, status: 9, payload: buildHeartbeatSetupRequest(1, false) });
    expect(rz(f, 26501, 1)).toBeNull();
  });
});

describe('recognizeZeebe: hostile input never throws', () => {
  const ports = fc.constantFrom(26501, 26502, 80, 0, 65535);
  const dirs = fc.constantFrom<0 | 1>(0, 1);

  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), ports, dirs, (b, port, dir) => {
        const r = recognizeZeebe(b, 0, b.length, dir, port);
        if (r !== null) expect(r.tags).toEqual([r.protocol]);
        const u = recognizeZeebeUnicast(b, 0, b.length, port);
        if (u !== null) expect(u.tags).toEqual(['zeebe-atomix']);
      }),
      { numRuns: 2000 },
    );
  });

  it('random offsets and lengths, including out of range and non-integers', () => {
    const anyNum = fc.oneof(fc.integer({ min: -10, max: 700 }), fc.double(), fc.constantFrom(NaN, Infinity, -0));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), anyNum, anyNum, ports, (b, off, len, port) => {
        recognizeZeebe(b, off, len, 0, port);
        recognizeZeebeUnicast(b, off, len, port);
      }),
      { numRuns: 1000 },
    );
  });

  it('mutated samples (byte flips and cuts)', () => {
    const samples = zeebeSamples();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: samples.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(),
        fc.nat(),
        dirs,
        (i, flips, a, c, dir) => {
          const s = samples[i]!;
          const b = s.bytes.slice();
          for (const [pos, v] of flips) b[pos % b.length] = v;
          const start = a % (b.length + 1);
          const len = c % (b.length - start + 1);
          const r = recognizeSample(s, b, start, len, dir);
          if (r !== null) {
            expect(['zeebe-sbe', 'zeebe-atomix']).toContain(r.protocol);
            for (const v of Object.values(r.detail)) expect(typeof v).toBe('string');
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('handshake followed by random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), ports, (tail, port) => {
        const b = cat(buildHandshake(), tail);
        recognizeZeebe(b, 0, b.length, 1, port);
      }),
      { numRuns: 1000 },
    );
  });
});
