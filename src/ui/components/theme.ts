/**
 * Tones to Ink text styles. Colour is an extra, never the message: every tone's meaning is also in
 * the words or markers on the line (✗, !, MISMATCH, [view], PAUSED), so NO_COLOR loses nothing.
 * Without colour, only attributes that are not colours remain (bold, dim, inverse).
 */
import { createContext } from 'react';
import type { Tone } from '../view-model/lines.js';

export interface TextStyle {
  color?: string;
  bold?: boolean;
  dimColor?: boolean;
  inverse?: boolean;
}

const COLOUR: Readonly<Record<Tone, TextStyle>> = {
  normal: {},
  title: { bold: true },
  dim: { dimColor: true },
  group: { bold: true, color: 'cyan' },
  alert: { bold: true, color: 'red' },
  warn: { color: 'yellow' },
  ok: { color: 'green' },
  badge: { inverse: true, bold: true },
  key: { bold: true, color: 'cyan' },
  header: { bold: true, dimColor: false },
};

const MONO: Readonly<Record<Tone, TextStyle>> = {
  normal: {},
  title: { bold: true },
  dim: { dimColor: true },
  group: { bold: true },
  alert: { bold: true },
  warn: {},
  ok: {},
  badge: { inverse: true, bold: true },
  key: { bold: true },
  header: { bold: true },
};

export function toneStyle(tone: Tone, colour: boolean): TextStyle {
  return (colour ? COLOUR : MONO)[tone];
}

/** Whether colour is on (false under NO_COLOR). */
export const ColourContext = createContext(true);

/** NO_COLOR (https://no-color.org): set and not empty disables colour. */
export function colourAllowed(env: Readonly<Record<string, string | undefined>>): boolean {
  const v = env['NO_COLOR'];
  return v === undefined || v === '';
}
