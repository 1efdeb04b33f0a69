import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseNctId } from '../../src/ctgov/nctId.js';
import { InputError } from '../../src/errors.js';
import { MirrorPageBatch, PageListing } from '../../src/mirror/write.js';

/*
 * An export writes a chunk of pages as one batch: temp files first, fsynced together, then
 * renamed. Until the commit every page keeps its old bytes, and whatever fails, no temp file is
 * left behind and no page is half-written.
 */

const id = (n: number) => parseNctId(`NCT${String(n).padStart(8, '0')}`);
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mirror-batch-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const page = (n: number) => readFile(join(dir, `NCT${String(n).padStart(8, '0')}.md`), 'utf8');

describe('MirrorPageBatch', () => {
  it('leaves every page as it was until the commit, then replaces them all', async () => {
    await writeFile(join(dir, 'NCT00000001.md'), 'old 1\n');
    const batch = new MirrorPageBatch(dir);
    for (let n = 1; n <= 5; n++) expect(await batch.stage(id(n), `new ${n}\n`)).toBe('staged');
    expect(await page(1)).toBe('old 1\n');
    expect((await readdir(dir)).filter((f) => f.endsWith('.md'))).toEqual(['NCT00000001.md']);

    expect(await batch.commit()).toBe(5);
    for (let n = 1; n <= 5; n++) expect(await page(n)).toBe(`new ${n}\n`);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('does not stage a page that already holds the bytes', async () => {
    await writeFile(join(dir, 'NCT00000001.md'), 'same\n');
    const batch = new MirrorPageBatch(dir);
    expect(await batch.stage(id(1), 'same\n')).toBe('unchanged');
    expect(await batch.commit()).toBe(0);
    expect(await readdir(dir)).toEqual(['NCT00000001.md']);
  });

  it('abort removes the temp files and keeps the old pages', async () => {
    await writeFile(join(dir, 'NCT00000001.md'), 'old 1\n');
    const batch = new MirrorPageBatch(dir);
    await batch.stage(id(1), 'new 1\n');
    await batch.stage(id(2), 'new 2\n');
    await batch.abort();
    expect(await readdir(dir)).toEqual(['NCT00000001.md']);
    expect(await page(1)).toBe('old 1\n');
  });

  it('a rename that fails is thrown after the others are in place, with no temp file left', async () => {
    const batch = new MirrorPageBatch(dir);
    for (let n = 1; n <= 3; n++) await batch.stage(id(n), `new ${n}\n`);
    // A folder now stands where page 2 belongs: its rename fails, the other two succeed.
    await mkdir(join(dir, 'NCT00000002.md'));
    await writeFile(join(dir, 'NCT00000002.md', 'keep'), '');
    const err = await batch.commit().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(dir);
    expect(await page(1)).toBe('new 1\n');
    expect(await page(3)).toBe('new 3\n');
    expect((await readdir(dir)).sort()).toEqual(['NCT00000001.md', 'NCT00000002.md', 'NCT00000003.md']);
  });
});

describe('PageListing', () => {
  it('holds the pages the folder had when listed, and nothing else', async () => {
    for (const n of [7, 1, 12345678, 99999999, 3]) await writeFile(join(dir, `NCT${String(n).padStart(8, '0')}.md`), 'x\n');
    await writeFile(join(dir, 'index.md'), 'x\n');
    await writeFile(join(dir, '.NCT00000002.md.1.ab.tmp'), 'x\n');
    await writeFile(join(dir, 'NCT00000004.md.bak'), 'x\n');
    await mkdir(join(dir, 'NCT00000005.md.d'));
    const listing = await PageListing.of(dir);
    const held = Array.from({ length: 9 }, (_, n) => n + 1).filter((n) => listing.has(id(n)));
    expect(held).toEqual([1, 3, 7]);
    expect([12345678, 99999999, 12345677, 99999998].map((n) => listing.has(id(n)))).toEqual([true, true, false, false]);
  });

  it('is empty for a folder that does not exist yet', async () => {
    const listing = await PageListing.of(join(dir, 'not-yet'));
    expect(listing.has(id(1))).toBe(false);
  });

  it('a batch given a listing compares the pages it holds and writes the others without reading them', async () => {
    await writeFile(join(dir, 'NCT00000001.md'), 'same\n');
    const listing = await PageListing.of(dir);
    // Appears after the listing: replaced without being compared (it would be `unchanged` otherwise).
    await writeFile(join(dir, 'NCT00000002.md'), 'same\n');
    const batch = new MirrorPageBatch(dir, listing);
    expect(await batch.stage(id(1), 'same\n')).toBe('unchanged');
    expect(await batch.stage(id(2), 'same\n')).toBe('staged');
    expect(await batch.stage(id(3), 'new 3\n')).toBe('staged');
    expect(await batch.commit()).toBe(2);
    expect([await page(1), await page(2), await page(3)]).toEqual(['same\n', 'same\n', 'new 3\n']);
  });
});
