/**
 * Key input as discrete events. Ink hands useInput one call per chunk of input, and a chunk can hold
 * several keys: a paste, `tmux send-keys '/redis'`, or keys that queued while the event loop was
 * busy ("/redis\r" arrives as one string). keyEvents splits it so every character counts once.
 */

/** The subset of Ink's Key that matters here (all optional so tests can pass only what they need). */
export interface KeyFlags {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
  shift?: boolean;
  tab?: boolean;
  backspace?: boolean;
  delete?: boolean;
  meta?: boolean;
}

export type NamedKey =
  | 'enter'
  | 'escape'
  | 'tab'
  | 'backtab'
  | 'up'
  | 'down'
  | 'left'
  | 'right'
  | 'pageup'
  | 'pagedown'
  | 'home'
  | 'end'
  | 'backspace'
  | 'ctrl-c'
  | 'ctrl-u';

export type KeyEvent = { kind: 'char'; char: string } | { kind: NamedKey };

const CONTROL_CHARS: Readonly<Record<string, NamedKey>> = {
  '\r': 'enter',
  '\n': 'enter',
  '\t': 'tab',
  '\x7f': 'backspace',
  '\b': 'backspace',
  '\x03': 'ctrl-c',
  '\x15': 'ctrl-u',
  '\x1b': 'escape',
};

export function keyEvents(input: string, key: KeyFlags): KeyEvent[] {
  if (key.ctrl === true && input === 'c') return [{ kind: 'ctrl-c' }];
  if (key.ctrl === true && input === 'u') return [{ kind: 'ctrl-u' }];
  if (key.escape === true) return [{ kind: 'escape' }];
  if (key.return === true) return [{ kind: 'enter' }];
  if (key.tab === true) return [{ kind: key.shift === true ? 'backtab' : 'tab' }];
  // Ink reports \x7f (what most terminals send for Backspace) as `delete`.
  if (key.backspace === true || key.delete === true) return [{ kind: 'backspace' }];
  if (key.upArrow === true) return [{ kind: 'up' }];
  if (key.downArrow === true) return [{ kind: 'down' }];
  if (key.leftArrow === true) return [{ kind: 'left' }];
  if (key.rightArrow === true) return [{ kind: 'right' }];
  if (key.pageUp === true) return [{ kind: 'pageup' }];
  if (key.pageDown === true) return [{ kind: 'pagedown' }];
  if (key.home === true) return [{ kind: 'home' }];
  if (key.end === true) return [{ kind: 'end' }];
  if (key.ctrl === true) return [];
  const out: KeyEvent[] = [];
  for (const ch of input) {
    const named = CONTROL_CHARS[ch];
    if (named !== undefined) out.push({ kind: named });
    else if (ch >= ' ' && ch !== '\x7f' && !(ch >= '\x80' && ch <= '\x9f')) out.push({ kind: 'char', char: ch });
  }
  return out;
}
