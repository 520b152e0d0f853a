/** Where the dashboard opens, and what runs instead; stderr is held while the dashboard draws. */
import { describe, expect, it } from 'vitest';
import { chooseFace, noDashboardReason, type FaceOptions } from '../../src/cli/face.js';
import type { CliIo } from '../../src/cli/io.js';
import { ProgressLine } from '../../src/export/progress-line.js';
import type { SessionConsumer, SessionEnd } from '../../src/export/consumer.js';

const TERMINAL: CliIo['terminal'] = { stdout: process.stdout, keysFd: () => 7 };
const FACE: FaceOptions = { json: false, ui: true, refreshHz: 4, progress: true };

function io(over: Partial<CliIo> = {}): CliIo & { lines: string[] } {
  const lines: string[] = [];
  return { stdout: null as never, stderr: (l) => lines.push(l), stdin: process.stdin, isTTY: true, signal: new AbortController().signal, terminal: TERMINAL, env: {}, progress: true, lines, ...over };
}

describe('noDashboardReason', () => {
  it('opens only in a terminal, without --json, --no-ui, --flows - or CI', () => {
    expect(noDashboardReason(io(), FACE)).toBeNull();
    expect(noDashboardReason(io({ env: { CI: 'false' } }), FACE)).toBeNull();
    expect(noDashboardReason(io({ env: { CI: '' } }), FACE)).toBeNull();
    expect(noDashboardReason(io({ terminal: null }), FACE)).toMatch(/not a terminal/);
    expect(noDashboardReason(io(), { ...FACE, json: true })).toBe('--json');
    expect(noDashboardReason(io(), { ...FACE, ui: false })).toBe('--no-ui');
    expect(noDashboardReason(io(), { ...FACE, flows: '-' })).toBe('--flows -');
    expect(noDashboardReason(io(), { ...FACE, flows: 'f.ndjson' })).toBeNull();
    expect(noDashboardReason(io({ env: { CI: 'true' } }), FACE)).toBe('CI is set');
    expect(noDashboardReason(io({ env: { CI: '1' } }), FACE)).toBe('CI is set');
  });

  it('a terminal without keys (stdin piped, no usable /dev/tty) gets no dashboard, and /dev/tty is opened only when one would open', () => {
    let asked = 0;
    const noKeys = { stdout: process.stdout, keysFd: () => (asked++, 'stdin is not a terminal and /dev/tty cannot be opened (ENXIO)') };
    expect(noDashboardReason(io({ terminal: noKeys }), FACE)).toBe('stdin is not a terminal and /dev/tty cannot be opened (ENXIO)');
    expect(asked).toBe(1);
    for (const o of [{ ...FACE, json: true }, { ...FACE, ui: false }, { ...FACE, flows: '-' }]) expect(noDashboardReason(io({ terminal: noKeys }), o)).not.toBeNull();
    expect(noDashboardReason(io({ terminal: noKeys, env: { CI: '1' } }), FACE)).toBe('CI is set');
    expect(asked).toBe(1);
  });
});

describe('chooseFace', () => {
  it('the dashboard: detail snapshots at the refresh rate, stderr held until it has finished', async () => {
    const fake: SessionConsumer = {};
    let asked: unknown = null;
    const x = io();
    const face = await chooseFace(x, { ...FACE, refreshHz: 10 }, async () => (o) => {
      asked = o;
      return fake;
    });
    expect(face.dashboard).toBe(true);
    expect(face.extras.detail).toBe(true);
    expect(face.extras.snapshotIntervalMs).toBe(100);
    expect(asked).toMatchObject({ refreshHz: 10, stdout: process.stdout, keysFd: 7 });
    expect(face.extras.consumers![0]).toBe(fake);
    x.stderr('portsniff: warning: during the dashboard');
    expect(x.lines).toEqual([]);
    await face.extras.consumers![1]!.finish!({} as SessionEnd);
    expect(x.lines).toEqual(['portsniff: warning: during the dashboard']);
    x.stderr('after');
    expect(x.lines).toHaveLength(2);
  });

  it('no terminal: the progress line (unless --no-progress or an injected io without progress), never the dashboard', async () => {
    const never = async (): Promise<never> => {
      throw new Error('the dashboard must not be loaded');
    };
    const plain = await chooseFace(io({ terminal: null }), FACE, never);
    expect(plain.dashboard).toBe(false);
    expect(plain.extras.detail).toBeUndefined();
    expect(plain.extras.consumers).toHaveLength(1);
    expect(plain.extras.consumers![0]).toBeInstanceOf(ProgressLine);
    expect((await chooseFace(io({ terminal: null }), { ...FACE, progress: false }, never)).extras.consumers).toEqual([]);
    expect((await chooseFace(io({ terminal: null, progress: false }), FACE, never)).extras.consumers).toEqual([]);
    expect((await chooseFace(io({ env: { CI: 'true' } }), FACE, never)).dashboard).toBe(false);
  });
});
