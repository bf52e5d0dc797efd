import { Queue } from 'bullmq';
import { bullJobId, jobCatalog, JobName, type JobResult, type WebhookDispatchPayload } from '@masterpost/contracts';
import { logConnectionErrors, type BillingClient, type RedisConnection, type Logger } from '@masterpost/platform';
import type { WebhookDeliveriesRepository } from '../adapters/webhooks.repository';

/**
 * WebhookDispatch: an event becomes one delivery per endpoint of the seller that wants it (a
 * repeat of the event makes none: the event id is unique per endpoint), each sent by its own
 * WebhookDeliver job, so a slow or dead endpoint delays nobody else.
 */
export class WebhookDispatchHandler {
  private readonly deliveries: Queue;

  constructor(
    private readonly deps: {
      repo: WebhookDeliveriesRepository; billing: BillingClient; creditsLowThreshold: number; redis: RedisConnection; prefix: string; retryBaseMs: number; keepSeconds: number;
      logger: Logger;
    },
  ) {
    this.deliveries = new Queue(jobCatalog[JobName.WebhookDeliver].queue, { connection: deps.redis, prefix: deps.prefix });
    this.deliveries.on('error', logConnectionErrors(deps.logger, 'webhook deliveries queue'));
  }

  async handle(event: WebhookDispatchPayload): Promise<JobResult<typeof JobName.WebhookDispatch>> {
    const data = await this.contentOf(event);
    if (!data) return { deliveries: 0 };
    const payload = { id: event.eventId, type: event.type, created_at: new Date().toISOString(), data };
    const created = await this.deps.repo.createDeliveries({ eventId: event.eventId, type: event.type, userId: event.userId, payload });
    const deliver = jobCatalog[JobName.WebhookDeliver];
    for (const deliveryId of created) {
      await this.deliveries.add(JobName.WebhookDeliver, deliver.schema.parse({ deliveryId, requestId: event.requestId }), {
        ...deliver.options,
        backoff: { ...deliver.options.backoff, delay: this.deps.retryBaseMs },
        removeOnComplete: { ...deliver.options.removeOnComplete, age: this.deps.keepSeconds },
        jobId: bullJobId.webhookDelivery(deliveryId, 'first'),
      });
    }
    return { deliveries: created.length };
  }

  /** What the event says, read now (a picture or job deleted meanwhile has nothing to announce). */
  private async contentOf(event: WebhookDispatchPayload): Promise<Record<string, unknown> | null> {
    if (event.type === 'picture.done' || event.type === 'picture.failed') return this.deps.repo.pictureEvent(event.subjectId);
    if (event.type === 'credits.low') {
      const balance = await this.deps.billing.account(event.userId);
      return { available: balance.available, threshold: this.deps.creditsLowThreshold, after_job_id: event.subjectId };
    }
    if (event.type === 'endpoint.disabled') return this.deps.repo.endpointEvent(event.subjectId);
    return this.deps.repo.jobEvent(event.subjectId);
  }

  close(): Promise<void> {
    return this.deliveries.close();
  }
}
