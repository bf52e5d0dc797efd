import { AppError, ErrorCode, type JobSummary } from '@masterpost/contracts';
import type { JobListPosition, JobSummaryRow } from '../adapters/jobs.repository';

/**
 * The job list's cursor: the last job of a page, as `<created_at ms>.<job id>`. Opaque to
 * clients (they pass back `next_cursor`), exact for the keyset query: two jobs made in the same
 * millisecond are still told apart by their ids.
 */
const CURSOR = /^(\d{1,15})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export function readJobCursor(cursor: string | undefined): JobListPosition | null {
  if (cursor === undefined) return null;
  const match = CURSOR.exec(cursor);
  if (!match) throw new AppError(400, ErrorCode.InvalidInput, 'cursor: is not a next_cursor this list gave', { field: 'cursor' });
  return { createdAt: new Date(Number(match[1])), id: match[2]! };
}

function cursorAfter(row: JobSummaryRow): string {
  return `${row.created_at.getTime()}.${row.id}`;
}

/** A page of rows as the API answers it; `limit + 1` rows were read to know whether more follow. */
export function jobListPage(rows: JobSummaryRow[], limit: number): { jobs: JobSummary[]; next_cursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    jobs: page.map((row) => ({
      job_id: row.id,
      status: row.status,
      pipeline: row.pipeline,
      created_at: row.created_at.toISOString(),
      finished_at: row.finished_at?.toISOString() ?? null,
      total: row.total,
      completed: row.completed,
      failed: row.failed,
      cancelled: row.cancelled,
      credits_charged: row.credits_charged,
      files_deleted: row.files_deleted_at !== null,
    })),
    next_cursor: rows.length > limit && last ? cursorAfter(last) : null,
  };
}
