/** Median, p95 and spread of a list of samples (milliseconds or bytes). */
export function summarize(samples: number[]): { median: number; p95: number; min: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  return { median: at(0.5), p95: at(0.95), min: sorted[0] ?? NaN, max: sorted.at(-1) ?? NaN };
}

export async function timeIt(runs: number, work: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  await work(); // warm-up: the first run pays for code and libvips caches
  for (let run = 0; run < runs; run++) {
    const started = process.hrtime.bigint();
    await work();
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return samples;
}

/**
 * Wall and CPU milliseconds of each run (the process's user + system time, every thread).
 * On a shared machine the wall time carries other work's queueing; the CPU time is what the
 * work itself costs a core, whatever else runs.
 */
export async function timeWallAndCpu(runs: number, work: () => Promise<unknown>): Promise<{ wall: number[]; cpu: number[] }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  await work();
  for (let run = 0; run < runs; run++) {
    const startedCpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    await work();
    wall.push(Number(process.hrtime.bigint() - started) / 1e6);
    const used = process.cpuUsage(startedCpu);
    cpu.push((used.user + used.system) / 1000);
  }
  return { wall, cpu };
}
