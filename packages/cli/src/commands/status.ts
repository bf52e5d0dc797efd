import { ExitCode } from '../exit-codes';
import { fetchProgress } from '../follow-job';
import { signedIn } from '../gateway';
import { resolveJob } from '../job-argument';
import { print } from '../output';
import { jobReport, rejectedReport, runningLine } from '../report';

/**
 * `masterpost status <job>`: where a job is, from anywhere (it needs no folder). A job still
 * going is one line; a finished one gets the same report `process` ends with.
 */
export async function showStatus(job: string, options: { url?: string }): Promise<ExitCode> {
  const { jobId, rejected } = await resolveJob(job);
  const connection = await signedIn(options.url);
  const progress = await fetchProgress(connection, jobId);
  if (!progress.finished) {
    print(runningLine(progress));
    for (const line of rejectedReport(rejected)) print(line);
    return progress.failed > 0 || rejected.length > 0 ? ExitCode.SomeFailed : ExitCode.Delivered;
  }
  print(`Job ${jobId} (${progress.pipeline ?? 'never processed'}): ${progress.status.replaceAll('_', ' ')}.`);
  const report = jobReport(progress, { rejected });
  for (const line of report.lines) print(line);
  return report.exitCode;
}
