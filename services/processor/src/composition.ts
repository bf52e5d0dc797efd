import { Queue } from 'bullmq';
import nodemailer from 'nodemailer';
import { progressChannel, QueueName } from '@masterpost/contracts';
import { logConnectionErrors } from '@masterpost/platform';
import { Slots, type BillingClient, type RedisConnection, type Logger, type Pool, type Storage } from '@masterpost/platform';
import type { ImagesRepository } from './adapters/images.repository';
import { WebhookDeliveriesRepository } from './adapters/webhooks.repository';
import type { ProcessorConfig } from './config';
import { EditRenderHandler } from './handlers/edit-render.handler';
import { ImageProcessHandler } from './handlers/image-process.handler';
import { JobFinalizeHandler } from './handlers/job-finalize.handler';
import { RetentionHandler } from './handlers/retention.handler';
import type { ProcessorMetrics } from './metrics';
import type { FleetGate } from './qwen/fleet-gate';
import type { PromptBook } from './qwen/prompts';
import { QwenOutputService } from './qwen/qwen-output.service';
import { createQwenClient } from './qwen/qwen.client';
import type { SpendGuard } from './qwen/spend-guard';
import { createRenderPool } from './render/render-pool';
import { ImageSettlement } from './settlement/image-settlement';
import { WebhookDeliverHandler } from './webhooks/deliver.handler';
import { WebhookDispatchHandler } from './webhooks/dispatch.handler';
import { WebhookEvents } from './webhooks/webhook-events';
import { Mailer } from './mail/mailer';
import { OutboxRepository } from './mail/outbox.repository';
import { OutboxSweepHandler } from './mail/outbox-sweep.handler';
import { SendMailHandler } from './mail/send-mail.handler';
import { SellerNotices } from './mail/seller-notices';
import { ImageFailures } from './workers/image-failures';
import type { CpuWork, ImageSlots } from './workers/image-slots';
import type { WorkerDeps } from './workers/workers';

/** What the processor's work is made of: its connections and the fleet's shared controls (built in main.ts). */
export interface WorkParts {
  pool: Pool;
  workerRedis: RedisConnection;
  commandRedis: RedisConnection;
  storage: Storage;
  repo: ImagesRepository;
  billing: BillingClient;
  metrics: ProcessorMetrics;
  gate: FleetGate;
  spend: SpendGuard;
  pricesMicroUsd: Record<string, number>;
  fingerprint: string;
  prompts: PromptBook;
  logger: Logger;
  /** The image worker's slots, sized in main.ts and changed as processors come and go. */
  imageSlots: ImageSlots;
  /** The CPU work (inputs prepared, pictures rendered), counted to tell when the CPU binds. */
  cpu: CpuWork;
}

