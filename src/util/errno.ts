/**
 * A system call's error in words: "ENOSPC: no space left on device, write" -> "no space left on
 * device"; "EROFS: read-only file system, open '/x'" -> "read-only file system".
 */
export function errnoText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const m = /^[A-Z0-9]+: (.*?)(?:, \w+(?: '.*')?)?$/.exec(message);
  return m !== null ? m[1]! : message;
}
