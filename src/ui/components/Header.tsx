/** The header: source, rates now, totals, progress or drops, and what needs attention (4 lines). */
import { headerLines, type HeaderInput } from '../view-model/header-lines.js';
import { Lines } from './Lines.js';

export type HeaderProps = HeaderInput;

export function Header(props: HeaderProps) {
  return <Lines lines={headerLines(props)} />;
}
