import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { startTestStack, type TestStack } from '../e2e/harness';
import { zipOf } from '../e2e/fixtures';
import { distinctPhotos, metricValue, Seller } from '../e2e/seller';
import type { SimOptions } from '../tools/dashscope-sim/src/server';
import { table, writeSection } from './report';

/**
 * The fleet against DashScope's limits (issue 21), three sections of BENCHMARKS.md:
 * - `fleet`: 200 pictures at 2 calls a second through 1, 2 and 4 processors, one run with the
 *   CPU saturated, against a stand-in that answers 429 above 2 requests in any sliding second;
 * - `fleet-slots`: the worker slots sized from the in-flight cap (40 pictures, 2-3 s calls,
 *   QWEN_MAX_IN_FLIGHT=8), and the same with the account's real limit at 1.2 a second;
 * - `fleet-adaptive`: the account's real limit 1.2 a second under a configured 2, then raised
 *   to 2 mid-run: how soon the fleet finds each, its 429s and its throughput.
 * Wall time runs from `POST /api/v1/process` to the job finished with every credit settled.
 * `BENCH_FLEET=fleet,slots,adaptive` picks the sections (all by default).
 */
const RATE = 2;
/**
 * The stand-in's answer size in the fleet section: 1024 px, so that the renders (a fifth of a second of CPU a
 * picture at 2048 px on this 2-core machine, issue 21 item 1) do not bind what measures the gate.
 */
const OUTPUT = { width: 1024, height: 1024 };
const parts = (process.env.BENCH_FLEET ?? 'fleet,slots,adaptive').split(',');

interface Batch {
  pictures: number;
  processors: number;
  latencyMs: number;
  jitterMs: number;
  maxInFlight: number;
  /** The stand-in's limit: 429 above it. */
  sim: Partial<SimOptions>;
  env?: Record<string, string>;
  /** Busy loops on every core while the batch runs. */
  saturate?: boolean;
}

