/** System call errors in words, for one-line messages. */
import { describe, expect, it } from 'vitest';
import { errnoText } from '../../src/util/errno.js';

describe('errnoText', () => {
  it('keeps the words of Node\'s errno messages, without the code, the call and the path', () => {
    expect(errnoText(new Error('ENOSPC: no space left on device, write'))).toBe('no space left on device');
    expect(errnoText(new Error("EROFS: read-only file system, open '/mnt/ro/flows.ndjson'"))).toBe('read-only file system');
    expect(errnoText(new Error("EISDIR: illegal operation on a directory, open '/tmp'"))).toBe('illegal operation on a directory');
    expect(errnoText(new Error('EFBIG: file too large, write'))).toBe('file too large');
  });

  it('leaves other messages as they are', () => {
    expect(errnoText(new Error('something else, entirely'))).toBe('something else, entirely');
    expect(errnoText('a string')).toBe('a string');
  });
});
