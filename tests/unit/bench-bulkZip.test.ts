import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeBulkZip } from '../../bench/bulkZip.js';
import { Catalog } from '../../bench/catalog.js';
import { recordValue } from '../../src/ctgov/rawRecord.js';
import { listStudyFiles, readStudyFiles } from '../../src/pipeline/readStudyFiles.js';

// bench:scale imports a zip of 100,000 studies it writes itself: the importer must read it whole.
const dir = mkdtempSync(join(tmpdir(), 'bench-zip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench bulk zip', () => {
  it('holds the catalog studies as the importer reads them', async () => {
    const catalog = new Catalog(5);
    const path = join(dir, 'small.zip');
    writeBulkZip(path, catalog);
    const records: unknown[] = [];
    for await (const batch of readStudyFiles(await listStudyFiles([path]), 10)) {
      expect(batch.failures).toEqual([]);
      records.push(...batch.records.map(recordValue));
    }
    // Its end records are zip64's (a 100,000-entry zip needs them): the reader must find every entry.
    expect(records).toEqual([0, 1, 2, 3, 4].map((i) => catalog.study(i)));
  });
});
