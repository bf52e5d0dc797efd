import { Queue } from 'bullmq';
import sharp from 'sharp';
import { jobCatalog, JobName } from '@masterpost/contracts';
import {
  BillingClient, createLogger, createPool, createRedis, createStorage, handleShutdown, loadConfigOrExit, logConnectionErrors, probe, startOpsServer,
  type IORedis, type Logger, type Pool,
} from '@masterpost/platform';
import { ImagesRepository } from './adapters/images.repository';
import { loadProcessorConfig, type ProcessorConfig } from './config';
import { createProcessorMetrics, type ProcessorMetrics } from './metrics';
import { FleetGate } from './qwen/fleet-gate';
import { liftPauseWithoutCause, providerFingerprint } from './qwen/pause-lifting';
import { loadPrompts } from './qwen/prompts';
import { SpendGuard } from './qwen/spend-guard';
import { processorWork } from './composition';
import { createWorkers } from './workers/workers';

// libvips keeps recent operations and decoded images in a per-process cache; with 12 MP photos
// that cache, not our work, was most of the resident memory. Each picture is decoded once anyway.
sharp.cache(false);

/** The fleet's shared state in Redis: the DashScope gate (rate, in-flight, pause) and the day's spend. */
function fleetControls(config: ProcessorConfig, redis: IORedis, repo: ImagesRepository) {
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

/** /ready names Redis, PostgreSQL, the image worker and a provider pause; /metrics adds the fleet's pause and the day's spend. */
function opsEndpoints(deps: { workerRedis: IORedis; commandRedis: IORedis; pool: Pool; repo: ImagesRepository; gate: FleetGate; metrics: ProcessorMetrics; imagesRunning: () => boolean }) {
  const { workerRedis, commandRedis, pool, repo, gate, metrics } = deps;
  return {
    checks: async () => {
      const checks: Record<string, string> = {
        // The workers' connection queues commands while Redis is away (so jobs resume by
        // themselves); its ping would wait for Redis too, so the probe gives up after a second.
        redis: await probe(() => workerRedis.ping()),
        postgres: await probe(() => pool.query('select 1')),
        worker: deps.imagesRunning() ? 'ok' : 'not running',
      };
      const pause = checks.redis === 'ok' ? await gate.pauseState().catch(() => null) : null;
      if (pause) checks.ai_provider = `paused: ${pause.reason}`;
      return checks;
    },
    metrics: {
      contentType: metrics.registry.contentType,
      text: async () => {
        // While Redis is away the gauge keeps its last value rather than holding the scrape.
        if (commandRedis.status === 'ready') metrics.fleetPaused.set((await gate.isPaused().catch(() => false)) ? 1 : 0);
        const spentToday = await repo.spendTodayMicroUsd().catch(() => null);
        if (spentToday !== null) metrics.spendToday.set(spentToday);
        return metrics.registry.metrics();
      },
    },
  };
}

/** One schedule for the whole fleet: every processor upserts the same scheduler id. */
async function scheduleRetention(config: ProcessorConfig, redis: IORedis, logger: Logger): Promise<Queue> {
  const sweep = jobCatalog[JobName.RetentionSweep];
  const queue = new Queue(sweep.queue, { connection: redis, prefix: config.QUEUE_PREFIX });
  queue.on('error', logConnectionErrors(logger, 'maintenance queue'));
  await queue.upsertJobScheduler(sweep.schedulerId, { every: config.RETENTION_SWEEP_EVERY_MS }, { name: JobName.RetentionSweep, data: {}, opts: sweep.options });
  return queue;
}

async function main(): Promise<void> {
  const logger = createLogger('processor');
  const config = loadConfigOrExit(loadProcessorConfig, (message) => logger.fatal(message));
  if (config.usingStandIn) logger.warn({ baseUrl: config.DASHSCOPE_BASE_URL }, 'DASHSCOPE_API_KEY is not set: calling the local stand-in');
  const prompts = loadConfigOrExit(() => loadPrompts(config.QWEN_PROMPTS_FILE), (message) => logger.fatal(message));

  const pool = createPool(config.DATABASE_URL, {}, logger);
  const workerRedis = createRedis(config.REDIS_URL, 'worker', logger);
  const commandRedis = createRedis(config.REDIS_URL, 'subscriber', logger);
  const storage = createStorage(config);
  const repo = new ImagesRepository(pool);
  const billing = new BillingClient(config.BILLING_URL, config.BILLING_SERVICE_TOKEN);
  const metrics = createProcessorMetrics();
  const { gate, spend, pricesMicroUsd, fingerprint } = fleetControls(config, commandRedis, repo);
  await liftPauseWithoutCause(gate, spend, fingerprint, logger);

  const work = processorWork(config, { pool, workerRedis, commandRedis, storage, repo, billing, metrics, gate, spend, pricesMicroUsd, fingerprint, prompts, logger });
  const workers = createWorkers(work.workerDeps);
  const retention = await scheduleRetention(config, commandRedis, logger);

  const server = startOpsServer(
    config.PORT,
    opsEndpoints({ workerRedis, commandRedis, pool, repo, gate, metrics, imagesRunning: () => workers.images.isRunning() }),
    logger,
  );
  server.on('listening', () => logger.info({ port: config.PORT, concurrency: config.WORKER_CONCURRENCY }, 'processor listening'));

  handleShutdown(
    logger,
    [
      // Stop taking jobs and wait for the active ones; what is left runs later elsewhere.
      () => Promise.all([workers.close(), retention.close()]),
      () => work.closeQueues(),
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
