import http from 'node:http';
import { Queue } from 'bullmq';
import sharp from 'sharp';
import { JobName, QueueName, progressChannel } from '@masterpost/contracts';
import { BillingClient, Slots, loadConfigOrExit, logConnectionErrors, createLogger, createPool, createRedis, handleShutdown, createStorage } from '@masterpost/platform';
import { ImagesRepository } from './adapters/images.repository';
import { loadProcessorConfig } from './config';
import { ImageProcessHandler } from './handlers/image-process.handler';
import { JobFinalizeHandler } from './handlers/job-finalize.handler';
import { EditRenderHandler } from './handlers/edit-render.handler';
import { RetentionHandler } from './handlers/retention.handler';
import { createProcessorMetrics } from './metrics';
import { FleetGate } from './qwen/fleet-gate';
import { loadPrompts } from './qwen/prompts';
import { QwenOutputService } from './qwen/qwen-output.service';
import { createQwenClient } from './qwen/qwen.client';
import { SpendGuard } from './qwen/spend-guard';
import { createRenderPool } from './render/render-pool';
import { ImageSettlement } from './settlement/image-settlement';
import { createWorkers, providerFingerprint } from './worker';

// libvips keeps recent operations and decoded images in a per-process cache; with 12 MP photos
// that cache, not our work, was most of the resident memory. Each picture is decoded once anyway.
sharp.cache(false);

