import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeStaleTempFiles } from '../../src/mirror/write.js';

describe('removeStaleTempFiles', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const d = mkdtempSync(join(os.tmpdir(), 'ctgov-mirror-temp-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('removes the temp files of dead writers and old ones, and keeps pages, live writers and other files', async () => {
    const dir = fresh();
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const files = {
      deadWriter: `.NCT00000001.md.${dead}.a1b2c3d4e5f60.tmp`,
      ownWrite: `.NCT00000002.md.${process.pid}.a1b2c3d4e5f61.tmp`,
      liveWriter: `.NCT00000003.md.${process.ppid}.a1b2c3d4e5f62.tmp`,
      oldLiveWriter: `.NCT00000004.md.${process.ppid}.a1b2c3d4e5f63.tmp`,
      page: 'NCT00000005.md',
      notOurs: '.NCT00000006.md.swp',
      probeLike: '.ctgov-sync-probe.1.ab.tmp',
    };
    for (const name of Object.values(files)) writeFileSync(join(dir, name), 'x');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(join(dir, files.oldLiveWriter), twoHoursAgo, twoHoursAgo);

    expect(await removeStaleTempFiles(dir)).toBe(2);
    expect(readdirSync(dir).sort()).toEqual([files.ownWrite, files.liveWriter, files.page, files.notOurs, files.probeLike].sort());
  });

  it('finds nothing to do in a folder that does not exist yet', async () => {
    expect(await removeStaleTempFiles(join(fresh(), 'missing'))).toBe(0);
  });
});
