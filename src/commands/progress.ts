import cliProgress from 'cli-progress';
import { plural } from './plural.js';

export interface ProgressOut {
  write(s: string): unknown;
  isTTY?: boolean;
}

/**
 * A progress bar for long runs (sync, import, export, backfill): done/total, rate and ETA, drawn
 * on stderr when it is a terminal and cleared before anything else is printed; nothing otherwise.
 */
export interface ProgressBar {
  /** Starts the bar; the total may be unknown yet (0) and set later. */
  start(total: number): void;
  /** `n` more items done. */
  tick(n?: number): void;
  /** A better total (a query's totalCount, a folder's file count). */
  setTotal(total: number): void;
  /** A few words shown after the count (e.g. the versions a backfill fetched). */
  note(text: string): void;
  /** Removes the bar; safe to call twice or without start. */
  stop(): void;
}

export function progressBar(out: ProgressOut, unit: [one: string, many: string] = ['study', 'studies']): ProgressBar {
  if (!out.isTTY) return { start() {}, tick() {}, setTotal() {}, note() {}, stop() {} };
  const startedAt = Date.now();
  let done = 0;
  let total = 0;
  let running = false;
  const bar = new cliProgress.SingleBar(
    {
      stream: out as unknown as NodeJS.WritableStream,
      format: `  {bar} {value}/{total} ${unit[1]}{note} | {rate}/s | ETA {eta_formatted}`,
      clearOnComplete: true,
      stopOnComplete: false,
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
      noTTYOutput: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const rate = () => {
    const secs = (Date.now() - startedAt) / 1000;
    return secs > 0 ? (done / secs).toFixed(1) : '0';
  };
  return {
    start(t) {
      total = Math.max(t, 0);
      running = true;
      bar.start(total, 0, { rate: '0', note: '' });
    },
    tick(n = 1) {
      if (!running) return;
      done += n;
      // An estimate that fell short (more records in a file than files) grows with the work.
      if (done > total) {
        total = done;
        bar.setTotal(total);
      }
      bar.update(done, { rate: rate() });
    },
    note(text) {
      if (running) bar.update(done, { note: text ? `, ${text}` : '' });
    },
    setTotal(t) {
      if (!running || t < done) return;
      total = t;
      bar.setTotal(total);
    },
    stop() {
      if (!running) return;
      running = false;
      bar.stop();
    },
  };
}

/** Adapts a bar to the pipeline's cumulative progress reports ({done, failed} so far). */
export function cumulative(bar: ProgressBar): (p: { done: number; failed: number }) => void {
  let seen = 0;
  return (p) => {
    const now = p.done + p.failed;
    if (now > seen) bar.tick(now - seen);
    seen = now;
  };
}

