import type { Schemas } from '@masterpost/client';
import { ExitCode } from '../exit-codes';
import { failure, reach, signedIn } from '../gateway';
import { print } from '../output';

/**
 * `masterpost jobs` and `masterpost history`: what the seller did and what it cost, one line a
 * job or a movement, newest first, for reading or for `grep`/`awk` (tab-separated columns).
 */
type JobSummary = Schemas['JobSummary'];
type Movement = Schemas['HistoryPage']['items'][number];

const day = (iso: string): string => iso.slice(0, 16).replace('T', ' ');

function jobLine(job: JobSummary): string {
  const counts = `${job.completed}/${job.total} done${job.failed ? `, ${job.failed} failed` : ''}${job.cancelled ? `, ${job.cancelled} cancelled` : ''}`;
  const files = job.files_deleted ? 'files deleted' : '';
  return [day(job.created_at), job.job_id, job.status, job.pipeline ?? '-', counts, `${job.credits_charged} credits`, files].join('\t').trimEnd();
}

function movementLine(item: Movement): string {
  const delta = item.delta > 0 ? `+${item.delta}` : String(item.delta);
  const owed = item.owed_delta ? ` (owed ${item.owed_delta > 0 ? '+' : ''}${item.owed_delta})` : '';
  return [day(item.created_at), `${delta}${owed}`, item.kind, item.description].join('\t');
}

export async function listJobs(options: { url?: string; limit: number; cursor?: string }): Promise<ExitCode> {
  const connection = await signedIn(options.url);
  const answer = await reach(connection, () =>
    connection.client.GET('/api/v1/jobs', { params: { query: { limit: options.limit, ...(options.cursor ? { cursor: options.cursor } : {}) } } }),
  );
  if (!answer.data) throw failure('listing your jobs', connection, answer);
  if (answer.data.jobs.length === 0) print('No jobs yet: "masterpost process <folder> --marketplace amazon" makes one.');
  answer.data.jobs.forEach((job) => print(jobLine(job)));
  if (answer.data.next_cursor) print(`More: masterpost jobs --cursor ${answer.data.next_cursor}`);
  return ExitCode.Delivered;
}

export async function listMovements(options: { url?: string; limit: number; cursor?: string }): Promise<ExitCode> {
  const connection = await signedIn(options.url);
  const answer = await reach(connection, () =>
    connection.client.GET('/credits/history', { params: { query: { limit: options.limit, ...(options.cursor ? { cursor: options.cursor } : {}) } } }),
  );
  if (!answer.data) throw failure('reading your credit history', connection, answer);
  if (answer.data.items.length === 0) print('No credit movements yet.');
  answer.data.items.forEach((item) => print(movementLine(item)));
  if (answer.data.next_cursor) print(`More: masterpost history --cursor ${answer.data.next_cursor}`);
  return ExitCode.Delivered;
}
