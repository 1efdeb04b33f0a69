import { chmod, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type NctId, parseNctId } from '../../src/ctgov/nctId.js';
import { InputError, InvalidNctIdError } from '../../src/errors.js';
import { pagePath, writeMirrorPage } from '../../src/mirror/write.js';

const ID = parseNctId('NCT00855400');
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mirror-write-'));
});
afterEach(async () => {
  await chmod(dir, 0o755).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('writeMirrorPage', () => {
  it('writes NCT########.md and leaves no temp file behind', async () => {
    expect(await writeMirrorPage(dir, ID, '# page é\n')).toBe('written');
    expect(await readFile(join(dir, 'NCT00855400.md'), 'utf8')).toBe('# page é\n');
    expect(await readdir(dir)).toEqual(['NCT00855400.md']);
  });

  it('returns unchanged and keeps the mtime when the bytes are identical', async () => {
    const file = join(dir, 'NCT00855400.md');
    await writeMirrorPage(dir, ID, 'same\n');
    const old = new Date('2020-01-01T00:00:00Z');
    await utimes(file, old, old);
    expect(await writeMirrorPage(dir, ID, 'same\n')).toBe('unchanged');
    expect((await stat(file)).mtime.getTime()).toBe(old.getTime());
  });

  it('replaces a page whose bytes differ', async () => {
    await writeMirrorPage(dir, ID, 'old\n');
    expect(await writeMirrorPage(dir, ID, 'new\n')).toBe('written');
    expect(await readFile(join(dir, 'NCT00855400.md'), 'utf8')).toBe('new\n');
  });

  it('creates a missing directory', async () => {
    const nested = join(dir, 'a', 'b');
    expect(await writeMirrorPage(nested, ID, 'x')).toBe('written');
    expect(await readFile(join(nested, 'NCT00855400.md'), 'utf8')).toBe('x');
  });

  it.each(['../NCT00855400', 'NCT00855400/../../x', '/etc/passwd', 'NCT0085540', 'nct00855400', 'NCT00855400.md', ''])(
    'rejects the path-like or invalid NCT ID %j',
    async (bad) => {
      await expect(writeMirrorPage(dir, bad as NctId, 'x')).rejects.toBeInstanceOf(InvalidNctIdError);
      expect(() => pagePath(dir, bad as NctId)).toThrow(InvalidNctIdError);
      expect(await readdir(dir)).toEqual([]);
    },
  );

  it('fails with a clear error when the directory is a file', async () => {
    const file = join(dir, 'file');
    await writeFile(file, '');
    const err = await writeMirrorPage(file, ID, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/cannot write mirror pages to .*file \(ENOTDIR\)/);
  });
});
