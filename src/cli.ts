import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { packageRoot } from './paths.js';
import { createApp, type AppContext } from './app.js';
import { runBackfillCommand } from './commands/backfill.js';
import { runExport } from './commands/export.js';
import { runHistory } from './commands/history.js';
import { runImport } from './commands/import.js';
import { parseResyncArgs, resyncViaWorker, runResync } from './commands/resync.js';
import { runRuns } from './commands/runs.js';
import { runSync } from './commands/sync.js';
import { runWorkerCommand } from './commands/worker.js';
import { EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, type CliIo } from './commands/io.js';
import { runMigrate } from './commands/migrate.js';
import { migrate } from './db/migrate.js';
import { AppError, coerceError, DbLockedError } from './errors.js';
import { loadConfig } from './config.js';

export { EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, type CliIo };

type Action = (app: AppContext, io: CliIo) => Promise<number>;

/**
 * Runs the command line and returns the exit code. Every error that stops a command before it
 * finishes becomes one line on stderr and exit code 2.
 */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version land here with exit code 0.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    io.stderr.write(`ctgov-sync: ${describeError(err)}\n`);
    return EXIT_USAGE;
  }
}

function describeError(err: unknown): string {
  const e = coerceError(err);
  if (e instanceof AppError) return e.message;
  return `unexpected error: ${e.message}`;
}

/**
 * On a terminal a command shows its own summary; its log lines below `warn` would only repeat it
 * (and list every migration), so they are hidden unless LOG_LEVEL asks for them.
 */
function commandEnv(io: CliIo): CliIo['env'] {
  return io.stderr.isTTY && !io.env.LOG_LEVEL ? { ...io.env, LOG_LEVEL: 'warn' } : io.env;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function defaultIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

function buildProgram(io: CliIo, setCode: (code: number) => void): Command {
  const program = new Command('ctgov-sync')
    .description('Keeps a Postgres mirror of ClinicalTrials.gov with per-field change history and a markdown mirror.')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run with --help for usage)')
    .version(packageVersion(), '-V, --version', 'print the version')
    .allowExcessArguments(false);

  const action =
    (run: Action, options: { migrate?: boolean } = {}) =>
    async () => {
      const app = await createApp({ env: commandEnv(io) });
      try {
        if (options.migrate !== false) await migrate(app.db.pool, app.log);
        setCode(await run(app, io));
      } finally {
        await app.close();
      }
    };

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(action((app) => runMigrate(app, io.stdout), { migrate: false }));

  program
    .command('sync')
    .description('fetch studies from CT.gov now and store them (a manual resync); without arguments, the configured watchlist')
    .argument('[nct...]', 'NCT IDs to sync')
    .option('--file <file>', 'read NCT IDs from a file (whitespace or comma separated, # comments)')
    .option('--query <expr>', 'sync the studies a /studies query returns, e.g. "cond=Parkinson Disease" (repeatable)', collect, [])
    .option('--max <n>', 'for this run, the most studies a query may match (default: sync.maxQueryStudies)')
    .action((ids: string[], opts: { file?: string; query?: string[]; max?: string }) => action((app) => runSync(app, io, ids, opts))());

  program
    .command('backfill')
    .description("a study's whole change history from CT.gov's record versions; without arguments, the tracked studies never backfilled")
    .argument('[nct...]', 'NCT IDs to backfill')
    .option('--file <file>', 'read NCT IDs from a file (whitespace or comma separated, # comments)')
    .option('--all', 'every tracked study stored by a sync')
    .option('--force', 'fetch every version again and rebuild the history')
    .action((ids: string[], opts: { file?: string; all?: boolean; force?: boolean }) => action((app) => runBackfillCommand(app, io, ids, opts))());

  program
    .command('import')
    .description('ingest study JSON from files: a study, an array, a /studies page, a folder of them, or the bulk .zip')
    .argument('<path...>', 'files or folders')
    .option('--observed-at <iso>', 'record the studies as observed at this instant (default: now)')
    .action((paths: string[], opts: { observedAt?: string }) => action((app) => runImport(app, io, paths, opts))());

  program
    .command('export')
    .description('(re)render mirror pages from the database')
    .argument('[nct...]', 'NCT IDs to export')
    .option('--all', 'every study in the database, and the index')
    .option('--now <iso>', 'render as of this instant (the recent-changes window and last_seen_at use it)')
    .option('--out <dir>', 'write to this folder instead of MIRROR_DIR')
    .action((ids: string[], opts: { all?: boolean; now?: string; out?: string }) => action((app) => runExport(app, io, ids, opts))());

  program
    .command('history')
    .description("print a study's change history")
    .argument('<nct>', 'NCT ID')
    .option('--path <path>', 'only this field path, or a prefix ending in * (e.g. locations.*)')
    .option('--since <date>', 'only changes detected at or after this date or instant')
    .option('--json', 'print JSON')
    .action((id: string, opts: { path?: string; since?: string; json?: boolean }) => action((app) => runHistory(app, io, id, opts))());

  program
    .command('runs')
    .description('recent sync runs with their counts')
    .option('--limit <n>', 'how many runs (default 20)')
    .action((opts: { limit?: string }) => action((app) => runRuns(app, io, opts))());

  program
    .command('worker')
    .description('run the scheduler, the resync queue and the /healthz and /metrics endpoint until SIGINT or SIGTERM')
    .action(async () => setCode(await runWorkerCommand(io)));

  program
    .command('resync')
    .description('queue a resync for the running worker (a row in ctgov.resync_requests, and a NOTIFY)')
    .argument('[nct...]', 'NCT IDs to resync')
    .option('--all', 'every actively tracked study')
    .option('--reason <text>', 'why (stored with the request)')
    .action(async (ids: string[], opts: { all?: boolean; reason?: string }) => {
      const request = parseResyncArgs(ids, opts);
      try {
        await action((app) => runResync(app, io, request))();
      } catch (err) {
        // The embedded database is held by a running worker: hand the request to it.
        if (!(err instanceof DbLockedError)) throw err;
        setCode(await resyncViaWorker(loadConfig(io.env), io, request, err));
      }
    });

  for (const cmd of program.commands) cmd.exitOverride().allowExcessArguments(false);
  return program;
}

