import { startTestStack } from '../e2e/harness';
import { zipOf } from '../e2e/fixtures';
import { distinctPhotos, metricValue, Seller } from '../e2e/seller';
import os from 'node:os';
import { table, writeSection } from './report';

const MARGIN_NOTE = `${process.env.QWEN_RATE_MARGIN_MS ?? '250 (the default)'} ms`;

/**
 * A 200-picture batch through the whole product (gateway, billing, 1, 2 or 4 processors, the
 * DashScope stand-in answering in about 6 s and 429 above 2 requests a second), timed from
 * "process" to the job being finished and settled, against the ideal the provider allows:
 * pictures / rate + one call's latency.
 */
interface Scenario {
  name: string;
  pictures: number;
  processors: number;
  latencyMs: number;
  jitterMs: number;
  maxInFlight: number;
}

const RATE = 2;
const MARGIN_MS = Number(process.env.QWEN_RATE_MARGIN_MS ?? 250);
const gateBestS = (pictures: number) => (pictures * (1000 + MARGIN_MS)) / RATE / 1000 + 6;

async function run(scenario: Scenario) {
  const stack = await startTestStack({
    processors: scenario.processors,
    sim: { ratePerSecond: RATE, latencyMs: scenario.latencyMs, jitterMs: scenario.jitterMs },
    env: {
      SIGNUP_CREDITS: String(scenario.pictures * 3),
      QWEN_MAX_PER_SECOND: String(RATE),
      QWEN_MAX_IN_FLIGHT: String(scenario.maxInFlight),
      // Enough jobs at once in one process to keep every allowed call open.
      WORKER_CONCURRENCY: String(Math.ceil(scenario.maxInFlight / scenario.processors) + 2),
      ...(process.env.QWEN_RATE_MARGIN_MS ? { QWEN_RATE_MARGIN_MS: process.env.QWEN_RATE_MARGIN_MS } : {}),
      LOG_LEVEL: 'warn',
    },
  });
  try {
    const seller = await Seller.register(stack.gatewayUrl, 'bench@example.com');
    const photos = await distinctPhotos(scenario.pictures, 1000, 800);
    // One upload request takes at most 100 files: larger batches come as a ZIP.
    const jobId = await seller.upload(photos.length <= 100 ? photos : [zipOf(photos.map((data, index) => ({ name: `p${index}.jpg`, data })))]);
    stack.sim.reset();
    const cpuBefore = await processorCpuSeconds(stack.services);
    const ownCpuBefore = process.cpuUsage();
    const started = Date.now();
    await seller.process(jobId);
    const progress = await seller.waitUntilFinished(jobId, 30 * 60_000);
    const wallS = (Date.now() - started) / 1000;
    const { stats } = stack.sim;
    // How long a processor's event loop was blocked at worst: the slack the rate gate needs.
    const pages = await Promise.all(
      stack.services.filter((service) => service.name.startsWith('processor')).map(async (service) => (await fetch(`${service.url}/metrics`)).text()),
    );
    const processorsCpuS = (await processorCpuSeconds(stack.services)) - cpuBefore;
    const ownCpu = process.cpuUsage(ownCpuBefore);
    // This process runs the stand-in (its model on two threads) and little else.
    const standInCpuS = (ownCpu.user + ownCpu.system) / 1e6;
    const loopLagMaxMs = Math.max(...pages.map((page) => metricValue(page, 'nodejs_eventloop_lag_max_seconds') * 1000));
    const rssMaxMiB = Math.max(...pages.map((page) => metricValue(page, 'process_resident_memory_bytes') / 2 ** 20));
    const floorS = Math.max(scenario.pictures / RATE, (scenario.pictures * scenario.latencyMs) / 1000 / scenario.maxInFlight) + scenario.latencyMs / 1000;
    return {
      ...scenario,
      completed: progress.completed,
      wallS,
      floorS,
      paidCalls: stats.succeeded,
      requests: stats.requests,
      throttled: stats.throttled,
      maxPerSecond: stats.maxPerSecond,
      maxInFlight: stats.maxInFlight,
      loopLagMaxMs,
      rssMaxMiB,
      processorsCpuS,
      standInCpuS,
    };
  } finally {
    await stack.teardown();
  }
}

