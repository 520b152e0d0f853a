import { describe, expect, it } from 'vitest';
import { recognizeResp } from '../../../src/classify/recognize/resp.js';
import { sample, samples, text } from './samples.js';

const TO_SERVER = 0;
const TO_CLIENT = 1;
const rr = (b: Uint8Array, dir: 0 | 1) => recognizeResp(b, 0, b.length, dir);
const reply = (s: string) => rr(text(s), TO_CLIENT);
const cmd = (s: string) => rr(text(s), TO_SERVER);

describe('RESP commands (redis-cli, redis-benchmark, inline)', () => {
  it('arrays of bulk strings: the command name, upper-cased', () => {
    const cases: [string, string][] = [
      ['resp-cli-ping', 'PING'], ['resp-cli-set', 'SET'], ['resp-cli-get', 'GET'], ['resp-cli-incr', 'INCR'],
      ['resp-cli-unknown', 'NOSUCHCOMMAND'], ['resp-cli-hello3', 'HELLO'], ['resp-cli-lrange', 'LRANGE'],
      ['resp-benchmark-set', 'CONFIG'],
    ];
    for (const [name, command] of cases) {
      const e = rr(sample(name).bytes, TO_SERVER);
      expect(e?.tags, name).toEqual(['resp']);
      expect(e?.detail['respCommand'], name).toBe(command);
    }
    expect(rr(sample('resp-cli-set').bytes, TO_SERVER)?.detail['respArgs']).toBe('2');
    expect(cmd('*2\r\n$6\r\nft.search\r\n')).toBeNull(); // length 6 but 9 bytes
    expect(cmd('*2\r\n$9\r\nft.search\r\n$1\r\n')?.detail['respCommand']).toBe('FT.SEARCH');
  });

  it('inline commands from the short list', () => {
    expect(rr(sample('resp-inline-ping').bytes, TO_SERVER)?.detail).toEqual({ respCommand: 'PING', respType: 'inline' });
    expect(cmd('auth s3cret\r\n')?.detail['respCommand']).toBe('AUTH');
    expect(cmd('INFO replication\n')?.detail['respCommand']).toBe('INFO');
    expect(cmd('PING')).toBeNull(); // no line end yet
    expect(cmd('HELLOWORLD\r\n')).toBeNull();
    expect(cmd('FOO bar\r\n')).toBeNull();
    expect(cmd('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).toBeNull();
    expect(cmd('SET k \x01\r\n')).toBeNull();
  });

  it('partial commands are not recognised yet', () => {
    const b = sample('resp-cli-set').bytes;
    // "*3\r\n$3\r\nSET\r\n" is 13 bytes: before that there is no command name to report
    for (let n = 1; n < 13; n++) expect(recognizeResp(b, 0, n, TO_SERVER), `cut ${n}`).toBeNull();
    expect(recognizeResp(b, 0, 13, TO_SERVER)?.detail['respCommand']).toBe('SET');
  });
});

describe('RESP replies (redis-server)', () => {
  it('real replies: simple string, error, integer, bulk, empty array, RESP3 map', () => {
    expect(rr(sample('resp-cli-ping-server').bytes, TO_CLIENT)?.detail).toEqual({ respType: '+', respReply: 'PONG' });
    expect(rr(sample('resp-cli-set-server').bytes, TO_CLIENT)?.detail['respReply']).toBe('OK');
    expect(rr(sample('resp-cli-unknown-server').bytes, TO_CLIENT)?.detail['respReply']).toMatch(/^ERR unknown command/);
    expect(rr(sample('resp-cli-incr-server').bytes, TO_CLIENT)?.detail['respType']).toBe(':');
    expect(rr(sample('resp-cli-get-server').bytes, TO_CLIENT)?.detail['respType']).toBe('$');
    expect(rr(sample('resp-cli-lrange-server').bytes, TO_CLIENT)?.detail['respType']).toBe('*');
    expect(rr(sample('resp-cli-hello3-server').bytes, TO_CLIENT)?.detail).toEqual({ respType: '%', respVersion: '3' });
  });

  it('every RESP3 type', () => {
    for (const s of ['_\r\n', '#t\r\n', ',3.14\r\n', ',-inf\r\n', '(3492890328409238509324850943850943825024385\r\n', '=15\r\ntxt:Some string\r\n',
      '!21\r\nSYNTAX invalid syntax\r\n', '%1\r\n+key\r\n:1\r\n', '~2\r\n+a\r\n+b\r\n', '|1\r\n+ttl\r\n:3600\r\n', '>3\r\n$7\r\nmessage\r\n']) {
      expect(reply(s)?.detail['respVersion'], JSON.stringify(s)).toBe('3');
    }
    expect(reply('$-1\r\n')).not.toBeNull();
    expect(reply('*-1\r\n')).not.toBeNull();
    expect(reply('*0\r\n')).not.toBeNull();
    expect(reply('*2\r\n$3\r\nfoo\r\n$3\r\nbar\r\n')).not.toBeNull();
    expect(reply('$10\r\nabc')).not.toBeNull(); // bulk cut by the end of the bytes
  });

  it('strict: malformed replies are not RESP', () => {
    for (const s of ['+OK\n', '+\r\n', '+OK', '-err lower\r\n', ':12a\r\n', ':\r\n', '$-2\r\n', '$3\r\nfoobar\r\n', '*1\r\nxyz\r\n',
      '%-1\r\n', '_x\r\n', '#x\r\n', ',1.0x\r\n', '=15\r\ntxtxSome string\r\n', 'HTTP/1.1 200 OK\r\n', '\x16\x03\x01\x00\x05']) {
      expect(reply(s), JSON.stringify(s)).toBeNull();
    }
  });

  it('direction matters: replies are not commands and commands are not replies', () => {
    expect(rr(sample('resp-cli-ping-server').bytes, TO_SERVER)).toBeNull();
    expect(rr(sample('resp-inline-ping').bytes, TO_CLIENT)).toBeNull();
  });

  it('no HTTP or TLS sample is RESP, in either direction', () => {
    for (const s of samples()) {
      if (s.name.startsWith('http1') || s.name.startsWith('tls') || s.name.startsWith('grpc') || s.name.startsWith('h2')) {
        expect(rr(s.bytes, TO_SERVER), s.name).toBeNull();
        expect(rr(s.bytes, TO_CLIENT), s.name).toBeNull();
      }
    }
  });
});
