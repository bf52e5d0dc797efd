import { storageKey, type JobName, type JobResult } from '@masterpost/contracts';
import { type Logger, type Storage } from '@masterpost/platform';
import type { ImagesRepository } from '../adapters/images.repository';

/**
 * Privacy by default: a job's uploads, Qwen outputs, cut-outs and results are deleted once
 * they are older than the retention period; the job's row stays (marked) so the seller's
 * history and the ledger still make sense. The per-seller store of Qwen outputs (reused for
 * repeated photos) goes by the same clock. Run by a BullMQ job scheduler: once per period for
 * the whole fleet, not once per process.
 */
export class RetentionHandler {
  constructor(
    private readonly deps: { repo: ImagesRepository; storage: Storage; retentionSeconds: number; logger: Logger },
  ) {}

  async handle(): Promise<JobResult<typeof JobName.RetentionSweep>> {
    const { repo, storage, retentionSeconds } = this.deps;
    let jobs = 0;
    for (;;) {
      const due = await repo.jobsPastRetention(retentionSeconds, 200);
      if (due.length === 0) break;
      for (const id of due) {
        await storage.deletePrefix(storageKey.job(id));
        await repo.markFilesDeleted(id);
        jobs++;
      }
    }
    const cachedOutputs = await storage.deleteOlderThan('qwen-cache', new Date(Date.now() - retentionSeconds * 1000));
    if (jobs > 0 || cachedOutputs > 0) this.deps.logger.info({ jobs, cachedOutputs }, 'retention: deleted files past the retention period');
    return { jobs, cachedOutputs };
  }
}
