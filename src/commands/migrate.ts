import type { AppContext } from '../app.js';
import { migrate } from '../db/migrate.js';
import { plural } from './plural.js';

export async function runMigrate(app: AppContext, out: NodeJS.WritableStream): Promise<number> {
  const result = await migrate(app.db.pool, app.log);
  if (result.applied.length === 0) {
    out.write(`schema ctgov is up to date (${result.alreadyApplied} migrations) in ${app.db.describe}\n`);
  } else {
    out.write(`applied ${plural(result.applied.length, 'migration', 'migrations')} to ${app.db.describe}: ${result.applied.join(', ')}\n`);
  }
  return 0;
}
