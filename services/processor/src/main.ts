import { Queue } from 'bullmq';
import sharp from 'sharp';
import { jobCatalog, JobName } from '@masterpost/contracts';
import {
  BillingClient, createLogger, createPool, createRedis, createStorage, DependencyHealth, handleShutdown, loadConfigOrExit, logConnectionErrors, probe, startOpsServer, startTracing, storageProbe,
  type RedisConnection, type Logger, type Pool,
} from '@masterpost/platform';
import { FleetMetricsRepository } from './adapters/fleet-metrics.repository';
import { ImagesRepository } from './adapters/images.repository';
import { loadProcessorConfig, type ProcessorConfig } from './config';
import { fleetMetricsRefresher } from './fleet-metrics';
import { countPictureEndings, createProcessorMetrics, type ProcessorMetrics } from './metrics';
import { FleetGate } from './qwen/fleet-gate';
import { liftPauseWithoutCause, providerFingerprint } from './qwen/pause-lifting';
import { loadPrompts } from './qwen/prompts';
import { SpendGuard } from './qwen/spend-guard';
import { processorWork } from './composition';
import { BindingLimitTracker, bindingLimitNow, bindingLimits, CpuWork, imageSlotsFor, MachineCpu, ProcessorPresence, type ImageSlots } from './workers/image-slots';
import { StuckWorkerWatch } from './workers/stuck-worker-watch';
import { createWorkers } from './workers/workers';

/** How often a queue nobody takes from is looked for: a job waiting two looks in a row (15-30 s) with its worker free is stuck. */
const STUCK_WORKER_LOOK_MS = 15_000;

// libvips keeps recent operations and decoded images in a per-process cache; with 12 MP photos
// that cache, not our work, was most of the resident memory. Each picture is decoded once anyway.
sharp.cache(false);

/** The fleet's shared state in Redis: the DashScope gate (rate, in-flight, pause) and the day's spend. */
function fleetControls(config: ProcessorConfig, redis: RedisConnection, repo: ImagesRepository) {
  const gate = new FleetGate(redis, config.QUEUE_PREFIX, {
    maxPerSecond: config.QWEN_MAX_PER_SECOND,
    maxInFlight: config.QWEN_MAX_IN_FLIGHT,
    leaseMs: config.QWEN_LEASE_MS,
    marginMs: config.QWEN_RATE_MARGIN_MS,
  });
  const pricesMicroUsd = JSON.parse(config.QWEN_PRICES_MICRO_USD) as Record<string, number>;
  const spend = new SpendGuard(
    redis,
    config.QUEUE_PREFIX,
    { dailyCapMicroUsd: config.QWEN_DAILY_SPEND_CAP_MICRO_USD, priceMicroUsd: pricesMicroUsd[config.QWEN_MODEL] ?? 0 },
    () => repo.spendTodayMicroUsd(),
  );
  const fingerprint = providerFingerprint({
    apiKey: config.DASHSCOPE_API_KEY, baseUrl: config.DASHSCOPE_BASE_URL, model: config.QWEN_MODEL, resultHosts: config.QWEN_RESULT_HOSTS,
  });
  return { gate, spend, pricesMicroUsd, fingerprint };
}

/**
 * /ready names Redis, PostgreSQL, storage (a write), the image worker, a provider pause and (advisory) the fleet's
 * current rate; /metrics adds the fleet's pause, the day's spend, the rate and which limit binds.
 */
