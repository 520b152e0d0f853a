/** The key state machine: every key of the footer and help, multi-character input, selection. */
import { describe, expect, it } from 'vitest';
import { FrameBuilder } from '../../../src/ui/view-model/frame.js';
import { keyEvents } from '../../../src/ui/view-model/keys.js';
import { initialUi, listKeys, reduce, selectedKey, type AppState } from '../../../src/ui/view-model/state.js';
import type { KeyFlags } from '../../../src/ui/view-model/keys.js';
import { fixtureInfo, fixtureUpdate } from '../../helpers/dashboard-data.js';

function state(): AppState {
  const b = new FrameBuilder();
  const u = fixtureUpdate(10);
  b.ingest(u);
  return { ui: initialUi({ columns: 80, rows: 24 }), info: fixtureInfo(), frame: b.build(u), status: 'running' };
}

function press(s: AppState, input: string, key: KeyFlags = {}): AppState {
  return reduce(s, { type: 'keys', input, key });
}

function keys(s: AppState, ...seq: Array<string | KeyFlags>): AppState {
  for (const k of seq) s = typeof k === 'string' ? press(s, k) : press(s, '', k);
  return s;
}

describe('keyEvents', () => {
  it('splits multi-character chunks, with Enter, Backspace, Tab, Ctrl-C inside', () => {
    expect(keyEvents('/redis\r', {})).toEqual([
      { kind: 'char', char: '/' },
      { kind: 'char', char: 'r' },
      { kind: 'char', char: 'e' },
      { kind: 'char', char: 'd' },
      { kind: 'char', char: 'i' },
      { kind: 'char', char: 's' },
      { kind: 'enter' },
    ]);
    expect(keyEvents('ab\x7fc\t\x03', {}).map((e) => e.kind)).toEqual(['char', 'char', 'backspace', 'char', 'tab', 'ctrl-c']);
    expect(keyEvents('c', { ctrl: true })).toEqual([{ kind: 'ctrl-c' }]);
    expect(keyEvents('', { delete: true })).toEqual([{ kind: 'backspace' }]);
    expect(keyEvents('', { tab: true, shift: true })).toEqual([{ kind: 'backtab' }]);
    expect(keyEvents('x', { ctrl: true })).toEqual([]);
    expect(keyEvents('\x01\x9b', {})).toEqual([]);
  });
});