function saturateCpu(): ChildProcess[] {
  return os.cpus().map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

async function processorPages(stack: TestStack): Promise<string[]> {
  return Promise.all(stack.services.filter((service) => service.name.startsWith('processor')).map(async (service) => (await fetch(`${service.url}/metrics`)).text()));
}

const sum = (pages: string[], name: string, labels = '') => pages.reduce((total, page) => total + metricValue(page, name, labels), 0);
const loadNow = () => os.loadavg().map((value) => value.toFixed(1)).join(' / ');

async function startBatchStack(batch: Batch): Promise<TestStack> {
  return startTestStack({
    processors: batch.processors,
    sim: { ratePerSecond: RATE, latencyMs: batch.latencyMs, jitterMs: batch.jitterMs, ...batch.sim },
    env: {
      SIGNUP_CREDITS: String(batch.pictures * 3),
      QWEN_MAX_PER_SECOND: String(RATE),
      QWEN_MAX_IN_FLIGHT: String(batch.maxInFlight),
      ...(process.env.QWEN_RATE_MARGIN_MS ? { QWEN_RATE_MARGIN_MS: process.env.QWEN_RATE_MARGIN_MS } : {}),
      LOG_LEVEL: 'warn',
      ...batch.env,
    },
  });
}

async function queuedJob(stack: TestStack, pictures: number, offset = 0): Promise<{ seller: Seller; jobId: string }> {
  const seller = await Seller.register(stack.gatewayUrl, `bench${offset}@example.com`);
  const photos = await distinctPhotos(pictures, offset + 1000, 800);
  // One upload request takes at most 100 files: larger batches come as a ZIP.
  const jobId = await seller.upload(photos.length <= 100 ? photos : [zipOf(photos.map((data, index) => ({ name: `p${index}.jpg`, data })))]);
  return { seller, jobId };
}

/** One batch, timed; the stand-in's counts and the processors' own view of what bound them. */
async function runBatch(batch: Batch) {
  const stack = await startBatchStack(batch);
  let hogs: ChildProcess[] = [];
  try {
    const { seller, jobId } = await queuedJob(stack, batch.pictures);
    stack.sim.reset();
    const cpuBefore = sum(await processorPages(stack), 'process_cpu_seconds_total');
    const ownCpuBefore = process.cpuUsage();
    if (batch.saturate) hogs = saturateCpu();
    const load = loadNow();
    const started = Date.now();
    await seller.process(jobId);
    const progress = await seller.waitUntilFinished(jobId, 30 * 60_000);
    const wallS = (Date.now() - started) / 1000;
    for (const hog of hogs) hog.kill('SIGKILL');
    hogs = [];
    const { stats } = stack.sim;
    const pages = await processorPages(stack);
    const ownCpu = process.cpuUsage(ownCpuBefore);
    const binding = Object.fromEntries(['rate', 'in_flight', 'worker_slots', 'cpu', 'none'].map((limit) => [limit, sum(pages, 'qwen_binding_limit_seconds_total', `limit="${limit}"`)]));
    return {
      ...batch,
      load,
      completed: progress.completed,
      wallS,
      paidCalls: stats.succeeded,
      throttled: stats.throttled,
      maxPerSecond: stats.maxPerSecond,
      maxOpen: stats.maxInFlight,
      loopLagMaxMs: Math.max(...pages.map((page) => metricValue(page, 'nodejs_eventloop_lag_max_seconds') * 1000)),
      rssMaxMiB: Math.max(...pages.map((page) => metricValue(page, 'process_resident_memory_bytes') / 2 ** 20)),
      processorsCpuS: sum(pages, 'process_cpu_seconds_total') - cpuBefore,
      // This process runs the stand-in (its model on two threads) and little else.
      standInCpuS: (ownCpu.user + ownCpu.system) / 1e6,
      slots: pages.map((page) => metricValue(page, 'worker_image_slots')),
      binding,
      finalRate: metricValue(pages[0] ?? '', 'qwen_rate_per_second'),
    };
  } finally {
    for (const hog of hogs) hog.kill('SIGKILL');
    await stack.teardown();
  }
}

type BatchResult = Awaited<ReturnType<typeof runBatch>>;

const idealS = (pictures: number, rate: number, latencyMs: number) => pictures / rate + latencyMs / 1000;
const pct = (value: number) => `${(value * 100).toFixed(0)}%`;

function bindingSummary(binding: Record<string, number>): string {
  const total = Object.values(binding).reduce((a, b) => a + b, 0) || 1;
  return Object.entries(binding)
    .filter(([, seconds]) => seconds / total >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([limit, seconds]) => `${limit} ${pct(seconds / total)}`)
    .join(', ');
}

async function fleetSection(): Promise<void> {
  const pictures = Number(process.env.BENCH_PICTURES ?? 100);
  const counts = (process.env.BENCH_PROCESSORS ?? '1,2,4').split(',').map(Number);
  const results: BatchResult[] = [];
  for (const processors of counts) {
    // The CPU-saturated run: the 2-processor one, with a busy loop on every core.
    const result = await runBatch({ pictures, processors, latencyMs: 6000, jitterMs: 1000, maxInFlight: 16, sim: { outputSize: OUTPUT }, saturate: processors === 2 });
    console.log(JSON.stringify(result));
    results.push(result);
  }
  const ideal = idealS(pictures, RATE, 6000);
  const missed = results.filter((r) => r.wallS / ideal > 1.05 || r.throttled > 0);
  writeSection(
    'fleet',
    `Fleet efficiency: ${pictures} pictures at ${RATE} calls a second`,
    `The DashScope stand-in answers in 6 s ± 1 s and 429 above ${RATE} requests in any sliding second; \`QWEN_MAX_PER_SECOND=${RATE}\`,
\`QWEN_MAX_IN_FLIGHT=16\` (6 s calls at 2 a second need 12 open), \`WORKER_CONCURRENCY\` unset (the slots follow the in-flight cap).
Photos 800-848 px JPEGs, eBay preset (1600 px output); the stand-in answers 1024 px pictures (\`outputSize\`), as in
the earlier runs, to compare (a render costs about 0.1 s of CPU at that size, 0.17-0.27 s at 2048 px: see the render section). Ideal = pictures / rate + latency (${pictures} / ${RATE} + 6 s = ${ideal.toFixed(0)} s);
target: within 5%, no 429, nothing over the limit. The 2-processor run has a busy loop on each of the ${os.cpus().length} cores
(CPU saturated) for the whole batch. Load average (1 / 5 / 15 min) at each start: the machine is shared with other work.

${table(
  ['processors', 'CPU', 'load at start', 'pictures made', 'wall time', 'ideal', 'wall / ideal', 'paid calls per picture', '429s', 'most requests in a sliding second', 'most calls open', 'slots per processor', 'worst event-loop stall', 'largest RSS', 'CPU: processors + stand-in', 'what bound (share of time)'],
  results.map((r) => [
    r.processors, r.saturate ? 'saturated' : 'shared', r.load, `${r.completed}/${r.pictures}`, `${r.wallS.toFixed(1)} s`, `${ideal.toFixed(1)} s`, pct(r.wallS / ideal),
    (r.paidCalls / r.completed).toFixed(2), r.throttled, r.maxPerSecond, r.maxOpen, r.slots.join(', '), `${Math.round(r.loopLagMaxMs)} ms`, `${Math.round(r.rssMaxMiB)} MiB`,
    `${r.processorsCpuS.toFixed(0)} s + ${r.standInCpuS.toFixed(0)} s`, bindingSummary(r.binding),
  ]),
)}

The gate spaces calls by their real send times (a grant is pending until its request's last byte has left, and a pending grant
counts as sent now), so no sliding second ever holds more than the rate by construction, whatever the event loop does; the one
margin left, \`QWEN_RATE_MARGIN_MS\` (${process.env.QWEN_RATE_MARGIN_MS ?? '20, the default'} ms a second), is for the provider's clock. Each call
still loses the time from the spacing's end to its request leaving (a waiter's timer, a Redis round trip, the request written).
${missed.length === 0 ? 'Every run met the target.' : `Missed: ${missed.map((r) => `${r.processors} processor(s) at ${pct(r.wallS / ideal)}${r.throttled ? ` with ${r.throttled} 429s` : ''}`).join('; ')}. What holds them back: the 'what bound' column (rate: waiting for the gate's window; cpu: renders and input preparation queued on this shared, loaded machine) and the CPU column against the wall time × cores.`}

Reproduce: \`BENCH_FLEET=fleet npx --yes pnpm@10 exec tsx bench/fleet.bench.ts\` (needs the local Redis and Postgres).`,
  );
}

async function slotsSection(): Promise<void> {
  const pictures = 40;
  const common = { pictures, processors: 1, latencyMs: 2500, jitterMs: 500, maxInFlight: 8 };
  const runs = [
    { label: 'limit 2 a second (as set)', trueRate: 2, result: await runBatch({ ...common, sim: {} }) },
    { label: 'real limit 1.2 a second (set 2)', trueRate: 1.2, result: await runBatch({ ...common, sim: { ratePerSecond: 1.2, rateWindowMs: 5000 } }) },
    { label: 'limit 2 a second, 1024 px answers', trueRate: 2, result: await runBatch({ ...common, sim: { outputSize: OUTPUT } }) },
    { label: 'real limit 1.2 a second (set 2), 1024 px answers', trueRate: 1.2, result: await runBatch({ ...common, sim: { ratePerSecond: 1.2, rateWindowMs: 5000, outputSize: OUTPUT } }) },
  ];
  for (const run of runs) console.log(JSON.stringify(run));
  writeSection(
    'fleet-slots',
    'Worker slots from the in-flight cap: 40 pictures, 2-3 s calls, QWEN_MAX_IN_FLIGHT=8',
    `One processor as the local stack runs it (\`WORKER_CONCURRENCY\` unset, \`RENDER_THREADS=2\`), \`QWEN_MAX_PER_SECOND=2\`,
\`QWEN_MAX_IN_FLIGHT=8\`; the stand-in answers in 2.5 s ± 0.5 s, at 2048 px as DashScope does for these photos, and in two
more runs at 1024 px (\`outputSize\`), whose renders cost this 2-core machine about half as much. Ideal = pictures / real limit + latency. Before issue 21 the
image worker had a fixed 4 slots: 41.7 s against 22.5 s (185%), and with the real limit at 1.2 a second 39 answers 429 and 300%
of the ideal. Now a processor takes ceil(QWEN_MAX_IN_FLIGHT / processors running) + 2 slots (\`WORKER_CONCURRENCY_SPARE\`), at most
\`WORKER_CONCURRENCY_MAX\`; the real limit of 1.2 a second is the stand-in's 6 requests in any 5 s.

${table(
  ['account', 'load at start', 'pictures made', 'wall time', 'ideal', 'wall / ideal', '429s', 'slots', 'fleet rate at the end', 'what bound (share of time)'],
  runs.map(({ label, trueRate, result: r }) => {
    const ideal = idealS(r.pictures, trueRate, r.latencyMs);
    return [label, r.load, `${r.completed}/${r.pictures}`, `${r.wallS.toFixed(1)} s`, `${ideal.toFixed(1)} s`, pct(r.wallS / ideal), r.throttled, r.slots.join(', '), `${r.finalRate.toFixed(2)} /s`, bindingSummary(r.binding)];
  }),
)}

"What bound" is \`qwen_binding_limit_seconds_total{limit}\` from the processor's /metrics (rate: pictures waiting for the gate's
window; in_flight: for the in-flight cap; worker_slots: every slot busy with pictures queued; cpu: renders or input preparation
queued beyond the threads; none: not enough work, the batch's start and end). With the real limit below the setting the first
seconds go at 2 a second and are refused until the fleet's rate comes down (see fleet-adaptive): on 40 pictures that start is a
large share of the batch.

Reproduce: \`BENCH_FLEET=slots npx --yes pnpm@10 exec tsx bench/fleet.bench.ts\`.`,
  );
}

async function adaptiveSection(): Promise<void> {
  const LOW = 1.2;
  const WINDOW_MS = 5000;
  const SWITCH_S = Number(process.env.BENCH_SWITCH_S ?? 100);
  const AFTER_S = Number(process.env.BENCH_AFTER_S ?? 80);
  const batch: Batch = { pictures: 340, processors: 2, latencyMs: 2500, jitterMs: 500, maxInFlight: 16, sim: { ratePerSecond: LOW, rateWindowMs: WINDOW_MS, outputSize: OUTPUT } };
  const stack = await startBatchStack(batch);
  try {
    const { seller, jobId } = await queuedJob(stack, batch.pictures);
    stack.sim.reset();
    const load = loadNow();
    const samples: Array<{ t: number; rate: number }> = [];
    const started = Date.now();
    const processor = stack.services.find((service) => service.name.startsWith('processor'))!;
    const sampler = setInterval(() => {
      void fetch(`${processor.url}/metrics`).then(async (response) => samples.push({ t: (Date.now() - started) / 1000, rate: metricValue(await response.text(), 'qwen_rate_per_second') }), () => undefined);
    }, 500);
    await seller.process(jobId);
    await new Promise((resolve) => setTimeout(resolve, SWITCH_S * 1000));
    stack.sim.configure({ ratePerSecond: RATE });
    await new Promise((resolve) => setTimeout(resolve, AFTER_S * 1000));
    clearInterval(sampler);
    const { stats } = stack.sim;
    const at = (time: number) => (time - started) / 1000;
    const accepted = stats.acceptedAt.map(at);
    const throttled = stats.throttledAt.map(at);
    const phase1 = samples.filter((s) => s.t < SWITCH_S);
    // Converged: from then until the switch the fleet's rate stays within 10% of the real limit.
    const outside = phase1.filter((s) => Math.abs(s.rate - LOW) > LOW * 0.1);
    const convergedS = outside.length ? outside.at(-1)!.t : 0;
    const throughput = (from: number, to: number) => accepted.filter((t) => t >= from && t < to).length / Math.max(1e-9, to - from);
    const after = (from: number, to: number) => throttled.filter((t) => t >= from && t < to).length;
    const refoundAt = samples.find((s) => s.t >= SWITCH_S && s.rate >= RATE * 0.9)?.t ?? null;
    const end = SWITCH_S + AFTER_S;
    // Once found (or, if never, the run's last 20 s).
    const steadyFrom = refoundAt !== null ? refoundAt : end - 20;
    const pages = await processorPages(stack);
    const progress = await seller.progress(jobId);
    const trace = samples.filter((_, index) => index % 10 === 0).map((s) => `${s.t.toFixed(0)} s: ${s.rate.toFixed(2)}`).join(' · ');
    const result = {
      load, convergedS, throttledBefore: after(0, convergedS), throttledAfter: after(convergedS, SWITCH_S), throughputAfter: throughput(convergedS, SWITCH_S),
      refoundAfterS: refoundAt !== null ? refoundAt - SWITCH_S : null, throttledPhase2: after(SWITCH_S, end), throughputPhase2: throughput(steadyFrom, end),
      billedTwice: Object.values(stats.billedByImage).filter((count) => count > 1).length, completed: progress.completed, cuts: metricValue(pages[0] ?? '', 'qwen_rate_cuts'),
    };
    console.log(JSON.stringify(result));
    const converged = result.convergedS <= 60;
    const steady = result.throughputAfter >= LOW * 0.9;
    writeSection(
      'fleet-adaptive',
      'Finding the account\'s limit: real 1.2 a second under a configured 2, then raised to 2',
      `Two processors, \`QWEN_MAX_PER_SECOND=2\`, \`QWEN_MAX_IN_FLIGHT=16\`, ${batch.pictures} pictures queued at once, calls of 2.5 s ± 0.5 s
answering 1024 px pictures (so that this machine's CPU keeps up with 2 a second).
The stand-in's real limit is ${LOW} a second (at most ${LOW * WINDOW_MS / 1000} requests in any ${WINDOW_MS / 1000} s, 429 above), raised to ${RATE} a second
(${RATE * WINDOW_MS / 1000} in any ${WINDOW_MS / 1000} s) ${SWITCH_S} s into the run; measured for ${AFTER_S} s more. The fleet's rate is \`qwen_rate_per_second\`
on a processor's /metrics, sampled twice a second. Load average at the start: ${load}.
Targets: converged (the rate within 10% of ${LOW} from then until the switch) within a minute, at most a handful of 429s after,
throughput within 10% of ${LOW} a second; after the raise, the fleet finds ${RATE} again.

${table(
  ['converged after', '429s before', '429s after, until the switch', 'throughput after, until the switch', 'found 2 a second again', '429s after the raise', 'throughput once found', 'rate cuts', 'pictures paid twice'],
  [[
    `${result.convergedS.toFixed(0)} s`, result.throttledBefore, result.throttledAfter, `${result.throughputAfter.toFixed(2)} /s (${pct(result.throughputAfter / LOW)})`,
    result.refoundAfterS !== null ? `${result.refoundAfterS.toFixed(0)} s after the raise` : 'not within the run', result.throttledPhase2,
    `${result.throughputPhase2.toFixed(2)} /s`, result.cuts, result.billedTwice,
  ]],
)}

The rate over time (every 5 s): ${trace}.

How it adapts (\`qwen/fleet-gate.ts\`, one Redis hash for the fleet): at the configured rate a lone 429 (none in the 10 s before)
is taken for the provider's jitter and only cools the fleet down a second; otherwise a 429 for a call sent after the last cut multiplies the rate by
0.8 the first time, by 0.9 once a refused rate is known (429s of the same burst, for calls sent before the cut or within 2 s after it, cut once); each clean answer, at most every 2 s,
adds 5% of the setting while callers wait for the rate (clean answers at a rate nobody needs say nothing), up to just under the rate last refused; there it holds 20 s, then probes past it at a quarter step (each
probe past a real limit costs a 429 or so); once past it cleanly the limit has risen and the steps are full again.
${converged && steady ? '' : `Missed: ${converged ? '' : `convergence, by this strict reading (every sample within 10%), took longer than a minute: a probe past the limit is refused and cut to 0.9 of it, and a second 429 soon after can cut once more, a dip under the band (see the trace). `}${steady ? '' : 'throughput after convergence was more than 10% under the real limit: the cuts (0.9) and the 2 s fleet cool-down after each 429 cost throughput each time a probe finds the limit. '}`}

Reproduce: \`BENCH_FLEET=adaptive npx --yes pnpm@10 exec tsx bench/fleet.bench.ts\`.`,
    );
  } finally {
    await stack.teardown();
  }
}

async function main(): Promise<void> {
  if (parts.includes('slots')) await slotsSection();
  if (parts.includes('adaptive')) await adaptiveSection();
  if (parts.includes('fleet')) await fleetSection();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
