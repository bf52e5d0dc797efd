import { bullJobId, jobCatalog, JobName, type JobResult } from '@masterpost/contracts';
import type { Queue } from 'bullmq';
import type { OutboxRepository } from './outbox.repository';

/**
 * Queues the outbox's mails that no one queued: billing writes receipts without a queue, and a
 * gateway may have stored a mail and then failed to reach Redis. The job id is the mail's, so a
 * mail already queued is not queued twice.
 */
export class OutboxSweepHandler {
  constructor(private readonly deps: { outbox: OutboxRepository; mailQueue: Queue; olderThanSeconds: number }) {}

  async handle(): Promise<JobResult<typeof JobName.MailOutboxSweep>> {
    const ids = await this.deps.outbox.unsentOlderThan(this.deps.olderThanSeconds, 500);
    const { options } = jobCatalog[JobName.MailSend];
    await this.deps.mailQueue.addBulk(ids.map((mailId) => ({ name: JobName.MailSend, data: { mailId }, opts: { ...options, jobId: bullJobId.mail(mailId) } })));
    return { queued: ids.length };
  }
}
