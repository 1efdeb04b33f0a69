import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { type NctId, isNctId } from '../ctgov/nctId.js';
import { InputError, InvalidNctIdError } from '../errors.js';

/**
 * Writes `dir/NCT########.md` atomically (temp file in the same folder, fsync, rename), so a
 * reader never sees half a page; skipped when the file already holds exactly these bytes, which
 * keeps its mtime and lets rsync/static hosts see only real changes.
 */
export async function writeMirrorPage(dir: string, nctId: NctId, text: string): Promise<'written' | 'unchanged'> {
  return writeIfChanged(dir, pagePath(dir, nctId), text);
}

/** The mirror's `index.md`, written the same way as the pages. */
export async function writeMirrorIndex(dir: string, text: string): Promise<'written' | 'unchanged'> {
  return writeIfChanged(dir, path.join(path.resolve(dir), 'index.md'), text);
}

async function writeIfChanged(dir: string, target: string, text: string): Promise<'written' | 'unchanged'> {
  const bytes = Buffer.from(text, 'utf8');
  const current = await readIfExists(target);
  if (current?.equals(bytes)) return 'unchanged';
  await mkdir(path.dirname(target), { recursive: true }).catch((err: unknown) => {
    throw notWritable(dir, err);
  });
  await replaceAtomically(target, bytes).catch((err: unknown) => {
    throw notWritable(dir, err);
  });
  return 'written';
}

/** The page's path; the NCT ID is checked again at runtime because a brand is only a cast away. */
export function pagePath(dir: string, nctId: NctId): string {
  if (!isNctId(nctId)) throw new InvalidNctIdError(nctId);
  const root = path.resolve(dir);
  const target = path.resolve(root, `${nctId}.md`);
  if (path.dirname(target) !== root) throw new InvalidNctIdError(nctId);
  return target;
}

async function replaceAtomically(target: string, bytes: Buffer): Promise<void> {
  // Dot-prefixed so a `*.md` glob over the mirror never picks up a half-written page.
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncDir(path.dirname(target));
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
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw notWritable(path.dirname(file), err);
  }
}

function notWritable(dir: string, err: unknown): InputError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  const reason = err instanceof Error ? err.message : String(err);
  return new InputError(`cannot write mirror pages to ${dir} (${code}): ${reason}`, { cause: err });
}
