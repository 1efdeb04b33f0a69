import { randomBytes } from 'node:crypto';
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { notWritable, removeStaleTempFiles } from '../mirror/write.js';
import type { MirrorTarget } from './exportMirror.js';

export function mirrorTarget(config: Config, dir?: string): MirrorTarget {
  const { dir: configured, enabled: _enabled, profile, maxTableRows, maxTableColumns, ...settings } = config.mirror;
  return { dir: dir ?? configured, settings, profile, limits: { maxTableRows, maxTableColumns } };
}

/** The mirror to keep up to date during syncs, or undefined when it is switched off. */
export function mirrorToKeepInSync(config: Config): MirrorTarget | undefined {
  return config.mirror.enabled ? mirrorTarget(config) : undefined;
}

/**
 * Fails before anything is stored when the mirror folder cannot take pages (MIRROR_DIR is a file,
 * lies under one, or is read-only): otherwise a run would commit its studies and only then fail
 * on the first page. Creates the folder when it is missing, as the first page would, and removes
 * the temp files a killed run left in it.
 */
export async function assertMirrorWritable(target: MirrorTarget | undefined): Promise<void> {
  if (!target) return;
  const probe = join(target.dir, `.ctgov-sync-probe.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(target.dir, { recursive: true });
    const handle = await open(probe, 'wx');
    await handle.close();
    await unlink(probe);
  } catch (err) {
    throw notWritable(target.dir, err);
  }
  // Outside the probe's error handling: its own errors already say what failed.
  await removeStaleTempFiles(target.dir);
}