async function main(): Promise<void> {
  const logger = createLogger('processor');
  const config = loadConfigOrExit(loadProcessorConfig, (message) => logger.fatal(message));
  if (config.usingStandIn) logger.warn({ baseUrl: config.DASHSCOPE_BASE_URL }, 'DASHSCOPE_API_KEY is not set: calling the local stand-in');

  const pool = createPool(config.DATABASE_URL, {}, logger);
  const workerRedis = createRedis(config.REDIS_URL, 'worker', logger);
  const commandRedis = createRedis(config.REDIS_URL, 'subscriber', logger);
  const storage = createStorage(config);
  const repo = new ImagesRepository(pool);
  const billing = new BillingClient(config.BILLING_URL, config.BILLING_SERVICE_TOKEN);
  const metrics = createProcessorMetrics();
  const qwen = createQwenClient(config);
  const gate = new FleetGate(commandRedis, config.QUEUE_PREFIX, {
    maxPerSecond: config.QWEN_MAX_PER_SECOND,
    maxInFlight: config.QWEN_MAX_IN_FLIGHT,
    leaseMs: config.QWEN_LEASE_MS,
    marginMs: config.QWEN_RATE_MARGIN_MS,
  });
  const pricesMicroUsd = JSON.parse(config.QWEN_PRICES_MICRO_USD) as Record<string, number>;
  const spend = new SpendGuard(
    commandRedis,
    config.QUEUE_PREFIX,
    { dailyCapMicroUsd: config.QWEN_DAILY_SPEND_CAP_MICRO_USD, priceMicroUsd: pricesMicroUsd[config.QWEN_MODEL] ?? 0 },
    () => repo.spendTodayMicroUsd(),
  );
  // Fixing the setting is what resumes a paused fleet, without an operator touching Redis: a
  // process started with another API key lifts a provider pause, one started with a cap that
  // leaves room lifts a spend-cap pause.
  const paused = await gate.pauseState();
  const fingerprint = providerFingerprint({
    apiKey: config.DASHSCOPE_API_KEY, baseUrl: config.DASHSCOPE_BASE_URL, model: config.QWEN_MODEL, resultHosts: config.QWEN_RESULT_HOSTS,
  });
  if (
    paused &&
    ((paused.kind === 'provider' && paused.keyFingerprint !== fingerprint) || (paused.kind === 'spend_cap' && (await spend.roomForOneCall())))
  ) {
    await gate.resume();
    logger.info({ previous: paused.reason }, 'lifted a pause whose cause this process no longer has');
  }
  const publishProgress = async (jobId: string) => {
    await commandRedis.publish(progressChannel(config.QUEUE_PREFIX, jobId), 'changed');
  };
  const prompts = loadConfigOrExit(() => loadPrompts(config.QWEN_PROMPTS_FILE), (message) => logger.fatal(message));
  const qwenOutputs = new QwenOutputService({
    redis: commandRedis, prefix: config.QUEUE_PREFIX, repo, storage, qwen, prompts, gate, spend, metrics, pricesMicroUsd, keyFingerprint: fingerprint, logger,
    // As many photos prepared at once as there are render threads (about one per core): more would not be faster.
    preparing: new Slots(config.RENDER_THREADS),
  });

  const renderPool = createRenderPool(config.RENDER_THREADS);
  const settlement = new ImageSettlement({ repo, billing, storage, logger });
  const workers = createWorkers({
    connection: workerRedis,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    imageHandler: new ImageProcessHandler({ repo, storage, qwenOutputs, render: renderPool.render, settlement, metrics, publishProgress, logger }),
    finalizeHandler: new JobFinalizeHandler({ repo, billing, settlement, publishProgress, logger }),
    editHandler: new EditRenderHandler({ repo, storage, render: renderPool.render, logger }),
    retentionHandler: new RetentionHandler({ repo, storage, retentionSeconds: config.RETENTION_SECONDS, logger }),
    repo,
    settlement,
    gate,
    configFingerprint: fingerprint,
    maxThrottledTries: config.QWEN_MAX_THROTTLED_TRIES,
    pauseRecheckMs: config.QWEN_PAUSE_RECHECK_MS,
    accountPauseMs: config.QWEN_ACCOUNT_PAUSE_MS,
    lockMs: config.WORKER_LOCK_MS,
    stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
    publishProgress,
    logger,
  });

  // One schedule for the whole fleet: every processor upserts the same scheduler id.
  const maintenanceQueue = new Queue(QueueName.Maintenance, { connection: commandRedis, prefix: config.QUEUE_PREFIX });
  maintenanceQueue.on('error', logConnectionErrors(logger, 'maintenance queue'));
  await maintenanceQueue.upsertJobScheduler(
    'retention',
    { every: config.RETENTION_SWEEP_EVERY_MS },
    { name: JobName.RetentionSweep, opts: { removeOnComplete: 50, removeOnFail: 50 } },
  );

  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.url === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', pid: process.pid }));
        return;
      }
      if (req.url === '/metrics') {
        // While Redis is away the gauge keeps its last value rather than holding the scrape.
        if (commandRedis.status === 'ready') metrics.fleetPaused.set((await gate.isPaused().catch(() => false)) ? 1 : 0);
        const spentToday = await repo.spendTodayMicroUsd().catch(() => null);
        if (spentToday !== null) metrics.spendToday.set(spentToday);
        res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics());
        return;
      }
      if (req.url === '/ready') {
        const checks: Record<string, string> = {
          // The workers' connection queues commands while Redis is away (so jobs resume by
          // themselves); its ping would wait for Redis too, so the probe gives up after a second.
          redis: await probe(workerRedis.ping()),
          postgres: await probe(pool.query('select 1')),
          worker: workers.images.isRunning() ? 'ok' : 'not running',
        };
        const pause = checks.redis === 'ok' ? await gate.pauseState().catch(() => null) : null;
        if (pause) checks.ai_provider = `paused: ${pause.reason}`;
        const ok = Object.values(checks).every((value) => value === 'ok');
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ready' : 'not_ready', checks }));
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: 'no such route' } }));
    })();
  });
  server.listen(config.PORT, () => logger.info({ port: config.PORT, concurrency: config.WORKER_CONCURRENCY }, 'processor listening'));

  handleShutdown(
    logger,
    [
      // Stop taking jobs and wait for the active ones; what is left runs later elsewhere.
      () => Promise.all([workers.images.close(), workers.jobs.close(), workers.maintenance.close(), workers.edits.close(), maintenanceQueue.close()]),
      () => new Promise((resolve) => server.close(resolve)),
      () => renderPool.close(),
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

/** 'ok' when the call answers within a second, otherwise what went wrong. */
async function probe(call: Promise<unknown>, timeoutMs = 1000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([call, timeout]);
    return 'ok';
  } catch (error) {
    return `down: ${(error as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}
