import { setTimeout as sleep } from 'node:timers/promises';
import type { Schemas } from '@masterpost/client';
import { failure, isTransient, reach, unreachable, type Connection } from './gateway';
import { formatSeconds, pictureMeter } from './progress';

/**
 * Following a job: GET /api/v1/progress about once a second until the job is finished (ended,
 * and every credit of it settled, so what it charged is final). Polling rather than the event
 * stream keeps the CLI a plain request loop that survives a gateway restart: a failed poll is
 * tried again for a while instead of ending the command, since the job goes on regardless.
 */
export type Progress = Schemas['Progress'];

const POLL_MS = 1000;
/** How long the gateway may be unreachable before the command gives up (the job is not affected). */
const PATIENCE_MS = 90_000;

export async function fetchProgress(connection: Connection, jobId: string): Promise<Progress> {
  const answer = await reach(connection, () => connection.client.GET('/api/v1/progress/{jobId}', { params: { path: { jobId } } }));
  if (!answer.data) throw failure(`reading job ${jobId}`, connection, answer);
  return answer.data;
}

export const endedCount = (progress: Progress): number => progress.completed + progress.failed + progress.cancelled;

function note(progress: Progress): string {
  const parts: string[] = [];
  if (progress.failed > 0) parts.push(`${progress.failed} failed`);
  if (progress.eta_seconds > 0) parts.push(`about ${formatSeconds(progress.eta_seconds)} left`);
  return parts.length ? `(${parts.join(', ')})` : '';
}

export async function followJob(connection: Connection, jobId: string, first?: Progress): Promise<Progress> {
  let progress = first ?? (await fetchProgress(connection, jobId));
  const meter = pictureMeter('Processing', progress.total);
  let troubleSince: number | null = null;
  try {
    for (;;) {
      meter.update(endedCount(progress), note(progress));
      if (progress.finished) return progress;
      await sleep(POLL_MS);
      try {
        const answer = await connection.client.GET('/api/v1/progress/{jobId}', { params: { path: { jobId } } });
        if (answer.data) {
          progress = answer.data;
          troubleSince = null;
          continue;
        }
        if (!isTransient(answer.response.status)) throw failure(`following job ${jobId}`, connection, answer);
        troubleSince ??= Date.now();
        if (Date.now() - troubleSince > PATIENCE_MS) throw failure(`following job ${jobId}`, connection, answer);
      } catch (error) {
        // An answer that is not transient was thrown above as a CliError; a fetch that failed
        // outright (connection refused while the gateway restarts) is tried again for a while.
        if (!(error instanceof TypeError)) throw error;
        troubleSince ??= Date.now();
        if (Date.now() - troubleSince > PATIENCE_MS) throw unreachable(connection, error);
      }
    }
  } finally {
    meter.stop();
  }
}