describe('reduce', () => {
  it('q and Ctrl-C count quit requests; p toggles pause; b toggles units; ? opens and closes help', () => {
    let s = state();
    s = keys(s, 'q');
    expect(s.ui.quits).toBe(1);
    s = press(s, 'c', { ctrl: true });
    expect(s.ui.quits).toBe(2);
    s = keys(s, 'p');
    expect(s.ui.paused).toBe(true);
    s = keys(s, 'p');
    expect(s.ui.paused).toBe(false);
    s = keys(s, 'b');
    expect(s.ui.unit).toBe('bytes');
    s = keys(s, '?');
    expect(s.ui.help).toBe(true);
    s = keys(s, 's', 'b');
    expect(s.ui.sort.key).toBe('bytes'); // keys other than ?/esc/q do nothing under help
    s = keys(s, { escape: true });
    expect(s.ui.help).toBe(false);
    s = keys(s, '?', 'q');
    expect(s.ui.quits).toBe(3);
  });

  it('s cycles the sort; S, r and the same number again reverse it', () => {
    let s = state();
    s = keys(s, 's');
    expect(s.ui.sort).toEqual({ key: 'rate', reverse: false });
    s = keys(s, 'S');
    expect(s.ui.sort).toEqual({ key: 'rate', reverse: true });
    s = keys(s, 'r');
    expect(s.ui.sort).toEqual({ key: 'rate', reverse: false });
    s = keys(s, '4');
    expect(s.ui.sort).toEqual({ key: 'name', reverse: false });
    s = keys(s, '4');
    expect(s.ui.sort).toEqual({ key: 'name', reverse: true });
    s = keys(s, '1');
    expect(s.ui.sort).toEqual({ key: 'bytes', reverse: false });
  });

  it('/ edits the filter as you type: valid text applies, invalid keeps the last valid and says why', () => {
    let s = keys(state(), '/product:zee');
    expect(s.ui.filter).toMatchObject({ editing: true, text: 'product:zee', error: null });
    expect(listKeys(s)).toEqual(['zeebe.gateway-grpc', 'zeebe.broker-command-api', 'zeebe.broker-monitoring']);
    s = keys(s, ' port:abc');
    expect(s.ui.filter.error).toBe("port: 'abc' is not a port (0-65535, or LO-HI)");
    // "product:zee port" (free text) was valid for a moment; it stays applied while "port:abc" is not.
    expect(s.ui.filter.applied.text).toBe('product:zee port');
    s = keys(s, { return: true });
    expect(s.ui.filter.editing).toBe(true); // Enter on an invalid filter keeps the bar open
    s = keys(s, { backspace: true }, { backspace: true }, { backspace: true }, '26500', { return: true });
    expect(s.ui.filter).toMatchObject({ editing: false, text: 'product:zee port:26500', error: null });
    expect(listKeys(s)).toEqual(['zeebe.gateway-grpc']);
    // Keys act normally again; Esc at the top clears the filter.
    s = keys(s, 's');
    expect(s.ui.sort.key).toBe('rate');
    s = keys(s, { escape: true });
    expect(s.ui.filter.text).toBe('');
    expect(listKeys(s).length).toBe(10);
    // Esc while typing clears too; Ctrl-U empties the line.
    s = keys(s, '/zeebe', { escape: true });
    expect(s.ui.filter).toMatchObject({ editing: false, text: '' });
    s = press(keys(s, '/zeebe'), 'u', { ctrl: true });
    expect(s.ui.filter.text).toBe('');
    // q while typing is text, not quit.
    s = keys(s, 'q');
    expect(s.ui.quits).toBe(0);
    expect(s.ui.filter.text).toBe('q');
  });

  it('tab cycles services -> flows -> alerts -> coverage, shift-tab goes back, both leave a drill-down', () => {
    let s = state();
    s = keys(s, { tab: true });
    expect(s.ui.view).toBe('flows');
    s = keys(s, { tab: true });
    expect(s.ui.view).toBe('alerts');
    s = keys(s, { tab: true });
    expect(s.ui.view).toBe('coverage');
    s = keys(s, { tab: true });
    expect(s.ui.view).toBe('services');
    s = keys(s, { tab: true, shift: true });
    expect(s.ui.view).toBe('coverage');
    // Coverage rows: an unknown port opens its page, a documented rule its service page.
    expect(listKeys(s).slice(0, 3)).toEqual(['port:tcp/5432', 'port:tcp/7000', 'port:udp/4789']);
    expect(keys(s, { return: true }).ui.stack).toEqual([{ kind: 'port', id: 'tcp/5432' }]);
    expect(keys(s, { end: true }, { return: true }).ui.stack).toEqual([{ kind: 'service', key: listKeys(s).at(-1)!.slice('rule:'.length) }]);
    s = keys(s, { tab: true, shift: true });
    expect(s.ui.view).toBe('alerts');
    s = keys(s, { return: true }, { tab: true });
    expect(s.ui.stack).toEqual([]);
  });

  it('arrows move the selection (clamped); Enter drills down; Esc, Left, Backspace go back', () => {
    let s = state();
    expect(selectedKey(s)).toBe('redis-enterprise.database-endpoints');
    s = keys(s, { downArrow: true }, { downArrow: true });
    expect(selectedKey(s)).toBe('redis-enterprise.web-ui');
    s = keys(s, { upArrow: true }, { upArrow: true }, { upArrow: true });
    expect(selectedKey(s)).toBe('redis-enterprise.database-endpoints');
    s = keys(s, { end: true });
    expect(selectedKey(s)).toBe('unknown');
    s = keys(s, { pageDown: true }, 'j');
    expect(selectedKey(s)).toBe('unknown');
    s = keys(s, 'g', 'j');
    expect(selectedKey(s)).toBe('redis-enterprise.shards');
    s = keys(s, { return: true });
    expect(s.ui.stack).toEqual([{ kind: 'service', key: 'redis-enterprise.shards' }]);
    expect(listKeys(s)).toEqual(['1002', '1003']);
    s = keys(s, { downArrow: true }, { return: true });
    expect(s.ui.stack).toEqual([{ kind: 'service', key: 'redis-enterprise.shards' }, { kind: 'flow', id: 1003 }]);
    s = keys(s, { return: true });
    expect(s.ui.stack.length).toBe(2); // a flow is the deepest level
    s = keys(s, { escape: true });
    expect(s.ui.stack.length).toBe(1);
    s = keys(s, { leftArrow: true });
    expect(s.ui.stack).toEqual([]);
    // The selection of each list is remembered.
    expect(selectedKey(s)).toBe('redis-enterprise.shards');
  });

  it('alerts lead to their flows', () => {
    let s = keys(state(), { tab: true }, { tab: true }, { return: true });
    expect(s.ui.stack).toEqual([{ kind: 'alert', id: 'exposure-violation|zeebe.broker-monitoring|203.0.113.7' }]);
    expect(listKeys(s)).toEqual(['1011']);
    s = keys(s, { return: true });
    expect(s.ui.stack.at(-1)).toEqual({ kind: 'flow', id: 1011 });
  });

  it('selection follows the row, not the index, when the order changes', () => {
    let s = keys(state(), { downArrow: true });
    expect(selectedKey(s)).toBe('redis-enterprise.shards');
    s = keys(s, '4');
    expect(selectedKey(s)).toBe('redis-enterprise.shards');
    s = keys(s, '/zeebe\r');
    expect(selectedKey(s)).toBe('zeebe.broker-command-api'); // filtered out: the first row (by name)
  });

  it('keys on an empty dashboard (no frame) do not throw', () => {
    let s: AppState = { ui: initialUi({ columns: 0, rows: 0 }), info: null, frame: null, status: 'running' };
    s = keys(s, { downArrow: true }, { return: true }, 'j', 'G', { tab: true }, { return: true }, { escape: true }, '/x\r', 's');
    expect(s.ui.stack).toEqual([]);
    expect(reduce(s, { type: 'resize', size: { columns: NaN, rows: -4 } }).ui.size).toEqual({ columns: 80, rows: 0 });
  });
});
