import type { AppContext } from '../app.js';
import type { Config } from '../config.js';
import type { CtgovClient } from '../ctgov/client.js';
import type { Logger } from '../log.js';
import { describeFailedStudies } from '../pipeline/failedStudies.js';
import type { RunSummary } from '../pipeline/runBatches.js';
import type { RunCounts, RunStatus, RunTrigger } from '../sql/runs.js';

/** What a file in jobs/ exports. */
export interface Job {
  name: string;
  /** A cron expression (5 or 6 fields), or null for a job that runs once when the worker starts. */
  schedule(config: Config): string | null;
  /** Runs that talk to CT.gov take turns in the process (one rate limit for the whole process). */
  usesCtgov: boolean;
  /** Undefined when there was nothing to do (no run recorded). */
  run(ctx: JobContext, signal: AbortSignal): Promise<JobResult | undefined>;
}

export interface JobContext {
  /** The application, with its clock fixed at `observedAt` for the whole run. */
  app: AppContext;
  log: Logger;
  trigger: RunTrigger;
  /** The run's `observed_at`; with the job name it identifies the run in sync_runs. */
  observedAt: Date;
  /** This run's CT.gov client (made on first use, closed by the runner; aborted on shutdown). */
  ctgov(): CtgovClient;
}

export interface JobResult {
  status: RunStatus;
  runId: number;
  counts?: RunCounts;
  /** The first failed studies and how many more (for the log line). */
  failedStudies?: string;
}

export function resultOf(summary: RunSummary): JobResult {
  return {
    status: summary.status,
    runId: summary.runId,
    counts: summary.counts,
    ...(summary.failures.length > 0 ? { failedStudies: describeFailedStudies(summary.failures.map((f) => f.nctId), summary.counts.failed) } : {}),
  };
}
