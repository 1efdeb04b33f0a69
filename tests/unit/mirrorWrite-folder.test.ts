import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseNctId } from '../../src/ctgov/nctId.js';
import { writeMirrorIndex, writeMirrorPage } from '../../src/mirror/write.js';

/*
 * The writer remembers folders it has created (one mkdir per folder, not per page) and fsyncs a
 * folder once, with the index, instead of after every page.
 */

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mirror-folder-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('mirror folders', () => {
  it('writes a page again after its folder was removed behind its back', async () => {
    const dir = join(root, 'mirror');
    expect(await writeMirrorPage(dir, parseNctId('NCT00000001'), 'one\n')).toBe('written');
    await rm(dir, { recursive: true });
    expect(await writeMirrorPage(dir, parseNctId('NCT00000002'), 'two\n')).toBe('written');
    expect(await readdir(dir)).toEqual(['NCT00000002.md']);
  });

  it('writes the index after the pages of an export, leaving only finished files', async () => {
    const dir = join(root, 'mirror');
    for (let i = 1; i <= 30; i++) await writeMirrorPage(dir, parseNctId(`NCT${String(i).padStart(8, '0')}`), `page ${i}\n`);
    expect(await writeMirrorIndex(dir, '# index\n')).toBe('written');
    expect(await writeMirrorIndex(dir, '# index\n')).toBe('unchanged');
    const files = await readdir(dir);
    expect(files).toHaveLength(31);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(await readFile(join(dir, 'NCT00000030.md'), 'utf8')).toBe('page 30\n');
  });
});
