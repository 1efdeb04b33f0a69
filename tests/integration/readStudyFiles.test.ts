import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordValue, type RawRecord } from '../../src/ctgov/rawRecord.js';
import { InputError } from '../../src/errors.js';
import { validateNormalizeHash } from '../../src/pipeline/validateNormalizeHash.js';
import { listStudyFiles, readStudyFiles, type FileBatch } from '../../src/pipeline/readStudyFiles.js';
import { readFixture } from '../support/ctgovFixtures.js';
import { makeZip } from '../support/zip.js';

async function readAll(paths: string[], batchSize = 100): Promise<FileBatch[]> {
  const out: FileBatch[] = [];
  for await (const b of readStudyFiles(await listStudyFiles(paths), batchSize)) out.push(b);
  return out;
}

const idOf = (record: RawRecord) => (recordValue(record) as any).protocolSection.identificationModule.nctId as string;

describe('readStudyFiles', () => {
  const a = readFixture('NCT00000410');
  const b = readFixture('NCT00162175');
  const c = readFixture('NCT00184067');

  it('reads a single study, an array, a /studies page and a bulk zip', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctgov-files-'));
    writeFileSync(join(dir, 'single.json'), JSON.stringify(a));
    writeFileSync(join(dir, 'array.json'), JSON.stringify([b]));
    writeFileSync(join(dir, 'page.json'), JSON.stringify({ studies: [c], nextPageToken: 'x' }));
    writeFileSync(
      join(dir, 'ctg-studies.json.zip'),
      makeZip([
        { name: 'NCT00000410.json', text: JSON.stringify(a) },
        { name: 'NCT00162175.json', text: JSON.stringify(b) },
        { name: 'notes.txt', text: 'not a study' },
      ]),
    );
    const batches = await readAll([dir]);
    const ids = batches.flatMap((x) => x.records.map(idOf));
    // Folder files in name order: array.json, ctg-studies.json.zip (2 entries), page.json, single.json.
    expect(ids).toEqual(['NCT00162175', 'NCT00000410', 'NCT00162175', 'NCT00184067', 'NCT00000410']);
    expect(batches.flatMap((x) => x.failures)).toEqual([]);
  });

  it('takes a file holding one study as its bytes, parsed only when the pipeline needs it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctgov-files-'));
    const text = JSON.stringify(a, null, 1);
    writeFileSync(join(dir, 'NCT00000410.json'), text);
    writeFileSync(join(dir, 'ctg.zip'), makeZip([{ name: 'NCT00162175.json', text: JSON.stringify(b) }]));
    // Balanced, so taken as a study, but not JSON: it fails where it is parsed, named by its file.
    writeFileSync(join(dir, 'NCT00184067.json'), '{"protocolSection":{"identificationModule":{"nctId":"NCT00184067"}},"hasResults":tru}');
    const records = (await readAll([dir])).flatMap((x) => x.records);
    expect(records.map((r) => ('json' in r ? [r.source, r.json.toString('utf8')] : 'parsed'))).toEqual([
      [join(dir, 'NCT00000410.json'), text],
      [join(dir, 'NCT00184067.json'), expect.stringContaining('tru}')],
      [`${join(dir, 'ctg.zip')}:NCT00162175.json`, JSON.stringify(b)],
    ]);
    expect(validateNormalizeHash(records[1]!)).toMatchObject({
      ok: false,
      failure: { nctId: 'NCT00184067', stage: 'parse', error: expect.stringContaining(`${join(dir, 'NCT00184067.json')}: not valid JSON`) },
    });
    const stored = validateNormalizeHash(records[0]!);
    expect(stored).toMatchObject({ ok: true, observation: { kind: 'full', nctId: 'NCT00000410' } });
    // Kept as the file's bytes (the version is written from them), not decoded into a string.
    const rawJson = stored.ok && stored.observation.kind === 'full' ? stored.observation.rawJson : undefined;
    expect(Buffer.isBuffer(rawJson) && rawJson.equals(Buffer.from(text))).toBe(true);
  });

  it('yields batches of the requested size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctgov-files-'));
    writeFileSync(join(dir, 'array.json'), JSON.stringify([a, b, c, a, b]));
    const batches = await readAll([dir], 2);
    expect(batches.map((x) => x.records.length)).toEqual([2, 2, 1]);
  });

  it('turns a broken file into a failure naming the study, and passes over non-study JSON in a folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctgov-files-'));
    writeFileSync(join(dir, 'NCT00000410.json'), '{"protocolSection": {"identificationModule": ');
    writeFileSync(join(dir, 'metadata.json'), JSON.stringify([{ name: 'protocolSection', children: [] }]));
    const batches = await readAll([dir]);
    const failures = batches.flatMap((x) => x.failures);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ nctId: 'NCT00000410', stage: 'parse' });
    expect(failures[0]!.error).toMatch(/not valid JSON/);
    // Named explicitly, the same metadata file is reported.
    const named = await readAll([join(dir, 'metadata.json')]);
    expect(named.flatMap((x) => x.records)).toHaveLength(1); // an array is taken as records; validation rejects it later
    const page = join(dir, 'odd.json');
    writeFileSync(page, JSON.stringify({ hello: 'world' }));
    expect((await readAll([page])).flatMap((x) => x.failures)[0]!.error).toMatch(/not a study, an array of studies or a \/studies page/);
  });

  it('stops at a zip entry whose size is not the one the zip gives, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctgov-files-'));
    const text = JSON.stringify(a);
    for (const [claimed, message] of [
      [text.length - 10, /NCT00000410\.json: cannot inflate/],
      [text.length + 10, /NCT00000410\.json: \d+ bytes where the zip says \d+/],
    ] as const) {
      const zip = makeZip([{ name: 'NCT00000410.json', text }]);
      // The central directory's uncompressed size, which the reader goes by.
      const central = zip.readUInt32LE(zip.length - 22 + 16);
      zip.writeUInt32LE(claimed, central + 24);
      const file = join(dir, `claimed-${claimed}.zip`);
      writeFileSync(file, zip);
      await expect(readAll([file])).rejects.toThrow(message);
    }
  });

  it('rejects a missing path before reading anything', async () => {
    await expect(listStudyFiles(['/nonexistent/x.json'])).rejects.toBeInstanceOf(InputError);
  });
});
