/**
 * The terminal a dashboard draws on, and where its keys come from.
 *
 * Frames go to stdout, which must be a terminal. Keys come from stdin when it is that terminal;
 * otherwise (`tcpdump -w - | portsniff replay -`, `< /dev/null`) from the process's controlling
 * terminal, `/dev/tty`, as `less` and `fzf` read theirs, provided it is the terminal stdout writes
 * to (drawing on one terminal while reading keys on another would be no dashboard). A background
 * job (`portsniff replay F &`) has none: making the terminal raw would stop it (SIGTTOU).
 *
 * The descriptor of `/dev/tty` is opened on the main thread, which never closes what its workers'
 * streams close (Node tracks descriptors per worker thread and closes those left open when the
 * worker exits: a descriptor opened in one thread and closed by another is closed twice). Its
 * one closer is the stream that reads the keys.
 */
import { constants, fstatSync, openSync, readFileSync } from 'node:fs';
import type tty from 'node:tty';
import { nodeTty } from '../util/builtins.js';

export interface Terminal {
  stdout: NodeJS.WriteStream;
  /**
   * The descriptor to read keys from: 0 when stdin is the terminal, else the controlling terminal
   * opened on the first call (the stream reading it closes it). A string: why no keys can be read.
   */
  keysFd(): number | string;
}

const CONTROLLING_TERMINAL = '/dev/tty';

export interface TerminalSources {
  stdout?: NodeJS.WriteStream;
  stdinFd?: number;
  /** The process's controlling terminal (default: from /proc/self/stat). */
  controlling?: () => ControllingTerminal;
  /** Where the controlling terminal is opened (tests give a pseudo-terminal's path). */
  ttyPath?: string;
}

export interface ControllingTerminal {
  /** Its device number (as stat(2)'s st_rdev), 0 for none. */
  device: number;
  /** Whether this process's group is the terminal's foreground group (not `portsniff ... &`). */
  foreground: boolean;
}

/** The process's terminal: null when stdout is not one. */
export function processTerminal(sources: TerminalSources = {}): Terminal | null {
  const stdout = sources.stdout ?? process.stdout;
  if (stdout.isTTY !== true) return null;
  const stdoutFd = (stdout as NodeJS.WriteStream & { fd?: number }).fd ?? 1;
  let keys: number | string | undefined;
  return {
    stdout,
    keysFd: () => (keys ??= findKeys(stdoutFd, sources.stdinFd ?? 0, (sources.controlling ?? processControllingTerminal)(), sources.ttyPath ?? CONTROLLING_TERMINAL)),
  };
}

function findKeys(stdoutFd: number, stdinFd: number, controlling: ControllingTerminal, path: string): number | string {
  // A background job that made its terminal raw, or read it, would be stopped (SIGTTOU, SIGTTIN).
  if (controlling.device !== 0 && !controlling.foreground) return 'running in the background (another process group has the terminal)';
  if (nodeTty().isatty(stdinFd)) return stdinFd;
  if (controlling.device === 0) return 'stdin is not a terminal and the process has no controlling terminal';
  // fstat of /dev/tty names /dev/tty itself, not the terminal behind it: compare device numbers first.
  let stdoutDevice = -1;
  try {
    stdoutDevice = fstatSync(stdoutFd).rdev;
  } catch {
    // stdout is gone: no terminal either way.
  }
  if (stdoutDevice !== controlling.device) return 'stdin is not a terminal and stdout is not the controlling terminal';
  try {
    return openSync(path, constants.O_RDWR | constants.O_NOCTTY);
  } catch (e) {
    return `stdin is not a terminal and ${path} cannot be opened (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
}

/** The process's controlling terminal, from /proc/self/stat (none if it cannot be read). */
function processControllingTerminal(): ControllingTerminal {
  try {
    return controllingTerminalOf(readFileSync('/proc/self/stat', 'latin1'));
  } catch {
    return { device: 0, foreground: false };
  }
}

/**
 * From a /proc/PID/stat line (proc(5)): tty_nr (7th field; encoded as stat(2)'s st_rdev for every
 * terminal, majors below 4096) and whether tpgid (8th), the terminal's foreground group, is pgrp
 * (5th). The 2nd field, the command's name in parentheses, may itself hold spaces and
 * parentheses: fields are counted from the last ')'.
 */
export function controllingTerminalOf(stat: string): ControllingTerminal {
  const fields = stat.slice(stat.lastIndexOf(')') + 1).trim().split(/\s+/);
  const [pgrp, ttyNr, tpgid] = [Number(fields[2]), Number(fields[4]), Number(fields[5])];
  if (!(Number.isInteger(ttyNr) && ttyNr > 0)) return { device: 0, foreground: false };
  return { device: ttyNr, foreground: Number.isInteger(pgrp) && pgrp > 0 && tpgid === pgrp };
}

/** A stream of the keys on this thread (a dashboard drawn in the session's thread). */
export function keysStream(fd: number): tty.ReadStream {
  return fd === 0 ? (process.stdin as tty.ReadStream) : new (nodeTty().ReadStream)(fd);
}
