import { ExitCode } from '../exit-codes';
import { fetchProgress } from '../follow-job';
import { failure, reach, signedIn } from '../gateway';
import { resolveJob } from '../job-argument';
import { plural, print, say } from '../output';
import { confirmDanger } from '../prompt';

/**
 * `masterpost cancel <job>` and `masterpost delete <job>`: stopping a job's pictures not yet
 * started (their reserved credits go back), and deleting a job with every file of it. Pictures
 * already delivered stay charged either way: they were made.
 */

export async function cancelJob(job: string, options: { url?: string }): Promise<ExitCode> {
  const { jobId } = await resolveJob(job);
  const connection = await signedIn(options.url);
  const answer = await reach(connection, () => connection.client.POST('/api/v1/jobs/{jobId}/cancel', { params: { path: { jobId } } }));
  if (!answer.data) throw failure(`cancelling job ${jobId}`, connection, answer);
  print(`Cancelled job ${jobId}: the pictures not yet started will not be made; ${plural(answer.data.released_credits, 'credit')} released.`);
  print(`Pictures already delivered are kept (and charged): masterpost download ${jobId}`);
  return ExitCode.Delivered;
}

export async function deleteJob(job: string, options: { url?: string; yes?: boolean }): Promise<ExitCode> {
  const { jobId, folder } = await resolveJob(job);
  const connection = await signedIn(options.url);
  // Read first: an unknown job is refused before the question, and the question says what goes.
  const progress = await fetchProgress(connection, jobId);
  const what = `job ${jobId} (${progress.pipeline ?? 'never processed'}, ${plural(progress.total, 'picture')}, ${progress.status.replaceAll('_', ' ')})`;
  const running = !progress.finished ? ' Pictures not yet made are cancelled first.' : '';
  if (!(await confirmDanger(`Delete ${what} and every file of it at the gateway? It cannot be undone.${running}`, `delete job ${jobId}`, options.yes))) {
    say('Nothing was deleted.');
    return ExitCode.Usage;
  }
  const answer = await reach(connection, () => connection.client.DELETE('/api/v1/jobs/{jobId}', { params: { path: { jobId } } }));
  if (!answer.data) throw failure(`deleting job ${jobId}`, connection, answer);
  const released = answer.data.released_credits ? `; ${plural(answer.data.released_credits, 'credit')} released` : '';
  print(`Deleted ${what}: its photos and pictures are gone from the gateway${released}.`);
  if (folder) print(`The copies downloaded into ${folder} are yours and were not touched.`);
  return ExitCode.Delivered;
}
