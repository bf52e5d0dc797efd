import { Queue } from 'bullmq';
import { bullJobId, jobCatalog, JobName, type WebhookEventType } from '@masterpost/contracts';
import { currentRequestId, logConnectionErrors, type RedisConnection, type Logger } from '@masterpost/platform';

/**
 * Where events are announced: one queue entry per event, whose id is the event's, so an event
 * announced again (a retried handler, a second settler) is one event. Announcing never fails
 * the work that announces it: a picture is not failed because Redis hiccuped on its event.
 */
export class WebhookEvents {
  private readonly queue: Queue;

  constructor(redis: RedisConnection, prefix: string, private readonly logger: Logger, private readonly keepSeconds: number) {
    this.queue = new Queue(jobCatalog[JobName.WebhookDispatch].queue, { connection: redis, prefix });
    this.queue.on('error', logConnectionErrors(logger, 'webhook events queue'));
  }

  /** `key` makes the event's id (one event per key and type); `subjectId` is the picture or job it is about. */
  async announce(type: WebhookEventType, userId: string, key: string, subjectId: string): Promise<void> {
    const dispatch = jobCatalog[JobName.WebhookDispatch];
    const eventId = `evt_${type.replace('.', '_')}_${key}`;
    try {
      await this.queue.add(JobName.WebhookDispatch, dispatch.schema.parse({ eventId, type, userId, subjectId, requestId: currentRequestId() }), {
        ...dispatch.options,
        removeOnComplete: { ...dispatch.options.removeOnComplete, age: this.keepSeconds },
        jobId: bullJobId.webhookEvent(eventId),
      });
    } catch (error) {
      this.logger.error({ err: error, eventId }, 'an event could not be queued for webhooks');
    }
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
