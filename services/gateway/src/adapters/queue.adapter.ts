import { randomBytes } from 'node:crypto';
import { FlowProducer, Queue } from 'bullmq';
import { bullJobId, jobCatalog, JobName, QueueName } from '@masterpost/contracts';
import { currentRequestId, currentTraceparent, logConnectionErrors, tracingEnabled, type RedisConnection, type Logger } from '@masterpost/platform';

export interface QueueSettings {
  /** Tries of a picture after a transient failure, and the first backoff delay. */
  attempts: number;
  delayMs: number;
  /** How long a completed job's record stays in Redis (reliability 22: its memory stays bounded). */
  keepFinishedSeconds: number;
}

/**
 * The gateway's side of the queues: it enqueues one flow per job (a JobFinalize parent whose
 * children are one ImageProcess per picture). Payloads are validated against the job catalog
 * before they reach Redis.
 */
export class QueueAdapter {
  readonly flows: FlowProducer;
  readonly images: Queue;
  readonly jobs: Queue;
  readonly webhookDeliveries: Queue;
  readonly mail: Queue;

  constructor(
    private readonly connection: RedisConnection,
    readonly prefix: string,
    private readonly settings: QueueSettings,
    logger?: Logger,
  ) {
    this.flows = new FlowProducer({ connection, prefix });
    this.images = new Queue(QueueName.Images, { connection, prefix });
    this.jobs = new Queue(QueueName.Jobs, { connection, prefix });
    this.webhookDeliveries = new Queue(QueueName.WebhookDeliveries, { connection, prefix });
    this.mail = new Queue(QueueName.Mail, { connection, prefix });
    // Errors also surface on the calls that fail; the listeners keep them from crashing the
    // process, and log them (once per message a while, not at every reconnect).
    const log = (what: string) => (logger ? logConnectionErrors(logger, what) : () => undefined);
    this.flows.on('error', log('flow producer'));
    this.images.on('error', log('images queue'));
    this.jobs.on('error', log('jobs queue'));
    this.webhookDeliveries.on('error', log('webhook deliveries queue'));
    this.mail.on('error', log('mail queue'));
  }

  async enqueueJob(jobId: string, imageIds: string[], attemptNonce: string): Promise<void> {
    const finalize = jobCatalog[JobName.JobFinalize];
    const process = jobCatalog[JobName.ImageProcess];
    const requestId = currentRequestId();
    // The processor's spans of these jobs continue the trace of the request queuing them.
    const traceparent = currentTraceparent();
    await this.flows.add({
      name: JobName.JobFinalize,
      queueName: finalize.queue,
      data: finalize.schema.parse({ jobId, requestId, traceparent }),
      opts: { ...finalize.options, removeOnComplete: this.keepCompleted(finalize.options), jobId: bullJobId.finalize(jobId, attemptNonce) },
      children: imageIds.map((imageId) => ({
        name: JobName.ImageProcess,
        queueName: process.queue,
        data: process.schema.parse({ jobId, imageId, requestId, traceparent }),
        opts: {
          ...process.options,
          removeOnComplete: this.keepCompleted(process.options),
          attempts: this.settings.attempts,
          backoff: { ...process.options.backoff, delay: this.settings.delayMs },
          jobId: bullJobId.image(imageId, attemptNonce),
        },
      })),
    });
  }

  /**
   * A job's trace (the `traceparent` of its upload), kept beside its queue entries for as long as
   * finished jobs are kept, so that the job's process and download requests join the upload's
   * trace: one trace per picture. Only with tracing on, and never failing the request.
   */
  async rememberTrace(jobId: string, traceparent: string | undefined): Promise<void> {
    if (!traceparent) return;
    await this.connection.set(this.traceKey(jobId), traceparent, 'EX', Math.max(this.settings.keepFinishedSeconds, 24 * 3600)).catch(() => undefined);
  }

  async jobTrace(jobId: string): Promise<string | undefined> {
    if (!tracingEnabled() || !/^[0-9a-f-]{36}$/.test(jobId)) return undefined;
    return (await this.connection.get(this.traceKey(jobId)).catch(() => null)) ?? undefined;
  }

  private traceKey(jobId: string): string {
    return `${this.prefix}:trace:${jobId}`;
  }

  private keepCompleted(options: { removeOnComplete: { age: number; count: number } }) {
    return { ...options.removeOnComplete, age: this.settings.keepFinishedSeconds };
  }

  /** A delivery sent again at the seller's request: a new queue entry, the same delivery (and event id). */
  async redeliver(deliveryId: string): Promise<void> {
    const deliver = jobCatalog[JobName.WebhookDeliver];
    await this.webhookDeliveries.add(JobName.WebhookDeliver, deliver.schema.parse({ deliveryId, requestId: currentRequestId() }), {
      ...deliver.options,
      jobId: bullJobId.webhookDelivery(deliveryId, randomBytes(4).toString('hex')),
    });
  }

  /**
   * A mail already in the outbox, queued for the processor's mail worker. Its id is the job's, so
   * the outbox sweep queuing it too sends it once.
   */
  async enqueueMail(mailId: string): Promise<void> {
    const send = jobCatalog[JobName.MailSend];
    await this.mail.add(JobName.MailSend, send.schema.parse({ mailId, requestId: currentRequestId() }), { ...send.options, jobId: bullJobId.mail(mailId) });
  }

  async close(): Promise<void> {
    await Promise.all([this.flows.close(), this.images.close(), this.jobs.close(), this.webhookDeliveries.close(), this.mail.close()]);
  }
}