/** Every handler of the processor, each made once: the workers only run them. */
export function processorWork(config: ProcessorConfig, parts: WorkParts) {
  const { pool, workerRedis, commandRedis, storage, repo, billing, metrics, gate, spend, pricesMicroUsd, fingerprint, prompts, logger, cpu } = parts;
  const publishProgress = async (jobId: string) => {
    await commandRedis.publish(progressChannel(config.QUEUE_PREFIX, jobId), 'changed');
  };
  const qwenOutputs = new QwenOutputService({
    redis: commandRedis, prefix: config.QUEUE_PREFIX, repo, storage, qwen: createQwenClient(config), prompts, gate, spend, metrics, pricesMicroUsd,
    keyFingerprint: fingerprint, logger,
    // As many photos prepared at once as there are render threads (about one per core): more would not be faster.
    preparing: new CountedSlots(config.RENDER_THREADS, cpu),
  });
  const renderPool = countedRenders(createRenderPool(config.RENDER_THREADS), cpu);
  const events = new WebhookEvents(commandRedis, config.QUEUE_PREFIX, logger, config.FINISHED_JOBS_KEEP_SECONDS);
  const settlement = new ImageSettlement({ repo, billing, storage, logger, events });
  const webhookDeliveries = new WebhookDeliveriesRepository(pool);
  const dispatchHandler = new WebhookDispatchHandler({ repo: webhookDeliveries, billing, creditsLowThreshold: config.CREDITS_LOW_THRESHOLD, redis: commandRedis, prefix: config.QUEUE_PREFIX, retryBaseMs: config.WEBHOOK_RETRY_BASE_MS, keepSeconds: config.FINISHED_JOBS_KEEP_SECONDS, logger });
  const mail = mailWork(config, parts);
  const workerDeps: WorkerDeps = {
    fleet: { connection: workerRedis, prefix: config.QUEUE_PREFIX, lockMs: config.WORKER_LOCK_MS, stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS, logger },
    imageSlots: parts.imageSlots,
    imageHandler: new ImageProcessHandler({ repo, storage, qwenOutputs, render: renderPool.render, settlement, metrics, publishProgress, logger, driftThresholds: config.driftThresholds }),
    imageFailures: new ImageFailures({
      connection: workerRedis, prefix: config.QUEUE_PREFIX, repo, settlement, gate, configFingerprint: fingerprint, maxThrottledTries: config.QWEN_MAX_THROTTLED_TRIES,
      pauseRecheckMs: config.QWEN_PAUSE_RECHECK_MS, accountPauseMs: config.QWEN_ACCOUNT_PAUSE_MS, publishProgress, logger,
    }),
    finalizeHandler: new JobFinalizeHandler({ repo, billing, settlement, publishProgress, logger, events, creditsLowThreshold: config.CREDITS_LOW_THRESHOLD, notices: mail.notices }),
    dispatchHandler,
    deliverHandler: new WebhookDeliverHandler({
      deliveries: webhookDeliveries,
      settings: { allowedHosts: config.WEBHOOK_ALLOWED_HOSTS.map((host) => host.toLowerCase()), timeoutMs: config.WEBHOOK_TIMEOUT_MS, disableAfterMs: config.WEBHOOK_DISABLE_AFTER_MS },
      logger,
      events,
      notices: mail.notices,
    }),
    editHandler: new EditRenderHandler({ repo, storage, render: renderPool.render, logger }),
    retentionHandler: new RetentionHandler({ repo, storage, retentionSeconds: config.RETENTION_SECONDS, logger }),
    mailHandler: mail.sendHandler,
    outboxSweepHandler: mail.sweepHandler,
    logger,
  };
  return {
    workerDeps,
    renderPool,
    /** The queues the webhooks announce and deliver through. */
    closeQueues: () => Promise.all([events.close(), dispatchHandler.close(), mail.queue.close(), mail.sendHandler.close()]),
  };
}

/** Mail: the outbox's sender (nodemailer over SMTP_URL), its sweep, and the processor's own notices. */
function mailWork(config: ProcessorConfig, parts: WorkParts) {
  const outbox = new OutboxRepository(parts.pool);
  const queue = new Queue(QueueName.Mail, { connection: parts.commandRedis, prefix: config.QUEUE_PREFIX });
  queue.on('error', logConnectionErrors(parts.logger, 'mail queue'));
  const transport = config.SMTP_URL ? nodemailer.createTransport(config.SMTP_URL) : null;
  const mailer = new Mailer({ pool: parts.pool, mailQueue: queue, logger: parts.logger });
  return {
    queue,
    notices: new SellerNotices({ pool: parts.pool, mailer, publicUrl: config.PUBLIC_URL, lowBalanceEverySeconds: config.LOW_BALANCE_MAIL_EVERY_SECONDS }),
    sendHandler: new SendMailHandler({ outbox, transport, from: config.MAIL_FROM, logger: parts.logger }),
    // A queued mail is taken within a second or two; one waiting longer was not queued.
    sweepHandler: new OutboxSweepHandler({ outbox, mailQueue: queue, olderThanSeconds: 2 }),
  };
}

/** The render pool, its renders counted as CPU work. */
function countedRenders(pool: ReturnType<typeof createRenderPool>, cpu: CpuWork): ReturnType<typeof createRenderPool> {
  const { render } = pool;
  return {
    ...pool,
    render: {
      fromQwenOutput: (...args) => cpu.run(() => render.fromQwenOutput(...args)),
      fromCutout: (...args) => cpu.run(() => render.fromCutout(...args)),
      withMask: (...args) => cpu.run(() => render.withMask(...args)),
    },
  };
}

/** Slots whose entries are counted as CPU work. */
class CountedSlots extends Slots {
  constructor(
    size: number,
    private readonly cpu: CpuWork,
  ) {
    super(size);
  }

  override run<T>(work: () => Promise<T>): Promise<T> {
    return this.cpu.run(() => super.run(work));
  }
}
