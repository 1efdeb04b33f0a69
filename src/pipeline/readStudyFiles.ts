import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';
import { InputError } from '../errors.js';
import type { FailureRecord } from '../sql/runs.js';
import { failureOf } from './failureOf.js';
import type { RawRecord } from '../ctgov/rawRecord.js';
import { isPlainObject } from '../isPlainObject.js';
import { skipSpace, walkObject } from '../ctgov/jsonText.js';

export interface FileBatch {
  records: RawRecord[];
  failures: FailureRecord[];
}

export interface StudyFile {
  file: string;
  /** The user named this file itself rather than its folder. */
  named: boolean;
}

/** The files behind the given paths (a folder's own .json and .zip files); InputError if a path is missing. */
export async function listStudyFiles(paths: readonly string[]): Promise<StudyFile[]> {
  const files: StudyFile[] = [];
  for (const p of paths) files.push(...(await listFiles(p)));
  return files;
}

/**
 * Reads study JSON from files: a single study, an array of studies (the website's "Download →
 * JSON"), a `/studies` page, or a `.zip` of such files (the bulk download), and yields them in
 * batches. A file that cannot be read as any of these is a failure record, not an exception.
 */
export async function* readStudyFiles(files: readonly StudyFile[], batchSize: number): AsyncGenerator<FileBatch> {
  let batch: FileBatch = { records: [], failures: [] };
  for (const { file, named } of files) {
    const zip = file.toLowerCase().endsWith('.zip');
    const sources = zip ? readZipEntries(file) : readPlain(file);
    for await (const { name, bytes } of sources) {
      // A zip's entries are like a folder's files: its metadata.json is passed over.
      for (const item of recordsOf(name, bytes, named && !zip)) {
        if ('failure' in item) batch.failures.push(item.failure);
        else batch.records.push(item);
        if (batch.records.length >= batchSize) {
          yield batch;
          batch = { records: [], failures: [] };
        }
      }
    }
  }
  if (batch.records.length > 0 || batch.failures.length > 0) yield batch;
}

async function listFiles(path: string): Promise<StudyFile[]> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  if (info.isFile()) return [{ file: path, named: true }];
  const out: StudyFile[] = [];
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const child = join(path, e.name);
    if (e.isDirectory()) continue; // a folder's own files only: versions/ and the like are imported explicitly
    if (/\.(json|zip)$/i.test(e.name)) out.push({ file: child, named: false });
  }
  return out;
}

async function* readPlain(file: string): AsyncGenerator<{ name: string; bytes: Buffer }> {
  yield { name: file, bytes: await readFile(file) };
}

type Item = RawRecord | { failure: FailureRecord };

/**
 * The records in one file. A file holding one study (the bulk download's) is taken as its bytes,
 * decoded and parsed only if its hash is not the stored one (see RawRecord): re-importing an
 * unchanged download parses nothing. A JSON file found in a folder that holds no study at all
 * (say the API's metadata.json next to the studies) is passed over; one named on the command
 * line is a failure, since the user asked for it.
 */
function recordsOf(name: string, bytes: Buffer, named: boolean): Item[] {
  if (isStudyText(bytes)) return [{ json: bytes, source: name }];
  const idFromName = /(NCT\d{8})/i.exec(basename(name))?.[1]?.toUpperCase() ?? null;
  const text = bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return [{ failure: failureOf(idFromName, 'parse', new Error(`${name}: not valid JSON: ${(err as Error).message}`), text) }];
  }
  if (Array.isArray(value) && (named || value.some(isStudyLike))) return value.map((raw) => ({ raw }));
  if (isPlainObject(value) && Array.isArray(value.studies)) return value.studies.map((raw: unknown) => ({ raw }));
  if (isStudyLike(value)) return [{ raw: value, rawJson: text }];
  if (!named) return [];
  return [
    { failure: failureOf(idFromName, 'parse', new Error(`${name}: not a study, an array of studies or a /studies page`), text) },
  ];
}

function isStudyLike(v: unknown): boolean {
  return isPlainObject(v) && 'protocolSection' in v;
}

/**
 * A study as the bulk download has it, read from the bytes: one object, whole (it closes where
 * the file ends), with a `protocolSection` member. Anything else is parsed here.
 */
function isStudyText(bytes: Buffer): boolean {
  let study = false;
  const start = skipSpace(bytes, 0);
  const end = walkObject(bytes, start, (key) => {
    if (key === 'protocolSection') study = true;
    return undefined;
  });
  return study && end > 0 && skipSpace(bytes, end) === bytes.length;
}

/** The `.json` entries of a zip, one at a time (the bulk download holds one file per study). */
async function* readZipEntries(file: string): AsyncGenerator<{ name: string; bytes: Buffer }> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: true }, (err, z) => (err ? reject(new InputError(`cannot open zip ${file}: ${err.message}`)) : resolve(z))),
  );
  try {
    for (let entry = await nextEntry(zip); entry; entry = await nextEntry(zip)) {
      if (!/\.json$/i.test(entry.fileName) || entry.fileName.endsWith('/')) continue;
      yield { name: `${file}:${entry.fileName}`, bytes: await readEntry(file, zip, entry) };
    }
  } finally {
    zip.close();
  }
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise<yauzl.Entry | null>((resolve, reject) => {
    zip.once('entry', resolve);
    zip.once('end', () => resolve(null));
    zip.once('error', reject);
    zip.readEntry();
  }).finally(() => zip.removeAllListeners('entry').removeAllListeners('end').removeAllListeners('error'));
}

/**
 * An entry's bytes. A study's entry is small (32 kB on average): it is read compressed and
 * inflated in one call here, which costs less than a stream through the thread pool for each.
 */
function readEntry(file: string, zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  const deflated = entry.compressionMethod === 8;
  return new Promise<Buffer>((resolve, reject) =>
    zip.openReadStream(entry, { decompress: deflated ? false : null }, (err, stream) => {
      if (err) return reject(err);
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        let bytes = Buffer.concat(chunks);
        try {
          // Never more than the size the zip gives: a lying entry cannot inflate without bound.
          if (deflated) bytes = inflateRawSync(bytes, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
        } catch (e) {
          return reject(new Error(`${file}:${entry.fileName}: cannot inflate: ${(e as Error).message}`));
        }
        if (bytes.length === entry.uncompressedSize) resolve(bytes);
        else reject(new Error(`${file}:${entry.fileName}: ${bytes.length} bytes where the zip says ${entry.uncompressedSize}`));
      });
      stream.on('error', reject);
    }),
  );
}
