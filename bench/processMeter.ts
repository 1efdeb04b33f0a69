import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

/*
 * What a stage process costs: CPU, the RSS high-water mark, heap and off-heap peaks sampled every
 * 50 ms, and the heap right after each full collection (what the stage keeps alive, without V8's
 * headroom). Shared by the stage children (syncChild.ts, importChild.ts).
 */

export interface Meter {
  baselineRssMb: number;
  /** Stops sampling; CPU since the meter started, the process's peak RSS (startup included), memory peaks. */
  finish(): { cpuSeconds: number; peakRssMb: number; memory: Record<string, number> };
}

export function startMeter(): Meter {
  const baselineRssMb = process.memoryUsage().rss / 2 ** 20;
  const peaks = { heapUsedMb: 0, heapTotalMb: 0, externalMb: 0, arrayBuffersMb: 0 };
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peaks.heapUsedMb = Math.max(peaks.heapUsedMb, m.heapUsed / 2 ** 20);
    peaks.heapTotalMb = Math.max(peaks.heapTotalMb, m.heapTotal / 2 ** 20);
    peaks.externalMb = Math.max(peaks.externalMb, m.external / 2 ** 20);
    peaks.arrayBuffersMb = Math.max(peaks.arrayBuffersMb, m.arrayBuffers / 2 ** 20);
  }, 50);
  sampler.unref();
  let liveHeapMb = 0;
  const gcWatch = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      liveHeapMb = Math.max(liveHeapMb, process.memoryUsage().heapUsed / 2 ** 20);
    }
  });
  gcWatch.observe({ entryTypes: ['gc'] });
  const cpu0 = process.cpuUsage();
  return {
    baselineRssMb,
    finish() {
      clearInterval(sampler);
      gcWatch.disconnect();
      const cpu = process.cpuUsage(cpu0);
      return {
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        // maxRSS is in kilobytes: the high-water mark of the whole process, startup included.
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        memory: Object.fromEntries(Object.entries({ ...peaks, liveHeapMb }).map(([k, v]) => [k, Math.round(v)])),
      };
    },
  };
}
