import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { type NctId, isNctId } from '../ctgov/nctId.js';
import { InputError, InvalidNctIdError } from '../errors.js';
import { isProcessRunning } from '../processes.js';

/**
 * Writes `dir/NCT########.md` atomically (temp file in the same folder, fsync, rename), so a
 * reader never sees half a page, nor after a crash; skipped when the file already holds exactly
 * these bytes, which keeps its mtime and lets rsync/static hosts see only real changes. An
 * export writes its pages through a MirrorPageBatch instead: the same steps, with the fsyncs of a
 * chunk of pages issued together.
 *
 * The folder itself (which makes the renames durable) is fsynced once per export, when the
 * index is written (every export ends with it), not after every page: a directory fsync costs
 * as much as the rest of a page write. A crash before it can only leave a page's previous
 * version, which the next export replaces.
 */
export async function writeMirrorPage(dir: string, nctId: NctId, text: string): Promise<'written' | 'unchanged'> {
  const batch = new MirrorPageBatch(dir);
  if ((await batch.stage(nctId, text)) === 'unchanged') return 'unchanged';
  await batch.commit();
  return 'written';
}

/** The mirror's `index.md`, written the same way as the pages; then the folders are made durable. */
export async function writeMirrorIndex(dir: string, text: string): Promise<'written' | 'unchanged'> {
  const target = path.join(path.resolve(dir), 'index.md');
  const batch = new MirrorPageBatch(dir);
  const staged = await batch.stageFile(target, text);
  if (staged === 'staged') await batch.commit();
  unsyncedDirs.add(path.dirname(target));
  await fsyncMirrorDirs();
  return staged === 'staged' ? 'written' : 'unchanged';
}

// The calls made for every page go through the callback API: fs/promises (FileHandle) costs the
// main thread several times as much per call, and rendering pages waits for that thread.
const pageFs = {
  readFile: promisify(fs.readFile),
  open: promisify(fs.open),
  writeFile: promisify(fs.writeFile),
  fsync: promisify(fs.fsync),
  close: promisify(fs.close),
  rename: promisify(fs.rename),
  unlink: promisify(fs.unlink),
};

/** Folders that hold pages renamed since their last fsync. */
const unsyncedDirs = new Set<string>();
/** Folders known to exist: creating them again for every page is one syscall too many. */
const knownDirs = new Set<string>();

/** fsyncs the folders of the pages written since the last call (the index write does it too). */
export async function fsyncMirrorDirs(): Promise<void> {
  const dirs = [...unsyncedDirs];
  unsyncedDirs.clear();
  await Promise.all(dirs.map(syncDir));
}

/** A page in its temp file, still open: fsynced and renamed when its batch commits. */
interface StagedPage {
  temp: string;
  target: string;
  fd: number;
}

/**
 * Pages written as one batch: `stage` puts each page whose bytes changed into a temp file next
 * to it, `commit` fsyncs all those files at once, then renames each over its page. A page is
 * renamed only once its bytes are on disk, so after a crash each page is its old or its new
 * version, whole; what a crash before the renames leaves is temp files, which
 * removeStaleTempFiles clears. Issuing a chunk's fsyncs together lets the file system commit
 * them together, where one page after the other made every page wait for its own; each staged
 * page holds a file descriptor until the commit, so a batch is one chunk of an export.
 */
export class MirrorPageBatch {
  private staged: StagedPage[] = [];

  /** `listing`: the folder's pages as listed before; a page not among them is not read first. */
  constructor(
    private readonly dir: string,
    private readonly listing?: PageListing,
  ) {}

  /** Stages the page of `nctId`, or returns `unchanged` when its file already holds these bytes. */
  stage(nctId: NctId, text: string): Promise<'staged' | 'unchanged'> {
    const target = pagePath(this.dir, nctId);
    return this.stageFile(target, text, this.listing && !this.listing.has(nctId));
  }

  /** Stages any file of the mirror folder (the index); `absent`: known not to exist, not read. */
  async stageFile(target: string, text: string, absent = false): Promise<'staged' | 'unchanged'> {
    const bytes = Buffer.from(text, 'utf8');
    const current = absent ? undefined : await readIfExists(target);
    if (current?.equals(bytes)) return 'unchanged';
    const folder = path.dirname(target);
    try {
      if (!knownDirs.has(folder)) await makeDir(folder);
      const staged = await writeTemp(target, bytes).catch(async (err: unknown) => {
        // The folder went away since we last saw it: create it again, once.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await makeDir(folder);
        return writeTemp(target, bytes);
      });
      this.staged.push(staged);
    } catch (err) {
      throw notWritable(this.dir, err);
    }
    return 'staged';
  }

