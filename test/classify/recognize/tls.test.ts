import { describe, expect, it } from 'vitest';
import { recognizeTls, tlsVersionName } from '../../../src/classify/recognize/tls.js';
import { cat, hex, sample, text } from './samples.js';

const rt = (b: Uint8Array) => recognizeTls(b, 0, b.length);
const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);
const u24 = (n: number) => Uint8Array.of(n >> 16, (n >> 8) & 0xff, n & 0xff);
const ext = (type: number, body: Uint8Array) => cat(u16(type), u16(body.length), body);

/** A minimal ClientHello (RFC 8446 §4.1.2) with the given extensions, in one record. */
function clientHello(exts: Uint8Array[], recordVersion = 0x0301): Uint8Array {
  const extBytes = cat(...exts);
  const body = cat(hex('0303'), new Uint8Array(32), Uint8Array.of(0), u16(2), hex('1301'), hex('0100'), u16(extBytes.length), extBytes);
  const hs = cat(Uint8Array.of(1), u24(body.length), body);
  return cat(Uint8Array.of(22), u16(recordVersion), u16(hs.length), hs);
}
const sni = (name: string) => {
  const n = text(name);
  const entry = cat(Uint8Array.of(0), u16(n.length), n);
  return ext(0, cat(u16(entry.length), entry));
};

describe('TLS ClientHello', () => {
  it('openssl s_client (TLS 1.3): SNI, ALPN list, version from supported_versions', () => {
    const e = rt(sample('tls-openssl-client-hello').bytes);
    expect(e).toEqual({
      protocol: 'tls',
      tags: ['tls'],
      detail: { tlsHandshake: 'client_hello', sni: 'xds.portsniff.test', alpn: 'h2,http/1.1', tlsVersion: '1.3' },
    });
  });

  it('openssl s_client -tls1_2 and node tls client', () => {
    expect(rt(sample('tls-openssl-client-hello-tls12').bytes)?.detail).toMatchObject({ sni: 'xds.portsniff.test', tlsVersion: '1.2' });
    expect(rt(sample('tls-node-client-hello').bytes)?.detail).toMatchObject({ sni: 'grafana.portsniff.test', alpn: 'http/1.1', tlsVersion: '1.3' });
  });

  it('a ClientHello split over two records is joined', () => {
    const b = sample('tls-openssl-client-hello').bytes;
    const recLen = (b[3]! << 8) | b[4]!;
    const msg = b.subarray(5, 5 + recLen);
    const split = cat(hex('160301'), u16(60), msg.subarray(0, 60), hex('160301'), u16(msg.length - 60), msg.subarray(60));
    expect(rt(split)?.detail).toMatchObject({ sni: 'xds.portsniff.test', alpn: 'h2,http/1.1', tlsVersion: '1.3' });
  });

  it('every cut is tls once the version is in, without wrong fields; SNI appears once complete', () => {
    const b = sample('tls-openssl-client-hello').bytes;
    const helloEnd = 5 + ((b[3]! << 8) | b[4]!); // later records (CCS, Finished) follow in the sample
    let sawSni = -1;
    for (let n = 0; n <= b.length; n++) {
      const e = recognizeTls(b, 0, n);
      if (n < 11) expect(e, `cut ${n}`).toBeNull();
      else {
        expect(e?.tags, `cut ${n}`).toEqual(['tls']);
        if (e?.detail['sni'] !== undefined) {
          expect(e.detail['sni']).toBe('xds.portsniff.test');
          if (sawSni < 0) sawSni = n;
        } else expect(sawSni, `SNI lost at cut ${n}`).toBe(-1);
        if (n < helloEnd) {
          expect(e?.detail['note'], `cut ${n}`).toMatch(/cut/);
          expect(e?.incomplete, `cut ${n}`).toBe(true);
        } else {
          expect(e?.detail['note'], `cut ${n}`).toBeUndefined();
          expect(e?.incomplete, `cut ${n}`).toBeUndefined();
        }
      }
    }
    expect(sawSni).toBeGreaterThan(11);
  });

  it('GREASE versions are skipped; no supported_versions: the legacy version', () => {
    const sv = ext(43, hex('06 1a1a 0304 0303'));
    expect(rt(clientHello([sni('a.example'), sv]))?.detail['tlsVersion']).toBe('1.3');
    expect(rt(clientHello([sni('a.example')]))?.detail).toMatchObject({ sni: 'a.example', tlsVersion: '1.2' });
    expect(rt(clientHello([]))?.detail).toEqual({ tlsHandshake: 'client_hello', tlsVersion: '1.2' });
  });
});

describe('TLS ServerHello and alerts', () => {
  it('node tls server answering openssl: TLS 1.3 and TLS 1.2 (with the ALPN choice)', () => {
    expect(rt(sample('tls-openssl-server-hello').bytes)?.detail).toEqual({ tlsHandshake: 'server_hello', tlsVersion: '1.3' });
    expect(rt(sample('tls-openssl-server-hello-tls12').bytes)?.detail).toMatchObject({ tlsHandshake: 'server_hello', alpn: 'h2', tlsVersion: '1.2' });
  });

  it('a fatal alert record is tls', () => {
    expect(rt(hex('15030300020228'))?.detail).toEqual({ tlsAlert: '40', note: 'fatal alert' });
    expect(rt(hex('15030300020328'))).toBeNull(); // level 3
    expect(rt(hex('15030300030228'))).toBeNull(); // length 3
  });
});

describe('not TLS', () => {
  it('wrong record type, version, lengths, handshake type', () => {
    const ok = clientHello([sni('x.example')]);
    expect(rt(ok)).not.toBeNull();
    const mut = (i: number, v: number) => {
      const c = ok.slice();
      c[i] = v;
      return rt(c);
    };
    expect(mut(0, 23)).toBeNull(); // application data
    expect(mut(1, 2)).toBeNull(); // SSL 2 major
    expect(mut(2, 0)).toBeNull(); // record version 0x0300
    expect(mut(2, 5)).toBeNull();
    expect(mut(5, 11)).toBeNull(); // Certificate, not a hello
    expect(mut(9, 4)).toBeNull(); // client_version 0x0403
    expect(rt(cat(hex('16030100'), Uint8Array.of(0)))).toBeNull(); // empty record
    expect(rt(hex('160301004a01000002'))).toBeNull(); // hello length 2
  });

  it('HTTP, RESP and HTTP/2 bytes are not TLS', () => {
    for (const n of ['http1-curl-metrics', 'resp-cli-ping', 'grpc-helloworld', 'http1-curl-metrics-server']) expect(rt(sample(n).bytes), n).toBeNull();
  });

  it('version names', () => {
    expect([0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0x7f1c].map(tlsVersionName)).toEqual(['ssl3', '1.0', '1.1', '1.2', '1.3', '0x7f1c']);
  });
});
