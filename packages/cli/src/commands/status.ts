import { ExitCode } from '../exit-codes';
import { fetchProgress } from '../follow-job';
import { signedIn } from '../gateway';
import { resolveJob } from '../job-argument';
import { print } from '../output';
import { jobReport, pictureLine, rejectedReport, runningLine } from '../report';

/**
 * `masterpost status <job>`: where a job is, from anywhere (it needs no folder). A job still
 * going is one line; a finished one gets the same report `process` ends with.
 */
export async function showStatus(job: string, options: { url?: string; pictures?: boolean }): Promise<ExitCode> {
  const { jobId, rejected } = await resolveJob(job);
  const connection = await signedIn(options.url);
  const progress = await fetchProgress(connection, jobId);
  // Each picture with its id, checks and drift report, after the summary: what `edit` and `image` take.
  const pictures = () => {
    if (!options.pictures) return;
    print('Pictures (id, file, status, marketplace checks, drift):');
    for (const picture of progress.images) print(`  ${pictureLine(picture)}`);
  };
  if (!progress.finished) {
    print(runningLine(progress));
    for (const line of rejectedReport(rejected)) print(line);
    pictures();
    return progress.failed > 0 || rejected.length > 0 ? ExitCode.SomeFailed : ExitCode.Delivered;
  }
  print(`Job ${jobId} (${progress.pipeline ?? 'never processed'}): ${progress.status.replaceAll('_', ' ')}.`);
  const report = jobReport(progress, { rejected });
  for (const line of report.lines) print(line);
  pictures();
  return report.exitCode;
}