async function processorCpuSeconds(services: Array<{ name: string; url: string }>): Promise<number> {
  const pages = await Promise.all(services.filter((service) => service.name.startsWith('processor')).map(async (service) => (await fetch(`${service.url}/metrics`)).text()));
  return pages.reduce((sum, page) => sum + metricValue(page, 'process_cpu_seconds_total'), 0);
}

async function main(): Promise<void> {
  const pictures = Number(process.env.BENCH_PICTURES ?? 200);
  const counts = (process.env.BENCH_PROCESSORS ?? '1,2,4').split(',').map(Number);
  const scenarios: Scenario[] = counts.map((processors) => ({
    name: `${processors} processor${processors > 1 ? 's' : ''}`, pictures, processors, latencyMs: 6000, jitterMs: 1000, maxInFlight: 16,
  }));
  const results = [];
  for (const scenario of scenarios) {
    const result = await run(scenario);
    console.log(JSON.stringify(result));
    results.push(result);
  }
  writeSection(
    'fleet',
    `Fleet efficiency: ${pictures} pictures at ${RATE} calls a second`,
    `The DashScope stand-in answers in 6 s ± 1 s and 429 above ${RATE} requests in any sliding second; \`QWEN_MAX_PER_SECOND=${RATE}\`,
\`QWEN_MAX_IN_FLIGHT=16\` (6 s calls at 2 a second need 12 open), processors' concurrency enough to keep them open. Photos 800-848 px
JPEGs, eBay preset (1600 px output). Wall time runs from \`POST /api/v1/process\` to the job finished with every credit settled.
Ideal = pictures / rate + latency (${pictures} / ${RATE} + 6 s); target: within 5%, no 429, nothing over the limit.

${table(
  ['processors', 'in-flight cap', 'pictures made', 'wall time', 'ideal', 'wall / ideal', 'paid calls per picture', 'requests over the limit (429s)', 'most requests in a second', 'most calls open', 'worst processor event-loop stall', 'largest processor RSS', 'CPU: processors + stand-in'],
  results.map((r) => [
    r.name, r.maxInFlight, `${r.completed}/${r.pictures}`, `${r.wallS.toFixed(1)} s`, `${r.floorS.toFixed(1)} s`,
    `${((r.wallS / r.floorS) * 100).toFixed(0)}%`, (r.paidCalls / r.completed).toFixed(2), r.throttled, r.maxPerSecond, r.maxInFlight,
    `${Math.round(r.loopLagMaxMs)} ms`, `${Math.round(r.rssMaxMiB)} MiB`, `${r.processorsCpuS.toFixed(0)} s + ${r.standInCpuS.toFixed(0)} s`,
  ]),
)}

On this machine everything (processors, the stand-in's model, Postgres, Redis) shares ${os.cpus().length} cores: when the CPU
column divided by the core count comes near the wall time, the batch was bound by this machine's CPU, not by the provider's
limits. The rate gate spaces calls \`(1000 + QWEN_RATE_MARGIN_MS) / QWEN_MAX_PER_SECOND\` ms apart (margin ${MARGIN_NOTE}), so the best
this gate can do is ${gateBestS(pictures).toFixed(0)} s, ${((gateBestS(pictures) / (pictures / RATE + 6)) * 100).toFixed(0)}% of the ideal: the margin is what holds the batch back from the
5% target. It buys safety: calls leave a busy machine late by up to its event-loop stalls and scheduling delays, and two calls
bunched by that would be a 429 (measured on this machine with a 150 ms margin and a CPU-saturated run: 1 request over the
limit in 51; with 250 ms: none). Lower \`QWEN_RATE_MARGIN_MS\` on hosts with headroom, or when the account's real limit is known to
be counted per minute.

Reproduce: \`npx --yes pnpm@10 exec tsx bench/fleet.bench.ts\` (needs the local Redis and Postgres).`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