function opsEndpoints(deps: {
  workerRedis: RedisConnection; commandRedis: RedisConnection; pool: Pool; repo: ImagesRepository; gate: FleetGate; metrics: ProcessorMetrics; imagesRunning: () => boolean;
  sizing: { slots: ImageSlots; binding: BindingLimitTracker }; storageReady: () => Promise<string>;
}) {
  const { workerRedis, commandRedis, pool, repo, gate, metrics } = deps;
  const refreshFleetMetrics = fleetMetricsRefresher({ gate, repo: new FleetMetricsRepository(pool), metrics, redisReady: () => commandRedis.status === 'ready' });
  return {
    checks: async () => {
      // The workers' connection queues commands while Redis is away (so jobs resume by
      // themselves); its ping would wait for Redis too, so the probe gives up after a second.
      // Probed at once: the kubelet gives /ready 4 s.
      const [redis, postgres, storage] = await Promise.all([probe(() => workerRedis.ping()), probe(() => pool.query('select 1')), deps.storageReady()]);
      const checks: Record<string, string> = { redis, postgres, storage, worker: deps.imagesRunning() ? 'ok' : 'not running' };
      const pause = checks.redis === 'ok' ? await gate.pauseState().catch(() => null) : null;
      if (pause) checks.ai_provider = `paused: ${pause.reason}`;
      const fleet = checks.redis === 'ok' ? await gate.state().catch(() => null) : null;
      if (fleet) checks.ai_rate = rateReport(fleet.rate, gate.maxPerSecond, fleet.knownLimit);
      return checks;
    },
    advisory: ['ai_rate'],
    metrics: {
      contentType: metrics.registry.contentType,
      text: async () => {
        // While Redis is away the gauge keeps its last value rather than holding the scrape.
        if (commandRedis.status === 'ready') metrics.fleetPaused.set((await gate.isPaused().catch(() => false)) ? 1 : 0);
        const spentToday = await repo.spendTodayMicroUsd().catch(() => null);
        if (spentToday !== null) metrics.spendToday.set(spentToday);
        const fleet = commandRedis.status === 'ready' ? await gate.state().catch(() => null) : null;
        if (fleet) {
          metrics.qwenRate.set(fleet.rate);
          metrics.qwenRateKnownLimit.set(fleet.knownLimit ?? 0);
          metrics.qwenRateCuts.set(fleet.cuts);
          metrics.qwenInFlight.set(fleet.inFlight);
        }
        metrics.imageSlots.set(deps.sizing.slots.concurrency);
        metrics.imageSlotsBusy.set(deps.sizing.slots.busy);
        const binding = deps.sizing.binding.current;
        for (const limit of bindingLimits) if (limit !== 'none') metrics.bindingLimit.set({ limit }, limit === binding ? 1 : 0);
        await refreshFleetMetrics();
        return metrics.registry.metrics();
      },
    },
  };
}

/** One schedule for the whole fleet per sweep: every processor upserts the same scheduler ids. */
async function scheduleSweeps(config: ProcessorConfig, redis: RedisConnection, logger: Logger): Promise<{ close: () => Promise<unknown> }> {
  const schedules = [
    { name: JobName.RetentionSweep, every: config.RETENTION_SWEEP_EVERY_MS },
    { name: JobName.MailOutboxSweep, every: config.MAIL_SWEEP_EVERY_MS },
  ] as const;
  const queues = await Promise.all(
    schedules.map(async ({ name, every }) => {
      const sweep = jobCatalog[name];
      const queue = new Queue(sweep.queue, { connection: redis, prefix: config.QUEUE_PREFIX });
      queue.on('error', logConnectionErrors(logger, `${sweep.queue} queue`));
      await queue.upsertJobScheduler(sweep.schedulerId, { every }, { name, data: {}, opts: sweep.options });
      return queue;
    }),
  );
  return { close: () => Promise.all(queues.map((queue) => queue.close())) };
}

function rateReport(rate: number, configured: number, knownLimit: number | null): string {
  if (rate >= configured) return `ok: ${configured} calls a second (QWEN_MAX_PER_SECOND)`;
  return `adapted: ${rate.toFixed(2)} calls a second, under QWEN_MAX_PER_SECOND=${configured} after 429s${knownLimit ? `; last refused at ${knownLimit.toFixed(2)}` : ''}`;
}

/**
 * The image worker's slots follow the fleet's in-flight cap over the processors running
 * (workers/image-slots.ts), and which limit binds is sampled for /metrics.
 */
