/**
 * A system call's error in words: "ENOSPC: no space left on device, write" -> "no space left on
 * device"; "EROFS: read-only file system, open '/x'" -> "read-only file system".
 */
export function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const reason = code !== undefined ? REASONS[code] : undefined;
  if (reason !== undefined) return reason;
  const message = err instanceof Error ? err.message : String(err);
  const m = /^[A-Z0-9]+: (.*?)(?:, \w+(?: '.*')?)?$/.exec(message);
  return m !== null ? m[1]! : message;
}

/** Where Node's own words say less than they could. (ENOENT depends on what was opened: callers say it.) */
const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
};
