import { storageKey } from '@masterpost/contracts';
import { type Logger, type Pool, type Storage } from '@masterpost/platform';

/**
 * Privacy by default: a job's uploads, Qwen outputs, cut-outs and results are deleted once
 * they are older than the retention period; the job's row stays (marked) so the seller's
 * history and the ledger still make sense. The per-seller store of Qwen outputs (reused for
 * repeated photos) goes by the same clock. Run by a BullMQ job scheduler: once per period for
 * the whole fleet, not once per process.
 */
export class RetentionHandler {
  constructor(
    private readonly deps: { pool: Pool; storage: Storage; retentionSeconds: number; logger: Logger },
  ) {}

  async handle(): Promise<{ jobs: number; cachedOutputs: number }> {
    const { pool, storage, retentionSeconds } = this.deps;
    let jobs = 0;
    for (;;) {
      const { rows } = await pool.query<{ id: string }>(
        `select id from jobs
          where files_deleted_at is null and created_at < now() - make_interval(secs => $1)
            and (status not in ('queued', 'processing') or created_at < now() - make_interval(secs => $1 * 2))
          order by created_at limit 200`,
        [retentionSeconds],
      );
      if (rows.length === 0) break;
      for (const { id } of rows) {
        await storage.deletePrefix(storageKey.job(id));
        await pool.query('update jobs set files_deleted_at = now() where id = $1', [id]);
        jobs++;
      }
    }
    const cachedOutputs = await storage.deleteOlderThan('qwen-cache', new Date(Date.now() - retentionSeconds * 1000));
    if (jobs > 0 || cachedOutputs > 0) this.deps.logger.info({ jobs, cachedOutputs }, 'retention: deleted files past the retention period');
    return { jobs, cachedOutputs };
  }
}