async function imageSizing(config: ProcessorConfig, redis: RedisConnection, gate: FleetGate, metrics: ProcessorMetrics) {
  const sizing = { fixed: config.WORKER_CONCURRENCY, max: config.WORKER_CONCURRENCY_MAX, spare: config.WORKER_CONCURRENCY_SPARE, inFlightCap: config.QWEN_MAX_IN_FLIGHT };
  const presence = new ProcessorPresence(redis, `${config.QUEUE_PREFIX}:processors`);
  const processors = await presence.beat().catch(() => 1);
  metrics.processorsLive.set(processors);
  metrics.qwenRateConfigured.set(config.QWEN_MAX_PER_SECOND);
  metrics.qwenInFlightCap.set(config.QWEN_MAX_IN_FLIGHT);
  const slots: ImageSlots = { concurrency: imageSlotsFor(sizing, processors), busy: 0 };
  const cpu = new CpuWork(config.RENDER_THREADS);
  const machine = new MachineCpu();
  // Pictures waiting in the queue, read once a second: full slots bind only while some wait.
  const queue = new Queue(jobCatalog[JobName.ImageProcess].queue, { connection: redis, prefix: config.QUEUE_PREFIX });
  let queued = 0;
  let counting: NodeJS.Timeout | undefined;
  const binding = new BindingLimitTracker(
    () => bindingLimitNow({ gate: gate.waits, cpuQueued: cpu.queued, machineSaturated: machine.saturated(), slots, queued }),
    (limit, seconds) => metrics.bindingLimitSeconds.inc({ limit }, seconds),
  );
  return {
    slots,
    cpu,
    binding,
    start(setConcurrency: (concurrency: number) => void, logger: Logger) {
      queue.on('error', logConnectionErrors(logger, 'image queue (counts)'));
      counting = setInterval(() => {
        queue.getJobCounts('waiting', 'prioritized').then((counts) => {
          queued = (counts.waiting ?? 0) + (counts.prioritized ?? 0);
        }, () => undefined);
      }, 1000);
      counting.unref();
      presence.start((count) => {
        metrics.processorsLive.set(count);
        const next = imageSlotsFor(sizing, count);
        if (next !== slots.concurrency) logger.info({ processors: count, concurrency: next }, 'image worker slots follow the fleet');
        setConcurrency(next);
      }, logger);
      binding.start();
    },
    close: async () => {
      clearInterval(counting);
      binding.stop();
      await Promise.all([presence.leave(), queue.close()]);
    },
  };
}

async function main(): Promise<void> {
  startTracing('processor');
  const logger = createLogger('processor');
  const config = loadConfigOrExit(loadProcessorConfig, (message) => logger.fatal(message));
  if (config.usingStandIn) logger.warn({ baseUrl: config.DASHSCOPE_BASE_URL }, 'DASHSCOPE_API_KEY is not set: calling the local stand-in');
  const prompts = loadConfigOrExit(() => loadPrompts(config.QWEN_PROMPTS_FILE), (message) => logger.fatal(message));

  const pool = createPool(config.DATABASE_URL, {}, logger);
  const workerRedis = createRedis(config, 'worker', logger);
  const commandRedis = createRedis(config, 'subscriber', logger);
  const storage = createStorage(config);
  const repo = new ImagesRepository(pool);
  const billing = new BillingClient(config.BILLING_URL, config.BILLING_SERVICE_TOKEN);
  const metrics = createProcessorMetrics();
  countPictureEndings(repo, metrics);
  metrics.spendCap.set(config.QWEN_DAILY_SPEND_CAP_MICRO_USD);
  const { gate, spend, pricesMicroUsd, fingerprint } = fleetControls(config, commandRedis, repo);
  await liftPauseWithoutCause(gate, spend, fingerprint, logger);

  const sizing = await imageSizing(config, commandRedis, gate, metrics);
  const work = processorWork(config, {
    pool, workerRedis, commandRedis, storage, repo, billing, metrics, gate, spend, pricesMicroUsd, fingerprint, prompts, logger, imageSlots: sizing.slots, cpu: sizing.cpu,
  });
  const workers = createWorkers(work.workerDeps);
  sizing.start((concurrency) => workers.setImageConcurrency(concurrency), logger);
  const stuckWatch = new StuckWorkerWatch(workers.watched, commandRedis, config.QUEUE_PREFIX, STUCK_WORKER_LOOK_MS, logger);
  stuckWatch.start();
  const sweeps = await scheduleSweeps(config, commandRedis, logger);

  const ops = opsEndpoints({ workerRedis, commandRedis, pool, repo, gate, metrics, imagesRunning: () => workers.images.isRunning(), sizing, storageReady: storageProbe(storage, 'processor') });
  // /ready's checks also feed masterpost_dependency_up, run every few seconds meanwhile (the alerts read it).
  const dependencies = new DependencyHealth(metrics.dependencyUp, { logger });
  const server = startOpsServer(config.PORT, { ...ops, checks: dependencies.watch(ops.checks, ops.advisory) }, logger);
  server.on('listening', () => logger.info({ port: config.PORT, concurrency: sizing.slots.concurrency }, 'processor listening'));

  handleShutdown(
    logger,
    [
      // Stop taking jobs and wait for the active ones; what is left runs later elsewhere.
      () => Promise.all([stuckWatch.close(), workers.close(), sweeps.close(), sizing.close()]),
      () => work.closeQueues(),
      async () => dependencies.stop(),
      () => new Promise((resolve) => server.close(resolve)),
      () => work.renderPool.close(),
      () => pool.end(),
      async () => {
        workerRedis.disconnect();
        commandRedis.disconnect();
      },
    ],
    config.SHUTDOWN_BOUND_MS,
  );
}

void main();
