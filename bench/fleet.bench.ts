import { startTestStack } from '../e2e/harness';
import { distinctPhotos, metricValue, Seller } from '../e2e/seller';
import os from 'node:os';
import { table, writeSection } from './report';

const MARGIN_NOTE = `${process.env.QWEN_RATE_MARGIN_MS ?? '250 (the default)'} ms`;

/**
 * A 50-picture batch through the whole product (gateway, billing, four processors, the
 * DashScope stand-in answering 429 above 2 requests a second), timed from "process" to the
 * job being finished and settled. The floor is what the provider's limits allow at best:
 * max(pictures / rate, pictures × latency / in-flight).
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

async function run(scenario: Scenario) {
  const stack = await startTestStack({
    processors: scenario.processors,
    sim: { ratePerSecond: RATE, latencyMs: scenario.latencyMs, jitterMs: scenario.jitterMs },
    env: {
      SIGNUP_CREDITS: String(scenario.pictures * 3),
      QWEN_MAX_PER_SECOND: String(RATE),
      QWEN_MAX_IN_FLIGHT: String(scenario.maxInFlight),
      LOG_LEVEL: 'warn',
    },
  });
  try {
    const seller = await Seller.register(stack.gatewayUrl, 'bench@example.com');
    const jobId = await seller.upload(await distinctPhotos(scenario.pictures, 1000, 1000));
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
    const floorS = Math.max(scenario.pictures / RATE, (scenario.pictures * scenario.latencyMs) / 1000 / scenario.maxInFlight);
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
  const scenarios: Scenario[] = [
    { name: 'rate-bound: calls of 1 s ± 0.3', pictures: 50, processors: 4, latencyMs: 1000, jitterMs: 300, maxInFlight: 4 },
    { name: 'defaults, calls of 5 s ± 1 (in-flight-bound)', pictures: 50, processors: 4, latencyMs: 5000, jitterMs: 1000, maxInFlight: 2 },
  ];
  const results = [];
  for (const scenario of scenarios) {
    const result = await run(scenario);
    console.log(JSON.stringify(result));
    results.push(result);
  }
  writeSection(
    'fleet',
    'Fleet: a 50-picture batch at 2 requests a second',
    `Four processor processes (concurrency 4 each), the DashScope stand-in answering 429 above ${RATE} requests in any sliding second,
\`QWEN_MAX_PER_SECOND=${RATE}\`. Photos 1000-1048 px JPEGs, eBay preset (1600 px output). Wall time runs from \`POST /api/v1/process\`
to the job being finished with every credit settled. Floor = max(pictures / rate, pictures × latency / in-flight).

${table(
  ['scenario', 'in-flight cap', 'pictures made', 'wall time', 'floor', 'floor / wall', 'paid calls per picture', 'requests over the limit (429s)', 'most requests in a second', 'most calls open', 'worst processor event-loop stall', 'largest processor RSS', 'CPU: processors + stand-in'],
  results.map((r) => [
    r.name, r.maxInFlight, `${r.completed}/${r.pictures}`, `${r.wallS.toFixed(1)} s`, `${r.floorS.toFixed(1)} s`,
    `${Math.round((r.floorS / r.wallS) * 100)}%`, (r.paidCalls / r.completed).toFixed(2), r.throttled, r.maxPerSecond, r.maxInFlight,
    `${Math.round(r.loopLagMaxMs)} ms`, `${Math.round(r.rssMaxMiB)} MiB`, `${r.processorsCpuS.toFixed(0)} s + ${r.standInCpuS.toFixed(0)} s`,
  ]),
)}

On this machine everything (processors, the stand-in's model, Postgres, Redis) shares ${os.cpus().length} cores: when the CPU
column divided by the core count comes near the wall time, the batch was bound by this machine's CPU, not by the provider's
limits. The rate gate spaces calls \`(1000 + QWEN_RATE_MARGIN_MS) / QWEN_MAX_PER_SECOND\` ms apart (margin ${MARGIN_NOTE}).

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
