import { Queue, QueueEvents } from 'bullmq';
import { jobCatalog, JobName, type JobResult } from '@masterpost/contracts';
import { currentRequestId, logConnectionErrors, type RedisConnection, type Logger } from '@masterpost/platform';

/**
 * The editor's requests go to the processors like all picture work, and the gateway waits for
 * the answer (a render from a stored cutout takes well under a second).
 */
export class EditQueue {
  private readonly queue: Queue;
  private readonly events: QueueEvents;

  constructor(producer: RedisConnection, eventsConnection: RedisConnection, prefix: string, logger: Logger) {
    const edit = jobCatalog[JobName.EditRender];
    this.queue = new Queue(edit.queue, { connection: producer, prefix });
    this.events = new QueueEvents(edit.queue, { connection: eventsConnection, prefix });
    this.queue.on('error', logConnectionErrors(logger, 'edits queue'));
    this.events.on('error', logConnectionErrors(logger, 'edits queue events'));
  }

  /** Resolves with the processor's answer; rejects with its error message or after the catalog's waitMs. */
  async render(imageId: string, userId: string, settings: Record<string, unknown>, maskKey?: string): Promise<JobResult<typeof JobName.EditRender>> {
    const edit = jobCatalog[JobName.EditRender];
    const job = await this.queue.add(JobName.EditRender, edit.schema.parse({ imageId, userId, settings, requestId: currentRequestId(), ...(maskKey ? { maskKey } : {}) }), edit.options);
    return (await job.waitUntilFinished(this.events, edit.waitMs)) as JobResult<typeof JobName.EditRender>;
  }

  async close(): Promise<void> {
    await Promise.all([this.queue.close(), this.events.close()]);
  }
}