  /**
   * fsyncs the staged files, then renames them over their pages; returns how many pages it
   * wrote. On a failure the temp files not renamed are removed, and it is thrown.
   */
  async commit(): Promise<number> {
    const staged = this.staged;
    this.staged = [];
    const synced = await Promise.allSettled(staged.map((s) => pageFs.fsync(s.fd)));
    await closeAll(staged);
    const failed = synced.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await unlinkAll(staged);
      throw notWritable(this.dir, failed.reason);
    }
    const renamed = await Promise.allSettled(staged.map((s) => pageFs.rename(s.temp, s.target)));
    let written = 0;
    let failure: unknown;
    for (const [i, r] of renamed.entries()) {
      if (r.status === 'fulfilled') {
        written++;
        unsyncedDirs.add(path.dirname(staged[i]!.target));
      } else {
        failure ??= r.reason;
        await pageFs.unlink(staged[i]!.temp).catch(() => undefined);
      }
    }
    if (failure !== undefined) throw notWritable(this.dir, failure);
    return written;
  }

  /** Drops the staged pages: their temp files are removed, the pages stay as they were. */
  async abort(): Promise<void> {
    const staged = this.staged;
    this.staged = [];
    await closeAll(staged);
    await unlinkAll(staged);
  }
}

/**
 * The pages a mirror folder held when it was listed, as their NCT numbers (four bytes a page).
 * An export of the whole mirror lists the folder once, so that a page it does not hold yet (every
 * page of a new mirror) is written without trying to read it first: a failed read costs more than
 * the write, in the error Node builds for it. A page that appears after the listing is replaced
 * without being compared, which costs it only its mtime.
 */
export class PageListing {
  private constructor(private readonly numbers: Uint32Array) {}

  static async of(dir: string): Promise<PageListing> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new PageListing(new Uint32Array(0));
      throw notWritable(dir, err);
    }
    const numbers = names.flatMap((name) => {
      const m = PAGE_NAME.exec(name);
      return m ? [Number(m[1])] : [];
    });
    return new PageListing(Uint32Array.from(numbers).sort());
  }

  has(nctId: NctId): boolean {
    const n = Number(nctId.slice(3));
    let lo = 0;
    let hi = this.numbers.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.numbers[mid]!;
      if (v === n) return true;
      if (v < n) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}
const PAGE_NAME = /^NCT(\d{8})\.md$/;

async function closeAll(staged: readonly StagedPage[]): Promise<void> {
  await Promise.all(staged.map((s) => pageFs.close(s.fd).catch(() => undefined)));
}

async function unlinkAll(staged: readonly StagedPage[]): Promise<void> {
  await Promise.all(staged.map((s) => pageFs.unlink(s.temp).catch(() => undefined)));
}

async function makeDir(folder: string): Promise<void> {
  await mkdir(folder, { recursive: true });
  knownDirs.add(folder);
}

/** The page's path; the NCT ID is checked again at runtime because a brand is only a cast away. */
export function pagePath(dir: string, nctId: NctId): string {
  if (!isNctId(nctId)) throw new InvalidNctIdError(nctId);
  const root = path.resolve(dir);
  const target = path.resolve(root, `${nctId}.md`);
  if (path.dirname(target) !== root) throw new InvalidNctIdError(nctId);
  return target;
}

// Temp names: the process id, a random part drawn once per process, then a counter (not a
// synchronous call into the crypto library per page); `wx` still refuses a name that exists,
// whoever made it. The pid tells removeStaleTempFiles whose a temp file is.
const tempTag = `${process.pid}.${randomBytes(6).toString('hex')}`;
let tempCount = 0;
const TEMP_NAME = /^\.NCT\d{8}\.md\.(\d+)\.[0-9a-f]+\.tmp$/;
const STALE_TEMP_MS = 3_600_000;

/**
 * Removes the temp files a killed writer left in the mirror folder: those of a process that is
 * no longer running on this machine, or older than an hour whoever wrote them (a temp file lives
 * for milliseconds). Returns how many were removed; a folder that does not exist has none.
 */
export async function removeStaleTempFiles(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw notWritable(dir, err);
  }
  let removed = 0;
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const file = path.join(dir, name);
    const pid = Number(m[1]);
    const orphaned = pid !== process.pid && !isProcessRunning(pid);
    if ((orphaned || (await olderThan(file, STALE_TEMP_MS))) && (await unlink(file).then(() => true, () => false))) removed++;
  }
  return removed;
}

async function olderThan(file: string, ms: number): Promise<boolean> {
  const st = await stat(file).catch(() => undefined);
  return st !== undefined && Date.now() - st.mtimeMs > ms;
}

async function writeTemp(target: string, bytes: Buffer): Promise<StagedPage> {
  // Dot-prefixed so a `*.md` glob over the mirror never picks up a half-written page.
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${tempTag}${(tempCount++).toString(16)}.tmp`);
  const fd = await pageFs.open(temp, 'wx');
  try {
    await pageFs.writeFile(fd, bytes);
  } catch (err) {
    await pageFs.close(fd).catch(() => undefined);
    await pageFs.unlink(temp).catch(() => undefined);
    throw err;
  }
  return { temp, target, fd };
}

// Makes the rename itself durable; some platforms (Windows) cannot fsync a directory, and the
// page is already in place, so a failure here is not worth failing the export for.
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort, see above
  }
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await pageFs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw notWritable(path.dirname(file), err);
  }
}

/** The error for a mirror folder that cannot take pages; `err` is the file system's. */
export function notWritable(dir: string, err: unknown): InputError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  const reason = err instanceof Error ? err.message : String(err);
  return new InputError(`cannot write mirror pages to ${dir} (${code}): ${reason}`, { cause: err });
}
